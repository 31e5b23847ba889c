"""10 教学管理 through the REST API: the audits and 抽考, and a new version of the progress
rules (processes/teaching_progress.dmn) deployed; the progress branches, the make-ups and the
call of 9 毕业设计（论文） are in test_teaching_progress.py."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from tests.helpers import (
    ROOT,
    auth,
    complete,
    deploy,
    deploy_processes,
    history_kinds,
    only_task,
    student_id,
    tasks_of,
)
from xueji.deadlines import BEIJING
from xueji.models import Course, StatusChange, Student

COURSES = {"C1": "高等数学", "C2": "大学英语", "C3": "管理学原理", "C4": "会计学基础"}
EARLIER = {"C5": "经济学原理", "C6": "统计学"}
PLAN = {"plan_version": "2027 版", "revisions": "调整实践学时"}
TIMETABLE = {"teachers": [{"course": "C1", "name": "张老师", "self_hired": True}]}
ARRANGEMENT = {"arrangement": "周末集中面授", "reported_on": "2027-03-01"}
TEACHING = {"started_on": "2027-03-20", "ended_on": "2027-06-10", "sessions": 12}
PAPERS = {"papers": [{"course": "C1", "setter": "张老师"}], "reported_on": "2027-06-01"}
EXAM = {"held_on": "2027-06-25", "candidates": 3}
APPROVE = {"outcome": "approved"}


@pytest.fixture
def processes(client, db):
    with db.db.writer() as session:
        for code, name in {**COURSES, **EARLIER}.items():
            session.add(Course(code=code, name=name, credits=3))
        session.commit()
    deploy_processes(client, "teaching_progress", "thesis", "teaching_management")


def start(client, graduating=False, **extra):
    variables = {
        "year": 2027,
        "term": "2027-春",
        "teaching_date": "2027-03-20",
        "exam_date": "2027-06-25",
        "graduating": graduating,
        **extra,
    }
    if graduating:
        variables.setdefault("start_date", "2027-07-01")
    response = client.post(
        "/api/v1/process-definitions/teaching_management/start",
        json={"variables": variables},
        headers=auth(client, "station1"),
    )
    assert response.status_code == 201, response.text
    return response.json()


def step(client, username, name, data, expect=200):
    task = only_task(client, username)
    assert task["name"] == name, task
    return complete(client, username, task, data, expect)


def to_marking(client, sampled=("C1",)):
    """From the teaching plan to the grade entry, every audit approved at once."""
    step(client, "station1", "制定、修订教学计划", PLAN)
    courses = [{"code": c, "sampled": c in sampled} for c in COURSES]
    step(client, "station1", "编制学期任务表，确定抽考课程", {"courses": courses})
    step(client, "station1", "聘请教师，编排课程表", TIMETABLE)
    step(client, "station1", "面授前二周上报学期面授教学安排表、自聘教师名单", ARRANGEMENT)
    step(client, "academic", "学院审核", APPROVE)
    step(client, "station1", "组织安排面授", TEACHING)
    step(client, "station1", "组织教师命题", PAPERS)
    step(client, "academic", "学院审核", APPROVE)
    if sampled:
        step(client, "academic", "抽考课目试题寄发函授站", {"sent_on": "2027-06-10"})
    step(client, "station1", "组织考试", EXAM)


def sheet(failures: dict[int, set[str]], courses=COURSES) -> dict:
    """A grade sheet: every student sits every course; the listed ones are failed."""
    return {
        "grades": [
            {"student": sid, "course": code, "score": 45 if code in failed else 80}
            for sid, failed in failures.items()
            for code in courses
        ]
    }


def detail(client, instance_id, username="registrar"):
    response = client.get(
        f"/api/v1/process-instances/{instance_id}", headers=auth(client, username)
    )
    assert response.status_code == 200, response.text
    return response.json()


def status_rows(db, sid):
    with db.db.reader() as session:
        student = session.get(Student, sid)
        changes = list(
            session.scalars(
                select(StatusChange).where(StatusChange.student_id == sid).order_by(StatusChange.id)
            )
        )
        session.expunge_all()
        return student, changes


def ids(client, *usernames):
    return [student_id(client, u) for u in usernames]


def test_audits_send_the_station_back_until_approved(client, db, processes):
    instance = start(client)
    plan = only_task(client, "station1")
    due = datetime.fromisoformat(plan["due_at"]).astimezone(BEIJING)
    assert due.date().isoformat() == "2027-03-15"  # 3 月 15 日前
    step(client, "station1", "制定、修订教学计划", PLAN)
    step(
        client,
        "station1",
        "编制学期任务表，确定抽考课程",
        {"courses": [{"code": "C1", "sampled": False}]},
    )
    step(client, "station1", "聘请教师，编排课程表", TIMETABLE)
    report = only_task(client, "station1")
    due = datetime.fromisoformat(report["due_at"]).astimezone(BEIJING)
    assert due.date().isoformat() == "2027-03-06"  # 面授前二周
    complete(client, "station1", report, ARRANGEMENT)
    step(client, "academic", "学院审核", {"outcome": "rejected"}, expect=422)
    step(client, "academic", "学院审核", {"outcome": "rejected", "reason": "自聘教师资格不全"})
    step(client, "station1", "面授前二周上报学期面授教学安排表、自聘教师名单", ARRANGEMENT)
    step(client, "academic", "学院审核", APPROVE)
    step(client, "station1", "组织安排面授", TEACHING)
    papers = only_task(client, "station1")
    due = datetime.fromisoformat(papers["due_at"]).astimezone(BEIJING)
    assert due.date().isoformat() == "2027-06-11"  # 考试前二周
    complete(client, "station1", papers, PAPERS)
    step(client, "academic", "学院审核", {"outcome": "rejected", "reason": "试题超出大纲"})
    again = only_task(client, "station1")
    assert again["name"] == "组织教师命题"
    seen = detail(client, instance["id"], "station1")
    assert seen["variables"]["papers_return_reason"] == "试题超出大纲"
    complete(client, "station1", again, PAPERS)
    step(client, "academic", "学院审核", APPROVE)
    # no 抽考 course: the academic office sends nothing, the station holds the exam
    assert tasks_of(client, "academic") == []
    assert only_task(client, "station1")["name"] == "组织考试"
    kinds = history_kinds(client, instance["id"])
    assert kinds.count(("element_completed", "papers_returned")) == 1
    assert kinds.count(("task_completed", "arrangement_review")) == 2


def test_sampled_courses_have_their_papers_sent_by_the_college(client, db, processes):
    start(client)
    to_marking(client, sampled=("C2", "C3"))
    assert only_task(client, "station1")["name"] == "阅卷评定成绩"


def _two_thirds_table() -> bytes:
    """teaching_progress.dmn with the 学期 threshold raised from 1/2 to 2/3."""
    xml = (ROOT / "processes" / "teaching_progress.dmn").read_text(encoding="utf-8")
    for rule_id in ("term_makeup", "term_repeat"):
        start = xml.index(f'<rule id="{rule_id}">')
        end = xml.index("</rule>", start)
        xml = xml[:start] + xml[start:end].replace("1/2", "2/3") + xml[end:]
    assert xml.count("2/3") == 4  # the rules' entries and descriptions
    return xml.encode()


def _term_with_new_threshold(client, db):
    s1, s2 = ids(client, "stu1001", "stu1002")
    start(client)
    to_marking(client)
    step(client, "station1", "阅卷评定成绩", sheet({s1: {"C1", "C2"}, s2: {"C1", "C2", "C3"}}))
    # 2 of 4 failed: 学期补考 under 2/3 (留级 under 1/2); 3 of 4 still 留级
    [makeup] = tasks_of(client, "station1")
    assert (makeup["name"], makeup["student"]) == ("学期补考", s1)
    assert status_rows(db, s1)[0].status == "在籍"
    assert status_rows(db, s2)[0].status == "留级"


def test_a_new_decision_table_version_changes_the_threshold(client, db, processes):
    """The administrator raises the 留级 threshold from 1/2 to 2/3 by deploying the table
    alone; the process using it gets a new version pinned to the new table."""
    deployed = deploy(client, ("teaching_progress.dmn", _two_thirds_table()))
    # the per-student pool 学生学业进度 evaluates it: that process gets a version pinned to
    # it, and each term's call starts the latest version of the pool
    assert sorted((d["key"], d["version"]) for d in deployed["definitions"]) == [
        ("teaching_progress", 2),
        ("teaching_student_progress", 2),
    ]
    _term_with_new_threshold(client, db)


def test_a_new_table_deployed_with_a_new_process_version_changes_the_threshold(
    client, db, processes
):
    bpmn = (ROOT / "processes" / "teaching_management.bpmn").read_bytes()
    bpmn = bpmn.replace(b"</bpmn:documentation>", "（留级线 2/3）</bpmn:documentation>".encode(), 1)
    deployed = deploy(
        client,
        ("teaching_progress.dmn", _two_thirds_table()),
        ("teaching_management.bpmn", bpmn),
    )
    versions = {(d["key"], d["version"]) for d in deployed["definitions"]}
    assert versions == {
        ("teaching_progress", 2),
        ("teaching_management", 2),
        ("teaching_student_progress", 2),
    }
    _term_with_new_threshold(client, db)
