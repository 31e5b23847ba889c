"""4 学籍异动 through the REST API along every branch, and the record afterwards."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.helpers import (
    auth,
    complete,
    deploy_processes,
    history_kinds,
    only_task,
    student_id,
    tasks_of,
)
from xueji import clock
from xueji.deadlines import BEIJING
from xueji.models import StatusChange, Student

# A 生效学期 that has begun (the change is made when 修改学籍 is confirmed) and one to come
# (it waits for its day: tests/processes/test_status_change_rules.py).
YEAR = clock.now().astimezone(BEIJING).year
PAST_TERM, PAST_START = f"{YEAR - 1}-秋", f"{YEAR - 1}-09-01"
FUTURE_TERM = f"{YEAR + 1}-秋"

FORM = {"phone": "13800000000", "statement": "因工作调动申请异动"}


def apply(client, username="stu1001", **variables):
    body = {"variables": {"reason": "工作调动", "effective_term": PAST_TERM, **variables}}
    response = client.post(
        "/api/v1/process-definitions/status_change/start", json=body, headers=auth(client, username)
    )
    assert response.status_code == 201, response.text
    return response.json()


def record(db, sid):
    with db.db.reader() as session:
        student = session.get(Student, sid)
        changes = list(
            session.scalars(
                select(StatusChange).where(StatusChange.student_id == sid).order_by(StatusChange.id)
            )
        )
        return student, changes


def approve_all(client, instance):
    complete(client, "stu1001", only_task(client, "stu1001"), FORM)
    # a reviewer's own `reason` must not replace the student's
    complete(
        client,
        "station1",
        only_task(client, "station1"),
        {"outcome": "approved", "reason": "材料齐全"},
    )
    complete(client, "registrar", only_task(client, "registrar"), {"outcome": "approved"})
    complete(client, "leader", only_task(client, "leader"), {"comment": "同意"})
    filing = only_task(client, "registrar")
    assert filing["name"] == "报教育厅审核备案"  # the college 报s; the 教育厅 has no task
    complete(client, "registrar", filing, {"filing_number": "豫教备2027-1"})
    complete(client, "registrar", only_task(client, "registrar"), {"result_notice": "同意休学"})
    update = only_task(client, "registrar")
    assert update["name"] == "修改学院学籍管理信息系统中学生个人信息"
    return complete(client, "registrar", update, {"confirmed": True})


@pytest.fixture
def processes(client):
    deploy_processes(client, "status_change")


def test_approved_suspension_past_its_effective_date_changes_status_at_once(client, db, processes):
    sid = student_id(client, "stu1001")
    before, _ = record(db, sid)
    instance = apply(client, kind="休学")
    first = only_task(client, "stu1001")
    assert first["name"] == "填写学籍异动审批表" and first["due_at"] is not None
    done = approve_all(client, instance)
    assert done["instance"]["state"] == "completed"
    student, changes = record(db, sid)
    assert student.status == "休学"
    last = changes[-1]
    assert (last.from_status, last.to_status, last.kind, last.instance_id) == (
        before.status,
        "休学",
        "休学",
        instance["id"],
    )
    assert str(last.effective_on) == PAST_START and last.reason == "工作调动"
    kinds = history_kinds(client, instance["id"])
    assert ("element_completed", "apply_change") in kinds
    assert kinds[-1] == ("instance_completed", None)
    # and back: 复学 returns the student to 已注册
    apply(client, kind="复学")
    approve_all(client, None)
    assert record(db, sid)[0].status == "已注册"


@pytest.mark.parametrize(
    "rejecter, role_name, end",
    [
        ("station1", "函授站签署审核意见", "station_rejected"),
        ("registrar", "学院审核", "college_rejected"),
    ],
)
def test_rejection_changes_nothing_and_the_student_sees_why(
    client, db, processes, rejecter, role_name, end
):
    sid = student_id(client, "stu1001")
    before, changes_before = record(db, sid)
    instance = apply(client, kind="退学")
    complete(client, "stu1001", only_task(client, "stu1001"), FORM)
    if rejecter == "registrar":
        complete(client, "station1", only_task(client, "station1"), {"outcome": "approved"})
    task = only_task(client, rejecter)
    assert task["name"] == role_name
    complete(client, rejecter, task, {"outcome": "rejected"}, expect=422)  # reason required
    complete(client, rejecter, task, {"outcome": "rejected", "reason": "证明材料不全"})
    seen = client.get(
        f"/api/v1/process-instances/{instance['id']}", headers=auth(client, "stu1001")
    ).json()
    assert seen["state"] == "completed" and seen["variables"]["reason"] == "证明材料不全"
    assert ("element_completed", end) in history_kinds(client, instance["id"])
    after, changes_after = record(db, sid)
    assert after.status == before.status and len(changes_after) == len(changes_before)


def test_change_of_station_moves_the_student_and_its_scope(client, db, processes):
    sid = student_id(client, "stu1002")
    instance = apply(client, "stu1002", kind="转函授站", target_station="S02")
    complete(client, "stu1002", only_task(client, "stu1002"), FORM)
    assert tasks_of(client, "station2") == []
    complete(client, "station1", only_task(client, "station1"), {"outcome": "approved"})
    complete(client, "registrar", only_task(client, "registrar"), {"outcome": "approved"})
    complete(client, "leader", only_task(client, "leader"), {"comment": "同意"})
    complete(client, "registrar", only_task(client, "registrar"), {"filing_number": "备-2"})
    complete(client, "registrar", only_task(client, "registrar"), {"result_notice": "同意"})
    complete(client, "registrar", only_task(client, "registrar"), {"confirmed": True})
    student, changes = record(db, sid)
    assert student.station.code == "S02"
    assert changes[-1].details == {"station": ["S01", "S02"]}
    assert instance["state"] == "running"


def test_correction_of_personal_data_validates_the_id_number(client, db, processes):
    sid = student_id(client, "stu1003")
    start = client.post(
        "/api/v1/process-definitions/status_change/start",
        json={
            "variables": {"kind": "个人信息更正", "reason": "姓名有误", "effective_term": PAST_TERM}
        },
        headers=auth(client, "stu1003"),
    )
    assert start.status_code == 422
    assert {p["field"] for p in start.json()["detail"]} == {"corrections"}
    apply(client, "stu1003", kind="个人信息更正", corrections={"name": "李娜娜"})
    complete(client, "stu1003", only_task(client, "stu1003"), FORM)
    for user, data in (
        ("station1", {"outcome": "approved"}),
        ("registrar", {"outcome": "approved"}),
        ("leader", {"comment": "同意"}),
        ("registrar", {"filing_number": "3"}),
        ("registrar", {"result_notice": "同意"}),
        ("registrar", {"confirmed": True}),
    ):
        complete(client, user, only_task(client, user), data)
    student, changes = record(db, sid)
    assert student.name == "李娜娜"
    assert changes[-1].details == {"name": ["李娜", "李娜娜"]}


def test_only_students_start_it_and_the_form_names_missing_fields(client, processes):
    response = client.post(
        "/api/v1/process-definitions/status_change/start",
        json={"variables": {"kind": "转专业", "reason": "兴趣", "effective_term": "2027-秋"}},
        headers=auth(client, "stu1001"),
    )
    assert response.status_code == 422
    assert [p["field"] for p in response.json()["detail"]] == ["target_major"]
    assert (
        client.post(
            "/api/v1/process-definitions/status_change/start",
            json={"variables": {}},
            headers=auth(client, "station1"),
        ).status_code
        == 403
    )
