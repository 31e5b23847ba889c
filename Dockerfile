FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY src ./src
COPY migrations ./migrations
COPY processes ./processes
COPY forms ./forms
RUN pip install --no-cache-dir -e . && useradd --create-home xueji && mkdir -p /app/var \
    && chown xueji /app/var
USER xueji
EXPOSE 8000
CMD ["xueji", "serve", "--host", "0.0.0.0", "--port", "8000"]
