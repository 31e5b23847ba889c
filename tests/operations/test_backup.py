"""`xueji backup` and `xueji restore` as an operator runs them (subprocesses): a backup taken
while the service runs, restored into a newly created empty database, and every instance
loaded from it through the engine."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.helpers import FIXTURES
from tests.test_cli_subprocess import Server, http, login, make_env, new_database, run
from xueji.config import Settings
from xueji.instances.steps import load_workflow
from xueji.models import ProcessInstance, User, UserTask
from xueji.wiring import build_runtime

__all__ = ["new_database"]  # the fixture, shared with the CLI tests


def _counts(runtime) -> tuple[int, int, int]:
    with runtime.db.reader() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (ProcessInstance, UserTask, User)
        )


def test_a_backup_restores_into_an_empty_database_with_every_instance_loadable(
    new_database, tmp_path
):
    source_url = new_database()
    env = make_env(source_url, tmp_path / "source", XUEJI_PASSWORD_HASHING="fast")
    server = Server(env, ("--demo",)).start()
    try:
        with http(server) as api:
            admin = login(api, "admin")
            files = [("files", (p.name, p.read_bytes())) for p in (FIXTURES / "deadline.bpmn",)]
            assert api.post("/api/v1/deployments", files=files, headers=admin).status_code == 201
            station = login(api, "station1")
            started = [
                api.post(
                    "/api/v1/process-definitions/deadline/start",
                    json={"variables": {}},
                    headers=station,
                ).json()["id"]
                for _ in range(3)
            ]
            task = api.get("/api/v1/tasks", headers=station).json()["items"][0]
            done = api.post(
                f"/api/v1/tasks/{task['id']}/complete", json={"data": {}}, headers=station
            )
            assert done.status_code == 200, done.text
            file = tmp_path / "xueji.backup"
            taken = run(env, "backup", str(file))  # while the service runs
            assert taken.returncode == 0, taken
            assert file.stat().st_size > 0
    finally:
        server.stop()

    target_url = new_database()
    target_env = make_env(target_url, tmp_path / "target")
    restored = run(target_env, "restore", str(file))
    assert restored.returncode == 0, restored
    again = run(target_env, "restore", str(file))
    assert again.returncode == 1 and "not empty" in again.stderr, again
    assert "Traceback" not in again.stderr

    original = build_runtime(Settings(database_url=source_url, data_dir=tmp_path / "v1"))
    copy = build_runtime(Settings(database_url=target_url, data_dir=tmp_path / "v2"))
    try:
        assert _counts(copy) == _counts(original)
        with copy.db.reader() as session:
            instances = list(session.scalars(select(ProcessInstance)))
            assert {i.id for i in instances} >= set(started)
            for instance in instances:
                workflow = load_workflow(copy, session, instance)
                assert workflow.spec.name == instance.definition.key
    finally:
        original.db.dispose()
        copy.db.dispose()

    missing = run(target_env, "restore", str(tmp_path / "nothing.backup"))
    assert missing.returncode == 1 and "no file" in missing.stderr, missing
