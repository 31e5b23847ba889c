"""3 在校生日常学籍管理 through the REST API: applications (message 学籍异动申请) run process 4
as often as the student applies; 学生离校 (message) or an approved 退学 leads to 学籍卡归档."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.helpers import (
    auth,
    complete,
    deploy,
    deploy_processes,
    history_kinds,
    only_task,
    student_id,
    tasks_of,
)
from xueji import clock
from xueji.db.session import session_scope
from xueji.deadlines import BEIJING
from xueji.models import ProcessInstance, StatusChange, Student

FORM = {"phone": "13800000000", "statement": "因工作调动申请异动"}
ARCHIVE = {"archive_number": "S01-2027-001", "archived_on": "2027-07-10", "materials": ["学籍卡"]}


@pytest.fixture
def processes(client):
    deploy_processes(client, "daily_records", "status_change")


def start(client, student: str, username: str = "station1", expect: int = 201) -> dict:
    response = client.post(
        "/api/v1/process-definitions/daily_records/start",
        json={"variables": {"student": student_id(client, student)}},
        headers=auth(client, username),
    )
    assert response.status_code == expect, response.text
    return response.json()


PAST_TERM = f"{clock.now().astimezone(BEIJING).year - 1}-秋"


def send(client, username: str, name: str, student: str, payload: dict, expect: int = 200):
    response = client.post(
        "/api/v1/messages",
        json={
            "name": name,
            "correlation": {"student": student_id(client, student)},
            "payload": payload,
        },
        headers=auth(client, username),
    )
    assert response.status_code == expect, response.text
    return response.json()


def apply(client, student: str, kind: str, expect: int = 200, username: str | None = None):
    # a term that has begun: process 4 changes the record when 修改学籍 is confirmed
    payload = {"kind": kind, "reason": "工作调动", "effective_term": PAST_TERM}
    return send(client, username or student, "学籍异动申请", student, payload, expect)


def instance(client, instance_id: str) -> dict:
    return client.get(
        f"/api/v1/process-instances/{instance_id}", headers=auth(client, "admin")
    ).json()


def status_of(db, sid: int) -> tuple[str, int]:
    with db.db.reader() as session:
        changes = session.scalars(select(StatusChange).where(StatusChange.student_id == sid))
        return session.get(Student, sid).status, len(list(changes))


def run_status_change(client, student: str, approve: bool = True) -> None:
    """Process 4 for the application, approved through to the record, or rejected by the
    station."""
    complete(client, student, only_task(client, student), FORM)
    if not approve:
        complete(
            client,
            "station1",
            only_task(client, "station1"),
            {"outcome": "rejected", "reason": "材料不全"},
        )
        return
    for user, data in (
        ("station1", {"outcome": "approved"}),
        ("registrar", {"outcome": "approved"}),
        ("leader", {"comment": "同意"}),
        ("registrar", {"filing_number": "豫教备2027-1"}),
        ("registrar", {"result_notice": "同意"}),
        ("registrar", {"confirmed": True}),
    ):
        complete(client, user, only_task(client, user), data)


def children(db, parent_id: str) -> list[ProcessInstance]:
    with db.db.reader() as session:
        return list(
            session.scalars(
                select(ProcessInstance)
                .where(ProcessInstance.parent_id == parent_id)
                .order_by(ProcessInstance.started_at)
            )
        )


def test_each_application_runs_process_4_and_the_instance_waits_again(client, db, processes):
    sid = student_id(client, "stu1001")
    daily = start(client, "stu1001")
    assert daily["state"] == "running" and daily["active_tasks"] == []
    assert daily["student"] == sid and daily["station"] == "S01"

    result = apply(client, "stu1001", "休学")
    assert result["delivered"] == [daily["id"]]
    [change] = children(db, daily["id"])
    assert change.definition.key == "status_change" and change.student_id == sid
    assert only_task(client, "stu1001")["name"] == "填写学籍异动审批表"
    # While process 4 runs, the instance waits for nothing: a second application is refused.
    apply(client, "stu1001", "退学", expect=404)

    run_status_change(client, "stu1001")
    assert status_of(db, sid) == ("休学", 1)
    waiting = instance(client, daily["id"])
    assert waiting["state"] == "running" and waiting["active_tasks"] == []
    assert waiting["variables"]["student_status"] == "休学"
    kinds = history_kinds(client, daily["id"])
    assert ("message_received", "change_requested") in kinds
    assert ("call_completed", "change") in kinds and ("element_completed", "read_status") in kinds
    assert ("element_completed", "still_enrolled") in kinds

    # A rejected application changes nothing and the instance waits again.
    apply(client, "stu1001", "复学")
    run_status_change(client, "stu1001", approve=False)
    assert status_of(db, sid) == ("休学", 1)
    assert instance(client, daily["id"])["state"] == "running"

    # The third application (复学, approved) is taken too: the loop has no end of its own.
    apply(client, "stu1001", "复学")
    run_status_change(client, "stu1001")
    assert status_of(db, sid) == ("已注册", 2)
    assert len(children(db, daily["id"])) == 3
    assert history_kinds(client, daily["id"]).count(("message_received", "change_requested")) == 3
    assert instance(client, daily["id"])["state"] == "running"


def test_an_approved_withdrawal_leads_to_archiving_the_status_card(client, db, processes):
    sid = student_id(client, "stu1002")
    daily = start(client, "stu1002")
    apply(client, "stu1002", "退学")
    run_status_change(client, "stu1002")
    assert status_of(db, sid)[0] == "退学"

    task = only_task(client, "station1")
    assert task["name"] == "学生学籍卡归档" and task["instance_id"] == daily["id"]
    assert task["due_at"] is not None
    complete(client, "station1", task, {"archive_number": ""}, expect=422)
    done = complete(client, "station1", task, ARCHIVE)

    assert done["instance"]["state"] == "completed"
    kinds = history_kinds(client, daily["id"])
    assert ("element_completed", "archived") in kinds and kinds[-1] == ("instance_completed", None)
    assert ("element_completed", "leaving") not in kinds


def test_leaving_college_is_a_message_and_the_station_archives(client, db, processes):
    daily = start(client, "stu1003")
    send(client, "station1", "学生离校", "stu1003", {"reason": "其他"}, expect=422)
    send(client, "stu1003", "学生离校", "stu1003", {"reason": "毕业"}, expect=403)
    send(client, "station2", "学生离校", "stu1003", {"reason": "毕业"}, expect=404)

    result = send(
        client, "station1", "学生离校", "stu1003", {"reason": "毕业", "left_on": "2027-07-01"}
    )

    assert result["delivered"] == [daily["id"]]
    task = only_task(client, "station1")
    assert task["name"] == "学生学籍卡归档"
    detail = client.get(f"/api/v1/tasks/{task['id']}", headers=auth(client, "station1")).json()
    assert detail["data"]["departure"] == {"reason": "毕业", "left_on": "2027-07-01"}
    # Waiting for the archive, it no longer takes applications.
    apply(client, "stu1003", "休学", expect=404)
    assert complete(client, "station1", task, ARCHIVE)["instance"]["state"] == "completed"
    assert children(db, daily["id"]) == []
    kinds = history_kinds(client, daily["id"])
    assert ("message_received", "leaving") in kinds and kinds[-1] == ("instance_completed", None)


def test_an_application_reaches_only_the_students_own_instance(client, db, processes):
    mine = start(client, "stu1001")
    other = start(client, "stu1002")
    # A student reaches only their own instance; the other student's waits on.
    send(
        client,
        "stu1001",
        "学籍异动申请",
        "stu1002",
        {"kind": "休学", "reason": "工作", "effective_term": "2027-春"},
        expect=404,
    )
    body = apply(client, "stu1002", "休学")
    assert body["delivered"] == [other["id"]]
    assert children(db, mine["id"]) == [] and len(children(db, other["id"])) == 1
    assert tasks_of(client, "stu1001") == []
    # The registrar may send it on a student's behalf (e.g. a paper application).
    assert apply(client, "stu1001", "休学", username="registrar")["delivered"] == [mine["id"]]


def test_the_application_must_be_complete(client, db, processes):
    daily = start(client, "stu1001")
    body = send(
        client,
        "stu1001",
        "学籍异动申请",
        "stu1001",
        {"kind": "转专业", "reason": "兴趣"},
        expect=422,
    )
    assert {p["field"] for p in body["detail"]} == {
        "payload.effective_term",
        "payload.target_major",
    }
    assert children(db, daily["id"]) == []


def test_who_starts_it_once_per_enrolled_student(client, db, processes):
    start(client, "stu1001", username="registrar", expect=403)
    start(client, "stu2001", username="station1", expect=422)  # not S01's student
    started = start(client, "stu2001", username="station2")
    assert ("element_completed", "check_student") in history_kinds(client, started["id"])
    again = start(client, "stu2001", username="station2", expect=422)
    assert again["detail"]["element_id"] == "check_student"
    with session_scope(db.db.writer) as session:
        session.get(Student, student_id(client, "stu2002")).status = "退学"
    left = start(client, "stu2002", username="station2", expect=422)
    assert "退学" in left["detail"]["message"]


def test_registration_can_start_it_for_every_student_once(client, db, processes):
    deploy(client, "daily_records_starter.bpmn")
    ids = [student_id(client, name) for name in ("stu1001", "stu2001")]
    existing = start(client, "stu1001")
    response = client.post(
        "/api/v1/process-definitions/daily_records_starter/start",
        json={"variables": {"students": ids}},
        headers=auth(client, "registrar"),
    )
    assert response.status_code == 201, response.text
    with db.db.reader() as session:
        rows = session.scalars(
            select(ProcessInstance).where(
                ProcessInstance.student_id.in_(ids), ProcessInstance.state == "running"
            )
        ).all()
        by_student = {}
        for row in rows:
            if row.definition.key == "daily_records":
                by_student.setdefault(row.student_id, []).append(row)
    assert [r.id for r in by_student[ids[0]]] == [existing["id"]]
    [new] = by_student[ids[1]]
    assert new.station.code == "S02" and new.started_by == "registrar"
    assert response.json()["variables"]["started"] == [new.id]
