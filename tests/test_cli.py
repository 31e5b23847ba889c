"""The `xueji` command against the test database."""

from __future__ import annotations

import uuid

import pytest
from typer.testing import CliRunner

from tests.helpers import FIXTURES
from xueji.cli import app
from xueji.config import get_settings

runner = CliRunner()


@pytest.fixture
def cli_env(db, monkeypatch):
    monkeypatch.setenv("XUEJI_DATABASE_URL", db.settings.database_url)
    monkeypatch.setenv("XUEJI_DATA_DIR", str(db.settings.data_dir))
    monkeypatch.setenv("XUEJI_SECRET_KEY", db.settings.secret_key)
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


def test_db_upgrade_is_idempotent(cli_env):
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "newest revision" in result.output


def test_deploy_prints_versions_and_problems(cli_env):
    files = [
        str(FIXTURES / n)
        for n in (
            "review.bpmn",
            "review_start.schema.json",
            "review_apply.schema.json",
            "review_apply.uischema.json",
            "review_decide.schema.json",
        )
    ]
    first = runner.invoke(app, ["deploy", *files])
    assert first.exit_code == 0, first.output
    assert first.output.strip() == "review v1 (new)"
    again = runner.invoke(app, ["deploy", *files])
    assert again.output.strip() == "review v1 (unchanged)"
    bad = runner.invoke(app, ["deploy", str(FIXTURES / "review.bpmn")])
    assert bad.exit_code == 0  # its forms are deployed already
    broken = FIXTURES.parent / "fixtures" / "steps.bpmn"
    failed = runner.invoke(app, ["deploy", str(broken)])
    assert failed.exit_code == 1
    assert "steps.bpmn:" in failed.output and "steps_enter.schema.json" in failed.output


def test_users_and_tokens_can_be_created_and_used(cli_env, client):
    name = f"clerk_{uuid.uuid4().hex[:6]}"
    created = runner.invoke(
        app,
        [
            "users",
            "create",
            name,
            "--role",
            "station",
            "--station",
            "S02",
            "--display-name",
            "洛阳站办事员",
        ],
        input="s3cret-pass\ns3cret-pass\n",
    )
    assert created.exit_code == 0, created.output
    login = client.post("/api/v1/auth/token", data={"username": name, "password": "s3cret-pass"})
    assert login.status_code == 200
    me = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
    )
    assert me.json()["station"] == "S02" and me.json()["roles"] == ["station"]

    issued = runner.invoke(app, ["tokens", "create", f"photo-{name}", "--role", "photo_agency"])
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip()
    assert token.startswith("xjt_")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["roles"] == ["photo_agency"]

    unknown = runner.invoke(app, ["tokens", "create", "x", "--role", "dean"])
    assert unknown.exit_code == 1
    assert "unknown roles: dean" in unknown.output


def test_worker_once_fires_what_is_due_at_the_given_instant(cli_env, client):
    from tests.helpers import auth, deploy, tasks_of

    deploy(client, "deadline.bpmn")
    client.post(
        "/api/v1/process-definitions/deadline/start",
        json={"variables": {}},
        headers=auth(client, "station1"),
    )
    early = runner.invoke(app, ["worker", "--once", "--now", "2027-03-24T23:00:00+08:00"])
    assert early.exit_code == 0, early.output
    assert early.output.strip() == "fired 0 timer(s); 0 could not fire"
    due = runner.invoke(app, ["worker", "--once", "--now", "2027-03-25T00:00:01+08:00"])
    assert due.output.strip() == "fired 1 timer(s); 0 could not fire"
    assert [t["name"] for t in tasks_of(client, "registrar")] == ["催报"]
    naive = runner.invoke(app, ["worker", "--once", "--now", "2027-03-25T00:00:01"])
    assert naive.exit_code == 2
