"""4 学籍异动 as the regulations say, through the REST API as the demo users: each end event,
the change made on its effective date (a timer until then), conflicting applications refused
with a reason and a stable code, and the before → after table shown before 修改学籍."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests.helpers import (
    auth,
    complete,
    history_kinds,
    only_task,
    student_id,
    tasks_of,
)
from tests.processes.test_status_change import (
    FORM,
    FUTURE_TERM,
    PAST_TERM,
    apply,
    approve_all,
    record,
)
from tests.processes.test_teaching_progress import deploy_as_served
from xueji.deadlines import BEIJING
from xueji.models import Timer
from xueji.scheduler.worker import run_once


@pytest.fixture
def processes(db):
    deploy_as_served(db)


def pending_effective_timer(db, instance_id):
    with db.db.reader() as session:
        return session.scalar(
            select(Timer).where(
                Timer.instance_id == instance_id,
                Timer.element_id == "effective_date",
                Timer.state == "pending",
            )
        )


def refused(client, username, expect_code, **variables):
    body = {"variables": {"reason": "工作调动", "effective_term": PAST_TERM, **variables}}
    response = client.post(
        "/api/v1/process-definitions/status_change/start", json=body, headers=auth(client, username)
    )
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["error"] == "StatusChangeConflict"
    assert answer["detail"]["code"] == expect_code
    return answer["detail"]["message"]


def _reject_by_station(client):
    complete(client, "stu1001", only_task(client, "stu1001"), FORM)
    complete(
        client,
        "station1",
        only_task(client, "station1"),
        {"outcome": "rejected", "reason": "材料不全"},
    )


def _reject_by_college(client):
    complete(client, "stu1001", only_task(client, "stu1001"), FORM)
    complete(client, "station1", only_task(client, "station1"), {"outcome": "approved"})
    complete(
        client,
        "registrar",
        only_task(client, "registrar"),
        {"outcome": "rejected", "reason": "不符合规定"},
    )


def _approve(client):
    approve_all(client, None)


def _approve_then_wait(client, db, instance_id):
    approve_all(client, None)
    timer = pending_effective_timer(db, instance_id)
    assert run_once(db, timer.due_at + timedelta(minutes=1)).fired >= 1


@pytest.mark.parametrize(
    "end, term, drive",
    [
        ("station_rejected", PAST_TERM, lambda c, db, i: _reject_by_station(c)),
        ("college_rejected", PAST_TERM, lambda c, db, i: _reject_by_college(c)),
        ("done", PAST_TERM, lambda c, db, i: _approve(c)),
        ("done", FUTURE_TERM, _approve_then_wait),
    ],
    ids=["station_rejected", "college_rejected", "done_at_once", "done_on_effective_date"],
)
def test_each_end_event_is_reached(client, db, processes, end, term, drive):
    instance = apply(client, kind="退学", effective_term=term)
    drive(client, db, instance["id"])
    kinds = history_kinds(client, instance["id"])
    assert ("element_completed", end) in kinds
    assert kinds[-1] == ("instance_completed", None)
    ends = {"station_rejected", "college_rejected", "done"}
    assert [k for k in kinds if k[0] == "element_completed" and k[1] in ends] == [
        ("element_completed", end)
    ]
    status = record(db, student_id(client, "stu1001"))[0].status
    assert status == ("退学" if end == "done" else "在籍")


def test_a_missed_deadline_reaches_the_reminder_end(client, db, processes):
    """逾期提醒: the student's 填写学籍异动审批表 left past its 7 days."""
    instance = apply(client, kind="退学")
    with db.db.reader() as session:
        timer = session.scalar(
            select(Timer).where(Timer.instance_id == instance["id"], Timer.state == "pending")
        )
    assert timer.element_id == "fill_form_deadline"
    assert run_once(db, timer.due_at + timedelta(minutes=1)).fired >= 1
    kinds = history_kinds(client, instance["id"])
    assert ("element_completed", "fill_form_reminded") in kinds
    assert only_task(client, "stu1001")["overdue"] is True


def test_a_future_effective_date_keeps_the_old_status_until_its_timer_fires(
    client,
    db,
    processes,
):
    sid = student_id(client, "stu1001")
    instance = apply(client, kind="休学", effective_term=FUTURE_TERM)
    done = approve_all(client, instance)
    assert done["instance"]["state"] == "running"
    assert record(db, sid)[0].status == "在籍"
    timer = pending_effective_timer(db, instance["id"])
    year, season = FUTURE_TERM.split("-")
    starts = datetime(int(year), 3 if season == "春" else 9, 1, tzinfo=BEIJING)
    assert timer.due_at.astimezone(BEIJING) == starts
    run_once(db, timer.due_at - timedelta(hours=1))
    assert record(db, sid)[0].status == "在籍"
    assert run_once(db, timer.due_at + timedelta(minutes=1)).fired >= 1
    student, changes = record(db, sid)
    assert student.status == "休学"
    assert (changes[-1].to_status, str(changes[-1].effective_on)) == (
        "休学",
        starts.date().isoformat(),
    )
    kinds = history_kinds(client, instance["id"])
    assert kinds[-4:] == [
        ("element_completed", "effective_date"),
        ("element_completed", "apply_change"),
        ("element_completed", "done"),
        ("instance_completed", None),
    ]


def test_an_open_suspension_waiting_for_its_date_blocks_a_resumption(client, db, processes):
    apply(client, kind="休学", effective_term=FUTURE_TERM)
    approve_all(client, None)
    message = refused(client, "stu1001", "suspension_and_resumption", kind="复学")
    assert "未办结的休学申请" in message and "不能同时申请复学" in message


def test_suspension_while_suspended_is_refused(client, db, processes):
    apply(client, kind="休学")
    approve_all(client, None)
    assert record(db, student_id(client, "stu1001"))[0].status == "休学"
    assert (
        refused(client, "stu1001", "already_suspended", kind="休学") == "张伟已休学，不能再申请休学"
    )


def test_resumption_while_not_suspended_is_refused(client, db, processes):
    message = refused(client, "stu1001", "not_suspended", kind="复学")
    assert message == "张伟的学籍状态为在籍，未休学，不能申请复学"
    assert tasks_of(client, "stu1001") == []


def test_two_open_applications_of_one_kind_are_refused(client, db, processes):
    apply(client, kind="转专业", target_major="护理")
    message = refused(
        client, "stu1001", "duplicate_application", kind="转专业", target_major="会计"
    )
    assert message == "张伟已有一份未办结的转专业申请，不能重复申请"  # no process id
    # another kind is no conflict
    apply(client, kind="个人信息更正", corrections={"ethnicity": "满族"})


def test_suspension_and_resumption_at_once_are_refused(client, db, processes):
    apply(client, kind="休学")
    message = refused(client, "stu1001", "suspension_and_resumption", kind="复学")
    assert "未办结的休学申请" in message


def test_an_application_sent_to_process_3_is_refused_with_its_code(client, db, processes):
    """学籍异动申请 as a message to 在校生日常学籍管理: process 4 starts and refuses there."""
    start = client.post(
        "/api/v1/process-definitions/daily_records/start",
        json={"variables": {"student": student_id(client, "stu1001")}},
        headers=auth(client, "station1"),
    )
    assert start.status_code == 201, start.text
    response = client.post(
        "/api/v1/messages",
        json={
            "name": "学籍异动申请",
            "correlation": {"student": student_id(client, "stu1001")},
            "payload": {"kind": "复学", "reason": "工作调动", "effective_term": PAST_TERM},
        },
        headers=auth(client, "stu1001"),
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "StatusChangeConflict"
    assert response.json()["detail"]["code"] == "not_suspended"


def test_the_registrar_sees_before_and_after_before_confirming(client, db, processes):
    apply(client, kind="转专业", target_major="护理", effective_term=FUTURE_TERM)
    complete(client, "stu1001", only_task(client, "stu1001"), FORM)
    complete(client, "station1", only_task(client, "station1"), {"outcome": "approved"})
    complete(client, "registrar", only_task(client, "registrar"), {"outcome": "approved"})
    complete(client, "leader", only_task(client, "leader"), {"comment": "同意"})
    complete(client, "registrar", only_task(client, "registrar"), {"filing_number": "备-9"})
    complete(client, "registrar", only_task(client, "registrar"), {"result_notice": "同意"})
    task = only_task(client, "registrar")
    assert task["name"] == "修改学院学籍管理信息系统中学生个人信息"
    detail = client.get(f"/api/v1/tasks/{task['id']}", headers=auth(client, "registrar")).json()
    year, season = FUTURE_TERM.split("-")
    assert detail["data"]["change_preview"] == [
        {"field": "学籍状态", "before": "在籍", "after": "在籍"},
        {"field": "专业", "before": "会计", "after": "护理"},
        {
            "field": "生效日期",
            "before": "",
            "after": f"{year}-{'03' if season == '春' else '09'}-01",
        },
    ]
    assert "change_preview" in detail["form"]["schema"]["properties"]
    assert "修改前 → 修改后" in detail["documentation"]
    # nothing has changed yet
    assert record(db, student_id(client, "stu1001"))[0].major == "会计"
