#!/usr/bin/env bash
# Build the web UI (web/dist) when it is missing or older than its sources:
# `npm ci` then `npm run build`. Needs Node.js 20+ and npm. FORCE=1 rebuilds anyway.
set -euo pipefail
cd "$(dirname "$0")/../web"

needs_build() {
  [ "${FORCE:-0}" = "1" ] && return 0
  [ -f dist/index.html ] || return 0
  # Anything in the sources newer than the last build?
  [ -n "$(find src index.html vite.config.js package.json package-lock.json -newer dist/index.html -print -quit 2>/dev/null)" ]
}

if ! needs_build; then
  echo "web/dist is up to date"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "build_web.sh: npm not found; install Node.js 20+ (e.g. apt-get install nodejs npm)" >&2
  exit 1
fi
echo "building web/dist …"
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
# The build rewrites dist/; mark it as newer than every source it was built from.
touch dist/index.html
