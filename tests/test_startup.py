"""Start-up: a fresh database is migrated and the college's diagrams in processes/ deploy."""

from __future__ import annotations

import logging

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import select

from xueji.app import create_app
from xueji.config import PROJECT_ROOT, Settings
from xueji.db.migrate import alembic_config
from xueji.db.session import session_scope
from xueji.definitions.repository import latest_versions
from xueji.definitions.service import deploy
from xueji.models import ProcessDefinition
from xueji.startup import prepare
from xueji.wiring import build_runtime


def test_first_start_deploys_every_process_and_a_second_changes_nothing(tmp_path):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}",
        data_dir=tmp_path,
        secret_key="test",
        run_worker=False,
        demo=True,
    )
    runtime = build_runtime(settings)
    try:
        prepare(runtime)
        prepare(runtime)
        with runtime.db.reader() as session:
            deployed = {(d.key, d.version) for d in latest_versions(session, kind=None)}
    finally:
        runtime.db.dispose()
    stems = {p.stem for p in (PROJECT_ROOT / "processes").glob("*.bpmn")}
    stems |= {p.stem for p in (PROJECT_ROOT / "processes").glob("*.dmn")}
    assert {key for key, _ in deployed} >= stems
    assert {version for _, version in deployed} == {1}
    assert len(stems) == 12  # ten processes and two decision tables


def test_an_upload_made_before_the_sources_migration_survives_the_next_start(tmp_path):
    """Migration 0009 takes existing "system" versions as the directory's and computes their
    hashes as start-up would, so the first start after upgrading keeps an uploaded version."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}",
        data_dir=tmp_path,
        secret_key="test",
        run_worker=False,
    )
    runtime = build_runtime(settings)

    def rows():
        with runtime.db.reader() as session:
            query = select(ProcessDefinition).order_by(ProcessDefinition.id)
            return [(d.key, d.version, d.source, d.source_hash) for d in session.scalars(query)]

    def migrate(step, revision):
        config = alembic_config()
        with runtime.db.engine.begin() as connection:
            config.attributes["connection"] = connection
            step(config, revision)

    try:
        prepare(runtime)
        changed = (
            (PROJECT_ROOT / "processes" / "status_change.bpmn")
            .read_bytes()
            .replace("学籍异动".encode(), "学籍异动（管理员版）".encode(), 1)
        )
        with session_scope(runtime.db.writer) as session:
            deploy(session, {"status_change.bpmn": changed}, "admin", 1 << 24, runtime.services)
        before = rows()
        assert ("status_change", 2, "upload") in {r[:3] for r in before}
        migrate(command.downgrade, "0008")
        migrate(command.upgrade, "head")
        assert rows() == before  # the same sources and hashes as deploying them gave
        prepare(runtime)
        assert rows() == before
        with runtime.db.reader() as session:
            latest = {d.key: d.version for d in latest_versions(session)}
        assert latest["status_change"] == 2
    finally:
        runtime.db.dispose()


def test_demo_mode_tells_the_demo_accounts_in_the_log_and_to_the_login_page(tmp_path, caplog):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}",
        data_dir=tmp_path,
        secret_key="test",
        run_worker=False,
        demo=True,
        processes_dir=tmp_path / "no-processes",
    )
    runtime = build_runtime(settings)
    try:
        with caplog.at_level(logging.INFO, logger="xueji.startup"):
            prepare(runtime)
        assert "demo accounts, password 'demo'" in caplog.text
        assert "stu1001    张伟（学生 S01）" in caplog.text
        assert "registrar  学籍管理员（学院学籍管理）" in caplog.text

        demo = TestClient(create_app(settings, runtime, prepare_on_start=False))
        listed = demo.get("/api/v1/demo/accounts").json()  # no login needed
        assert listed["password"] == "demo"
        accounts = {a["username"]: a for a in listed["accounts"]}
        assert accounts["station1"] == {
            "username": "station1",
            "name": "郑州函授站",
            "role": "函授站",
            "station": "S01",
        }
        assert {"admin", "leader", "prov_edu", "stu1001", "stu2003"} <= set(accounts)
        # the demo's password works for every account listed
        token = demo.post("/api/v1/auth/token", data={"username": "stu2003", "password": "demo"})
        assert token.status_code == 200

        production = TestClient(
            create_app(settings.model_copy(update={"demo": False}), runtime, False)
        )
        assert production.get("/api/v1/demo/accounts").status_code == 404
    finally:
        runtime.db.dispose()
