"""Run the reliability suites and write docs/reliability.md from what they printed.

    .venv/bin/python -m tools.reliability_report          # the short setting (as in CI)
    .venv/bin/python -m tools.reliability_report --full   # 200 race rounds, 100 fuzz
                                                          # examples, 5 crashes × 100 cases

Each suite runs on SQLite and, when the machine's PostgreSQL answers, on PostgreSQL; the
figures in the document are the lines the suites printed in that run (their "reliability
figures" section and pytest's closing line), with the benchmarks of bench/scripts.py and
bench/hostile_xml.py run beside them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POSTGRESQL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SUITES = [
    "tests/reliability",
    "tests/engine/test_sandbox.py",
    "tests/engine/test_scripting.py",
    "tests/engine/test_xml.py",
    "tests/engine/test_size_limits.py",
    "tests/api/test_input_limits.py",
    "tests/api/test_bad_numbers.py",
    "tests/auth",
]
FULL = {
    "XUEJI_RACE_ROUNDS": "200",
    "XUEJI_FUZZ_EXAMPLES": "100",
    "XUEJI_CRASH_ROUNDS": "5",
    "XUEJI_CRASH_INSTANCES": "100",
    "XUEJI_CRASH_TIMERS": "150",
}
PROMISES = [
    (
        "Two writers on one case: one wins, the other gets 409; no history line doubled or lost;"
        " inbox rows match the engine state",
        "tests/reliability/test_races_many.py",
    ),
    (
        "Every acknowledged completion survives a SIGKILL of the server; nothing half-applied;"
        " timers due during an outage fire once",
        "tests/reliability/test_crash_recovery.py",
    ),
    (
        "Scripts cannot escape, stall the server or exhaust its memory; unstorable values are"
        " refused by name",
        "tests/engine/test_sandbox.py, tests/engine/test_scripting.py, bench/scripts.py",
    ),
    (
        "Every route refuses no/expired/tampered/revoked tokens (401) and answers 404 outside the"
        " caller's scope, never naming another station's students",
        "tests/reliability/test_access_matrix.py",
    ),
    (
        "No input makes a 5xx",
        "tests/reliability/test_openapi_fuzz.py,"
        " tests/reliability/test_bounded_inputs.py, tests/api/test_bad_numbers.py",
    ),
    (
        "Hostile XML is refused fast with bounded memory; large diagrams are refused with a size"
        " limit",
        "tests/engine/test_xml.py, tests/engine/test_size_limits.py, bench/hostile_xml.py",
    ),
    ("Forms are closed, bodies are bounded", "tests/api/test_input_limits.py"),
    (
        "Logins are throttled, cost the same for unknown users; tokens expire and are revocable",
        "tests/auth/",
    ),
]


def postgresql_up() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"], check=False).returncode == 0


LOGS = ROOT / "var" / "reliability"


def run(command: list[str], env: dict[str, str], log: str) -> str:
    """Run a suite; its whole output is kept in var/reliability/<log>.log."""
    done = subprocess.run(
        command, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    LOGS.mkdir(parents=True, exist_ok=True)
    (LOGS / f"{log}.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(
            f"{' '.join(command)} failed ({done.returncode}); output in {LOGS / log}.log"
        )
    return done.stdout


def figures(output: str) -> list[str]:
    """The "reliability figures" section and pytest's closing line."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if "reliability figures" in line), None)
    shown = []
    if start is not None:
        for line in lines[start + 1 :]:
            if line.startswith("=") or line.startswith("SKIPPED") or line.startswith("PASSED"):
                break
            shown.append(line)
    closing = next((ln.strip("= ") for ln in reversed(lines) if " passed" in ln), "?")
    if closing not in shown:  # pytest -q prints it without the "=" that ends the section
        shown.append(closing)
    return shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the full setting")
    args = parser.parse_args()
    setting = dict(FULL) if args.full else {}
    databases = [("SQLite", {})] + (
        [("PostgreSQL", {"XUEJI_TEST_DATABASE_URL": POSTGRESQL})] if postgresql_up() else []
    )
    python = sys.executable
    sections = []
    for name, env in databases:
        started = dt.datetime.now()
        output = run(
            [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITES],
            {**setting, **env},
            name.lower(),
        )
        took = (dt.datetime.now() - started).total_seconds()
        sections.append((name, took, figures(output)))
    benches = [
        (script, run([python, script], {}, Path(script).stem))
        for script in ("bench/scripts.py", "bench/hostile_xml.py")
    ]
    write(args.full, setting, sections, benches)


def write(full: bool, setting: dict[str, str], sections, benches) -> None:
    lines = [
        "# Reliability and security: what was tried, and what held",
        "",
        f"Generated by `python -m tools.reliability_report{' --full' if full else ''}` on"
        f" {dt.date.today().isoformat()} ({'full' if full else 'short'} setting"
        + (": " + ", ".join(f"{k}={v}" for k, v in setting.items()) if setting else "")
        + "), on this project's 2-core machine. Do not edit by hand: run the command again.",
        "",
        "| promise | shown by |",
        "| --- | --- |",
        *(f"| {promise} | {where} |" for promise, where in PROMISES),
        "",
    ]
    for name, took, shown in sections:
        lines += [f"## {name} ({took:.0f} s)", "", "```", *shown, "```", ""]
    for script, output in benches:
        lines += [f"## `python {script}`", "", "```", *output.rstrip().splitlines(), "```", ""]
    target = ROOT / "docs" / "reliability.md"
    target.parent.mkdir(exist_ok=True)
    target.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
