"""Where a definition version came from: processes/ on start, or an administrator's upload.

A restart deploys a file of processes/ only when it changed since it was last deployed from
there, so an uploaded version survives restarts; a changed file (a new release) wins, with a
warning. Forms uploaded alone give the processes using them new versions."""

from __future__ import annotations

import dataclasses
import logging

from sqlalchemy import select

from tests.api.test_workflow import REVIEW, start_review
from tests.helpers import FIXTURES, ROOT, auth, deploy
from xueji.models import ProcessDefinition
from xueji.startup import prepare

REVIEW_BPMN = (FIXTURES / "review.bpmn").read_bytes()
APPLY_V1, APPLY_V2 = "填写学籍异动审批表".encode(), "填写审批表（管理员版）".encode()
APPLY_FORM = (FIXTURES / "review_apply.schema.json").read_text()


def release(tmp_path, files: dict[str, bytes]) -> dict:
    """A processes/ and forms/ directory holding these files, like the product ships them."""
    processes, forms = tmp_path / "processes", tmp_path / "forms"
    processes.mkdir(exist_ok=True)
    forms.mkdir(exist_ok=True)
    for name, content in files.items():
        ((forms if name.endswith(".json") else processes) / name).write_bytes(content)
    return {"processes_dir": processes, "forms_dir": forms}


def review_release(tmp_path, bpmn: bytes = REVIEW_BPMN) -> dict:
    files = {name: (FIXTURES / name).read_bytes() for name in REVIEW}
    return release(tmp_path, {**files, "review.bpmn": bpmn})


def restart(runtime, directories: dict) -> None:
    """The service starting again on the same database, with these directories."""
    settings = runtime.settings.model_copy(update=directories)
    prepare(dataclasses.replace(runtime, settings=settings))


def versions(runtime, key: str) -> list[tuple[int, str, str]]:
    with runtime.db.reader() as session:
        rows = session.scalars(
            select(ProcessDefinition)
            .where(ProcessDefinition.key == key)
            .order_by(ProcessDefinition.version)
        )
        return [(d.version, d.source, d.deployed_by) for d in rows]


def latest(client, key: str = "review") -> dict:
    response = client.get(f"/api/v1/process-definitions/{key}", headers=auth(client, "admin"))
    assert response.status_code == 200, response.text
    return response.json()


def task_form(client, task_id: str, username: str = "stu1001") -> dict:
    response = client.get(f"/api/v1/tasks/{task_id}", headers=auth(client, username))
    assert response.status_code == 200, response.text
    return response.json()["form"]["schema"]


def test_an_uploaded_version_stays_the_latest_across_restarts(client, db, tmp_path):
    directories = review_release(tmp_path)
    restart(db, directories)  # the first start deploys processes/ as version 1
    assert versions(db, "review") == [(1, "directory", "system")]

    uploaded = deploy(client, ("review.bpmn", REVIEW_BPMN.replace(APPLY_V1, APPLY_V2)))
    assert [(d["version"], d["new"]) for d in uploaded["definitions"]] == [(2, True)]

    restart(db, directories)
    restart(db, directories)
    assert versions(db, "review") == [(1, "directory", "system"), (2, "upload", "admin")]
    assert latest(client)["version"] == 2
    started = start_review(client)
    assert started["version"] == 2
    assert [t["name"] for t in started["active_tasks"]] == [APPLY_V2.decode()]


def test_a_restart_with_unchanged_files_makes_no_version(client, db, tmp_path):
    directories = review_release(tmp_path)
    restart(db, directories)
    restart(db, directories)
    assert versions(db, "review") == [(1, "directory", "system")]
    # The same file deployed by an administrator is the same version, whatever its source.
    assert deploy(client, *REVIEW)["definitions"][0]["new"] is False
    restart(db, directories)
    assert versions(db, "review") == [(1, "directory", "system")]


def test_a_changed_file_in_processes_supersedes_the_uploaded_version(client, db, tmp_path, caplog):
    restart(db, review_release(tmp_path))
    deploy(client, ("review.bpmn", REVIEW_BPMN.replace(APPLY_V1, APPLY_V2)))

    # A new release of the product changes the file: it wins, and the log says over what.
    new_release = REVIEW_BPMN.replace(APPLY_V1, "填写审批表（新版本）".encode())
    directories = review_release(tmp_path, new_release)
    with caplog.at_level(logging.WARNING, logger="xueji.startup"):
        restart(db, directories)
    assert versions(db, "review") == [
        (1, "directory", "system"),
        (2, "upload", "admin"),
        (3, "directory", "system"),
    ]
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "review v3" in warning.getMessage() and "supersedes v2" in warning.getMessage()
    assert "admin" in warning.getMessage()
    started = start_review(client)
    assert started["version"] == 3
    assert [t["name"] for t in started["active_tasks"]] == ["填写审批表（新版本）"]

    # Once deployed, that file is unchanged again: an administrator's next version stays.
    restart(db, directories)
    assert len(versions(db, "review")) == 3
    deploy(client, ("review.bpmn", REVIEW_BPMN.replace(APPLY_V1, APPLY_V2)))
    restart(db, directories)
    assert versions(db, "review")[-1] == (4, "upload", "admin")


def test_a_release_that_ships_the_uploaded_file_keeps_later_uploads(client, db, tmp_path):
    restart(db, review_release(tmp_path))
    fixed = REVIEW_BPMN.replace(APPLY_V1, APPLY_V2)
    deploy(client, ("review.bpmn", fixed))
    # The next release contains the administrator's fix: no new version, and it is the
    # directory's version from now on ...
    directories = review_release(tmp_path, fixed)
    restart(db, directories)
    assert [v for v, _, _ in versions(db, "review")] == [1, 2]
    # ... so a later upload survives the following restart.
    deploy(client, ("review.bpmn", fixed.replace(APPLY_V2, "第三版".encode())))
    restart(db, directories)
    assert [v for v, _, _ in versions(db, "review")] == [1, 2, 3]
    assert latest(client)["version"] == 3


def test_forms_alone_give_the_processes_using_them_a_new_version(client, db):
    deploy(client, *REVIEW, "steps.bpmn", "steps_enter.schema.json")
    running = start_review(client)
    [old_task] = running["active_tasks"]
    assert task_form(client, old_task["id"])["properties"]["reason"]["title"] == "异动原因"

    form = APPLY_FORM.replace("异动原因", "原因说明").encode()
    result = deploy(client, ("review_apply.schema.json", form))
    # Only the process that uses the form is new; steps does not use it.
    assert result["definitions"] == [
        {"key": "review", "version": 2, "name": "学籍异动（测试）", "kind": "bpmn", "new": True}
    ]
    assert [v for v, _, _ in versions(db, "steps")] == [1]
    xml = client.get("/api/v1/process-definitions/review/xml", headers=auth(client, "admin"))
    assert xml.content == REVIEW_BPMN  # the same diagram, pinned to the new form

    newer = start_review(client)
    assert newer["version"] == 2
    [new_task] = newer["active_tasks"]
    assert task_form(client, new_task["id"])["properties"]["reason"]["title"] == "原因说明"
    # The running instance keeps the form it started with.
    assert task_form(client, old_task["id"])["properties"]["reason"]["title"] == "异动原因"
    # The same form again changes nothing.
    assert deploy(client, ("review_apply.schema.json", form))["definitions"] == []


def test_forms_uploaded_alone_survive_a_restart(client, db, tmp_path):
    directories = review_release(tmp_path)
    restart(db, directories)
    form = APPLY_FORM.replace("异动原因", "原因说明").encode()
    deployed = deploy(client, ("review_apply.schema.json", form))
    assert [(d["key"], d["version"]) for d in deployed["definitions"]] == [("review", 2)]
    # forms/ still holds the old form: the restart leaves the administrator's version alone.
    restart(db, directories)
    assert versions(db, "review") == [(1, "directory", "system"), (2, "upload", "admin")]
    task = start_review(client)["active_tasks"][0]
    assert task_form(client, task["id"])["properties"]["reason"]["title"] == "原因说明"


def test_a_changed_decision_table_in_processes_keeps_an_uploaded_diagram(client, db, tmp_path):
    # graduation_registration.bpmn holds two processes; the per-student one uses the table.
    student = "graduation_registration_student"
    names = ["graduation_registration.bpmn", "graduation_deferral.dmn"]
    forms = {
        p.name: p.read_bytes()
        for pattern in ("graduation_registration_*", "review.*")
        for p in (ROOT / "forms").glob(pattern)
    }
    shipped = {name: (ROOT / "processes" / name).read_bytes() for name in names}
    restart(db, release(tmp_path, {**shipped, **forms}))
    bpmn = shipped["graduation_registration.bpmn"].replace(
        'name="预毕业生审核"'.encode(), 'name="预毕业生审核（管理员版）"'.encode()
    )
    assert bpmn != shipped["graduation_registration.bpmn"]
    deploy(client, ("graduation_registration.bpmn", bpmn))
    assert [v for v, _, _ in versions(db, student)] == [1, 2]

    dmn = shipped["graduation_deferral.dmn"].replace(
        'label="缓验原因"'.encode(), 'label="缓验的原因"'.encode()
    )
    assert dmn != shipped["graduation_deferral.dmn"]
    directories = release(tmp_path, {**shipped, "graduation_deferral.dmn": dmn, **forms})
    restart(db, directories)
    assert versions(db, "graduation_deferral") == [
        (1, "directory", "system"),
        (2, "directory", "system"),
    ]
    # The new table is pinned by a new version of the administrator's diagram, still an upload.
    assert versions(db, student) == [
        (1, "directory", "system"),
        (2, "upload", "admin"),
        (3, "upload", "system"),
    ]
    assert latest(client, student)["name"] == "预毕业生审核（管理员版）"
    xml = client.get(f"/api/v1/process-definitions/{student}/xml", headers=auth(client, "admin"))
    assert xml.content == bpmn
    assert [v for v, _, _ in versions(db, "graduation_registration")] == [1, 2]
    restart(db, directories)
    assert len(versions(db, student)) == 3
    assert len(versions(db, "graduation_deferral")) == 2
