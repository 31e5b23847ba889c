"""9 毕业设计（论文） through the REST API along every branch, and the records afterwards."""

from __future__ import annotations

from datetime import datetime, timedelta

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
from xueji.models import StatusChange, Student, ThesisResult, Upload
from xueji.scheduler.worker import run_once

PLAN = {"summary": "按教学计划安排毕业设计（论文）", "reported_on": "2027-02-01"}
MOBILISATION = {"held_on": "2027-03-01", "place": "郑州函授站报告厅", "attendance": 3}
GUIDANCE = {
    "title": "企业成本控制研究",
    "sessions": [{"date": "2027-03-20", "content": "确定提纲，修改第一章"}],
    "opinion": "同意参加答辩",
}
DEFENCE = {"defence_date": "2027-05-20", "panel": "王老师、李老师", "comments": "论证充分"}


@pytest.fixture
def processes(client):
    deploy_processes(client, "thesis")


def start(client, *usernames, start_date="2027-03-01"):
    ids = [student_id(client, u) for u in usernames]
    response = client.post(
        "/api/v1/process-definitions/thesis/start",
        json={"variables": {"year": 2027, "start_date": start_date, "students": ids}},
        headers=auth(client, "station1"),
    )
    assert response.status_code == 201, response.text
    return response.json(), ids


def assign(client, ids, advisor="advisor1"):
    """Plan, roster, groups and advisors, mobilisation: the per-student children start."""
    complete(client, "station1", only_task(client, "station1"), PLAN)
    task = only_task(client, "station1")
    assert task["name"] == "下达毕业设计任务，确定毕业设计（论文）分组名单、指导教师"
    assignments = [
        {"student": i, "group": "第一组", "advisor": advisor, "title": f"论文{i}"} for i in ids
    ]
    complete(client, "station1", task, {"assignments": assignments})
    return complete(client, "station1", only_task(client, "station1"), MOBILISATION)


def instance(client, instance_id, username="registrar"):
    response = client.get(
        f"/api/v1/process-instances/{instance_id}", headers=auth(client, username)
    )
    assert response.status_code == 200, response.text
    return response.json()


def child_task(client, username, sid, name):
    [task] = [t for t in tasks_of(client, username) if t["student"] == sid and t["name"] == name]
    return task


def defend(client, sid, grading):
    """Advisor's guidance, eligibility approved, defence and the grade of one student."""
    complete(client, "advisor1", child_task(client, "advisor1", sid, GUIDANCE_NAME), GUIDANCE)
    complete(client, "station1", child_task(client, "station1", sid, ELIGIBILITY), APPROVE)
    complete(client, "station1", child_task(client, "station1", sid, DEFENCE_NAME), DEFENCE)
    return complete(client, "station1", child_task(client, "station1", sid, "成绩评定"), grading)


GUIDANCE_NAME = "毕业设计（论文）过程控制，填写过程指导单"
ELIGIBILITY = "毕业设计（论文）答辩资格审核"
DEFENCE_NAME = "组织安排毕业设计（论文）答辩，填写评语表"
APPROVE = {"outcome": "approved"}


def records(db, sid):
    with db.db.reader() as session:
        student = session.get(Student, sid)
        changes = list(
            session.scalars(
                select(StatusChange).where(StatusChange.student_id == sid).order_by(StatusChange.id)
            )
        )
        results = list(session.scalars(select(ThesisResult).where(ThesisResult.student_id == sid)))
        session.expunge_all()
        return student, changes, results


def test_eligible_students_pass_and_the_results_are_reported(client, db, processes):
    parent, ids = start(client, "stu1004", "stu1005")
    plan = only_task(client, "station1")
    assert plan["name"] == "按照教学计划、毕业设计管理规程制定毕业设计（论文）工作计划"
    # 毕业设计（论文）开始前三周上报学院
    due = datetime.fromisoformat(plan["due_at"]).astimezone(BEIJING)
    assert (due.date().isoformat(), due.hour) == ("2027-02-08", 23)
    assign(client, ids)
    detail = instance(client, parent["id"])
    assert len(detail["children"]) == 2 and detail["active_tasks"] == []
    # The advisor of station S01 guides; another station sees nothing.
    assert {t["student"] for t in tasks_of(client, "advisor1")} == set(ids)
    assert tasks_of(client, "station2") == [] and tasks_of(client, "stu1004") == []

    defend(client, ids[0], {"outcome": "passed", "grade": "优秀", "excellent": True})
    defend(client, ids[1], {"outcome": "passed", "grade": "及格"})
    archive = only_task(client, "station1")
    assert archive["name"] == "优秀毕业设计（论文）存档，评语表、成绩单一周内上报学院"
    created = datetime.fromisoformat(archive["created_at"])
    assert datetime.fromisoformat(archive["due_at"]) - created == timedelta(days=7)
    detail = instance(client, parent["id"])
    assert [(r["student"], r["outcome"], r["grade"]) for r in detail["variables"]["results"]] == [
        (ids[0], "通过", "优秀"),
        (ids[1], "通过", "及格"),
    ]
    with db.db.reader() as session:
        transcript = session.get(Upload, detail["variables"]["transcript_upload"])
        assert transcript.generated and transcript.instance_id == parent["id"]
    reported = complete(
        client, "station1", archive, {"archived": [ids[0]], "reported_on": "2027-06-01"}
    )
    assert reported["instance"]["state"] == "running"
    # 上报学院: the college (教学管理) receives the comment sheets and the transcript
    receipt = only_task(client, "academic")
    assert receipt["name"] == "学院接收评语表、成绩单"
    done = complete(client, "academic", receipt, {"received_on": "2027-06-02"})
    assert done["instance"]["state"] == "completed"
    assert history_kinds(client, parent["id"])[-2:] == [
        ("element_completed", "done"),
        ("instance_completed", None),
    ]
    for sid, grade in zip(ids, ("优秀", "及格"), strict=True):
        student, changes, [result] = records(db, sid)
        assert student.status == "已注册" and changes == []
        assert (result.eligible, result.passed, result.grade, result.advisor) == (
            True,
            True,
            grade,
            "advisor1",
        )
        assert result.title == GUIDANCE["title"] and result.excellent == (grade == "优秀")


@pytest.mark.parametrize("arrangement", ["推迟答辩", "留级"])
def test_student_not_admitted_to_the_defence_is_deferred_or_repeats(
    client, db, processes, arrangement
):
    parent, [sid] = start(client, "stu1004")
    assign(client, [sid])
    complete(client, "advisor1", only_task(client, "advisor1"), GUIDANCE)
    review = only_task(client, "station1")
    assert review["name"] == ELIGIBILITY
    complete(client, "station1", review, {"outcome": "rejected"}, expect=422)  # reason required
    complete(client, "station1", review, {"outcome": "rejected", "reason": "过程指导不足"})
    task = only_task(client, "station1")
    assert task["name"] == "视具体情况报学院推迟答辩或留级"
    # the station reports with a proposal; the college decides, possibly otherwise
    proposal = {"推迟答辩": "留级", "留级": "推迟答辩"}[arrangement]
    complete(client, "station1", task, {"arrangement": proposal, "reported_on": "2027-05-10"})
    [child] = instance(client, parent["id"])["children"]
    assert instance(client, child)["state"] == "running"
    assert tasks_of(client, "station1") == []
    decision = only_task(client, "academic")
    assert decision["name"] == "学院决定推迟答辩或留级"
    complete(client, "academic", decision, {"decision": arrangement}, expect=422)
    complete(
        client,
        "academic",
        decision,
        {"decision": arrangement, "decided_on": "2027-05-12", "decision_note": "经研究决定"},
    )
    assert instance(client, child)["state"] == "completed"
    end = {"推迟答辩": "deferred", "留级": "repeated"}[arrangement]
    assert ("element_completed", end) in history_kinds(client, child)
    student, changes, [result] = records(db, sid)
    assert (result.eligible, result.passed, result.grade) == (False, None, None)
    if arrangement == "留级":
        assert student.status == "留级" and student.intake_year == 2026
        [change] = changes
        assert (change.from_status, change.to_status, change.instance_id, change.reason) == (
            "已注册",
            "留级",
            child,
            "过程指导不足",
        )
    else:
        assert student.status == "已注册" and changes == []
    assert only_task(client, "station1")["name"].startswith("优秀毕业设计（论文）存档")
    [row] = instance(client, parent["id"])["variables"]["results"]
    assert row["outcome"] == arrangement


def test_failed_defence_means_repeating_the_year(client, db, processes):
    parent, [sid] = start(client, "stu1005")
    assign(client, [sid])
    failed = {"outcome": "failed", "grade": "不及格"}
    complete(client, "advisor1", only_task(client, "advisor1"), GUIDANCE)
    complete(client, "station1", only_task(client, "station1"), APPROVE)
    complete(client, "station1", only_task(client, "station1"), DEFENCE)
    grading = only_task(client, "station1")
    complete(client, "station1", grading, failed, expect=422)  # reason required
    complete(client, "station1", grading, {**failed, "grade": "及格", "reason": "x"}, expect=422)
    complete(client, "station1", grading, {**failed, "reason": "答辩未通过"})
    [child] = instance(client, parent["id"])["children"]
    kinds = history_kinds(client, child)
    assert ("element_completed", "repeat") in kinds and ("element_completed", "repeated") in kinds
    student, [change], [result] = records(db, sid)
    assert student.status == "留级"
    assert (change.to_status, change.kind, change.instance_id) == ("留级", "留级", child)
    assert (result.eligible, result.passed, result.grade) == (True, False, "不及格")


def test_roster_and_advisors_must_belong_to_the_station(client, db, processes):
    # another station's student is not among station1's choices: the start is refused
    response = client.post(
        "/api/v1/process-definitions/thesis/start",
        json={
            "variables": {
                "year": 2027,
                "start_date": "2027-03-01",
                "students": [student_id(client, "stu1004"), student_id(client, "stu2001")],
            }
        },
        headers=auth(client, "station1"),
    )
    assert response.status_code == 422, response.text
    assert [p["field"] for p in response.json()["detail"]] == ["students.1"]
    _, ids = start(client, "stu1004")
    complete(client, "station1", tasks_of(client, "station1")[-1], PLAN)
    [task] = [t for t in tasks_of(client, "station1") if t["name"].startswith("下达")]
    wrong = [{"student": ids[0], "group": "一", "advisor": "station1", "title": "题目"}]
    response = client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"data": {"assignments": wrong}},
        headers=auth(client, "station1"),
    )
    assert response.status_code == 422 and "不是本函授站的指导教师" in response.text


def test_a_week_after_the_defence_an_unreported_archive_is_overdue(client, db, processes):
    parent, [sid] = start(client, "stu1003")
    assign(client, [sid])
    defend(client, sid, {"outcome": "passed", "grade": "良好"})
    archive = only_task(client, "station1")
    assert run_once(db, clock.now() + timedelta(days=6)).fired == 0
    assert run_once(db, clock.now() + timedelta(days=8)).fired == 1
    kinds = history_kinds(client, parent["id"])
    assert ("element_completed", "archive_week") in kinds
    assert ("element_completed", "remind") in kinds
    # The reminder leaves the task with the station; reporting late still ends the work.
    assert only_task(client, "station1")["id"] == archive["id"]
    complete(client, "station1", archive, {"reported_on": "2027-06-20"})
    done = complete(
        client, "academic", only_task(client, "academic"), {"received_on": "2027-06-21"}
    )
    assert done["instance"]["state"] == "completed"
