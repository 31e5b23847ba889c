# The UI, built with Node.js; the service, with Python. (Not built on the dev machines here:
# they have no Docker engine; docker-compose.yml is checked by tests/test_compose.py.)
FROM node:20-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY src ./src
COPY migrations ./migrations
COPY processes ./processes
COPY forms ./forms
COPY --from=web /web/dist ./web/dist
RUN pip install --no-cache-dir -e . && useradd --create-home xueji && mkdir -p /app/var/uploads \
    && chown -R xueji /app/var
USER xueji
EXPOSE 8000
CMD ["xueji", "serve", "--host", "0.0.0.0", "--port", "8000"]
