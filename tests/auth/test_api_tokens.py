"""API tokens: a default and a maximum lifetime, listed with expiry, revocation and last use,
revoked by an admin at once, refused once expired."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from tests.auth.support import bearer
from tests.helpers import auth
from xueji import clock
from xueji.cli import app as cli_app
from xueji.config import Settings, get_settings
from xueji.db.migrate import alembic_config
from xueji.db.session import session_scope
from xueji.models import ApiToken
from xueji.wiring import build_runtime


def create(client, expect=201, **body):
    response = client.post(
        "/api/v1/api-tokens",
        json={"name": "chsi-sync", "role": "chsi", **body},
        headers=auth(client, "admin"),
    )
    assert response.status_code == expect, response.text
    return response.json()


def listed(client, **params):
    response = client.get("/api/v1/api-tokens", params=params, headers=auth(client, "admin"))
    assert response.status_code == 200, response.text
    return {t["id"]: t for t in response.json()}


def parse(value: str):
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def close_to(value: str, expected, slack=timedelta(minutes=1)) -> bool:
    return abs(parse(value) - expected) < slack


def test_lifetime_defaults_to_a_year_and_is_capped(client):
    default = create(client)
    assert close_to(default["expires_at"], clock.now() + timedelta(days=365))
    assert default["active"] is True and default["token"].startswith("xjt_")
    short = create(client, expires_in_days=30)
    assert close_to(short["expires_at"], clock.now() + timedelta(days=30))
    legacy = create(client, days=7)  # the older field name (the admin page sends it)
    assert close_to(legacy["expires_at"], clock.now() + timedelta(days=7))
    assert create(client, expires_in_days=730)["active"] is True
    too_long = create(client, expect=422, expires_in_days=731)
    assert too_long["error"] == "InvalidInput"
    assert too_long["detail"] == [{"field": "expires_in_days", "message": "at most 730 days"}]
    create(client, expect=422, expires_in_days=0)


def test_listing_shows_expiry_revocation_and_last_use_without_the_secret(client):
    made = create(client, expires_in_days=10)
    row = listed(client)[made["id"]]
    assert row["token"] is None and row["last_used_at"] is None and row["revoked_at"] is None
    assert row["created_by"] == "admin" and row["expires_at"] == made["expires_at"]

    assert (
        client.get("/api/v1/process-definitions", headers=bearer(made["token"])).status_code == 200
    )
    used = listed(client)[made["id"]]["last_used_at"]
    assert used is not None and close_to(used, clock.now())
    # Not written again on every request.
    client.get("/api/v1/process-definitions", headers=bearer(made["token"]))
    assert listed(client)[made["id"]]["last_used_at"] == used

    assert client.get("/api/v1/api-tokens", headers=auth(client, "registrar")).status_code == 403


def test_a_revoked_token_is_refused_at_once(client):
    made = create(client)
    headers = bearer(made["token"])
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    revoked = client.delete(f"/api/v1/api-tokens/{made['id']}", headers=auth(client, "admin"))
    assert revoked.status_code == 204 and revoked.content == b""
    after = client.get("/api/v1/me", headers=headers)
    assert after.status_code == 401 and after.json()["error"] == "NotAuthenticated"

    assert made["id"] not in listed(client)
    row = listed(client, include_revoked="true")[made["id"]]
    assert row["active"] is False and row["revoked_by"] == "admin"
    assert close_to(row["revoked_at"], clock.now())

    again = client.delete(f"/api/v1/api-tokens/{made['id']}", headers=auth(client, "admin"))
    assert again.status_code == 204
    assert listed(client, include_revoked="true")[made["id"]]["revoked_at"] == row["revoked_at"]
    missing = client.delete("/api/v1/api-tokens/999999", headers=auth(client, "admin"))
    assert missing.status_code == 404
    other = create(client)
    forbidden = client.delete(
        f"/api/v1/api-tokens/{other['id']}", headers=auth(client, "registrar")
    )
    assert forbidden.status_code == 403
    assert client.get("/api/v1/me", headers=bearer(other["token"])).status_code == 200


def test_an_expired_token_is_refused(client, db):
    made = create(client, expires_in_days=1)
    headers = bearer(made["token"])
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with session_scope(db.db.writer) as session:
        row = session.get(ApiToken, made["id"])
        row.expires_at = clock.now() - timedelta(seconds=1)
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert listed(client)[made["id"]]["active"] is False  # still listed, as expired


@pytest.fixture
def cli_env(db, monkeypatch):
    monkeypatch.setenv("XUEJI_DATABASE_URL", db.settings.database_url)
    monkeypatch.setenv("XUEJI_DATA_DIR", str(db.settings.data_dir))
    monkeypatch.setenv("XUEJI_SECRET_KEY", db.settings.secret_key)
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


def test_cli_tokens_create_takes_days_within_the_maximum(cli_env):
    runner = CliRunner()
    made = runner.invoke(cli_app, ["tokens", "create", "exporter", "--role", "chsi", "--days", "3"])
    assert made.exit_code == 0, made.output
    default = runner.invoke(cli_app, ["tokens", "create", "exporter2", "--role", "chsi"])
    assert default.exit_code == 0, default.output
    too_long = runner.invoke(
        cli_app, ["tokens", "create", "exporter3", "--role", "chsi", "--days", "1000"]
    )
    assert too_long.exit_code == 1 and "at most 730 days" in too_long.output
    with cli_env.db.reader() as session:
        rows = {r.name: r for r in session.scalars(select(ApiToken))}
    assert set(rows) == {"exporter", "exporter2"}
    assert abs(rows["exporter"].expires_at - (clock.now() + timedelta(days=3))) < timedelta(
        minutes=1
    )
    assert abs(rows["exporter2"].expires_at - (clock.now() + timedelta(days=365))) < timedelta(
        minutes=1
    )


def test_tokens_without_expiry_get_a_year_from_the_upgrade(tmp_path):
    """Migration 0011: tokens made before it never expired; they expire a year on."""
    from alembic import command

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}",
        data_dir=tmp_path,
        secret_key="test",
        run_worker=False,
    )
    runtime = build_runtime(settings)

    def migrate(revision):
        config = alembic_config()
        with runtime.db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    try:
        migrate("0010")
        with runtime.db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO api_tokens (name, role_key, token_hash, created_by, created_at)"
                    " VALUES ('old', 'chsi', :hash, 'admin', '2025-01-01 00:00:00.000000')"
                ),
                {"hash": "0" * 64},
            )
        migrate("head")
        with runtime.db.reader() as session:
            [row] = session.scalars(select(ApiToken))
        assert abs(row.expires_at - (clock.now() + timedelta(days=365))) < timedelta(minutes=1)
        assert row.last_used_at is None and row.revoked_at is None
    finally:
        runtime.db.dispose()
