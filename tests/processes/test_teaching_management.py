"""10 教学管理 through the REST API along every branch: the audits, 抽考, the academic progress
rules of processes/teaching_progress.dmn, and the call of 9 毕业设计（论文）."""

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
from xueji import clock
from xueji.deadlines import BEIJING
from xueji.models import Course, Grade, StatusChange, Student

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


def test_term_progress_rules_makeup_below_half_repeat_from_half(client, db, processes):
    s1, s2, s3 = ids(client, "stu1001", "stu1002", "stu1003")
    instance = start(client)
    to_marking(client)
    marking = only_task(client, "station1")
    wrong = {"grades": [{"student": s1, "course": "C9", "score": 70}]}
    complete(client, "station1", marking, wrong, expect=422)
    done = complete(client, "station1", marking, sheet({s1: {"C1"}, s2: {"C1", "C2"}, s3: set()}))
    assert done["instance"]["state"] == "completed"
    progress = done["instance"]["variables"]["progress_results"]["学期"]
    assert (progress["合格"], progress["学期补考"], progress["留级"]) == ([s3], [s1], [s2])
    assert progress["courses"] == {str(s1): ["C1"], str(s2): ["C1", "C2"]}
    kinds = history_kinds(client, instance["id"])
    assert ("element_completed", "progress_rule") in kinds
    assert kinds[-2:] == [("element_completed", "term_end"), ("instance_completed", None)]
    # 留级 changes the record with the instance that decided it; 学期补考 only lists the courses
    repeated, [change] = status_rows(db, s2)
    assert (repeated.status, repeated.intake_year) == ("留级", 2024)  # 王芳 entered in 2023
    assert (change.to_status, change.kind, change.instance_id) == ("留级", "留级", instance["id"])
    assert change.details["failed_courses"] == ["C1", "C2"]
    for sid, demo_status in ((s1, "已注册"), (s3, "在籍")):
        student, changes = status_rows(db, sid)
        assert student.status == demo_status and changes == []
    with db.db.reader() as session:
        grades = list(session.scalars(select(Grade).where(Grade.instance_id == instance["id"])))
    # official: the progress rules just acted on them, and 7 and 8 read the same rows
    assert len(grades) == 12 and {(g.term, g.attempt, g.kind, g.official) for g in grades} == {
        ("2027-春", 0, "考试", True)
    }
    assert sum(not g.passed for g in grades) == 3


def test_graduation_clearance_final_makeup_and_the_thesis(client, db, processes):
    s1, s2, s3 = ids(client, "stu1001", "stu1002", "stu1003")
    # stu1003 failed two courses of an earlier term (in the college's records): 6 in all
    with db.db.writer() as session:
        for code in EARLIER:
            course = session.scalar(select(Course).where(Course.code == code))
            session.add(
                Grade(
                    student_id=s3,
                    course_id=course.id,
                    term="2026-秋",
                    attempt=0,
                    kind="考试",
                    score=40,
                    passed=False,
                    official=True,
                    recorded_by="station1",
                    recorded_at=clock.now(),
                )
            )
        session.commit()
    instance = start(client, graduating=True)
    to_marking(client, sampled=())
    step(client, "station1", "阅卷评定成绩", sheet({s1: {"C1"}, s2: {"C1"}, s3: {"C1"}}))
    results = detail(client, instance["id"])["variables"]["progress_results"]
    assert results["学期"]["学期补考"] == [s1, s2, s3]
    # 毕业清考: s1, s2 still fail C1 (1/4 < 1/3); s3 still fails C1 and C5 (2/6 = 1/3)
    clearance = only_task(client, "station1")
    assert clearance["name"] == "毕业清考"
    passed_course = {"grades": [{"student": s1, "course": "C2", "score": 90}]}
    complete(client, "station1", clearance, passed_course, expect=422)  # C2 was not failed
    complete(
        client,
        "station1",
        clearance,
        {
            "grades": [
                {"student": s1, "course": "C1", "score": 50},
                {"student": s2, "course": "C1", "absent": True},
                {"student": s3, "course": "C1", "score": 30},
                {"student": s3, "course": "C5", "score": 55},
                {"student": s3, "course": "C6", "score": 75},
            ]
        },
    )
    clearance = detail(client, instance["id"])["variables"]["progress_results"]["毕业清考"]
    assert (clearance["最后一次补考"], clearance["结业"]) == ([s1, s2], [s3])
    # 最后一次补考: s1 passes, s2 fails and 结业
    step(
        client,
        "station1",
        "最后一次补考",
        {
            "grades": [
                {"student": s1, "course": "C1", "score": 61},
                {"student": s2, "course": "C1", "score": 20},
            ]
        },
    )
    final = detail(client, instance["id"])["variables"]["progress_results"]["最后一次补考"]
    assert (final["合格"], final["结业"]) == ([s1], [s2])
    for sid in (s2, s3):
        student, [change] = status_rows(db, sid)
        assert (student.status, student.conclusion) == ("结业", "结业")
        assert (change.to_status, change.instance_id) == ("结业", instance["id"])
    with db.db.reader() as session:
        attempts = session.scalars(
            select(Grade.attempt)
            .where(Grade.student_id == s1, Grade.instance_id.is_not(None))
            .order_by(Grade.attempt)
        ).all()
    assert attempts == [0, 0, 0, 0, 1, 2]

    # 毕业设计（论文）、答辩: the thesis runs as a child instance for the one student left
    parent = detail(client, instance["id"])
    [thesis_id] = parent["children"]
    thesis = detail(client, thesis_id)
    assert thesis["key"] == "thesis" and thesis["parent_id"] == instance["id"]
    assert thesis["variables"]["students"] == [s1]
    plan = only_task(client, "station1")
    assert plan["instance_id"] == thesis_id
    due = datetime.fromisoformat(plan["due_at"]).astimezone(BEIJING)
    assert due.date().isoformat() == "2027-06-10"  # three weeks before 2027-07-01
    complete(client, "station1", plan, {"summary": "工作计划", "reported_on": "2027-06-01"})
    assignment = [{"student": s1, "group": "一", "advisor": "advisor1", "title": "题目"}]
    step(
        client,
        "station1",
        "下达毕业设计任务，确定毕业设计（论文）分组名单、指导教师",
        {"assignments": assignment},
    )
    step(
        client,
        "station1",
        "召开毕业设计（论文）动员会，讲清毕业设计（论文）的目的、任务、要求、总体安排",
        {"held_on": "2027-07-01", "place": "报告厅"},
    )
    guidance = {"title": "题目", "sessions": [{"date": "2027-07-10", "content": "开题"}]}
    step(client, "advisor1", "毕业设计（论文）过程控制，填写过程指导单", guidance)
    step(client, "station1", "毕业设计（论文）答辩资格审核", APPROVE)
    step(
        client,
        "station1",
        "组织安排毕业设计（论文）答辩，填写评语表",
        {"defence_date": "2027-09-01", "panel": "答辩小组", "comments": "良好"},
    )
    step(client, "station1", "成绩评定", {"outcome": "passed", "grade": "良好"})
    step(
        client,
        "station1",
        "优秀毕业设计（论文）存档，评语表、成绩单一周内上报学院",
        {"reported_on": "2027-09-05"},
    )
    step(client, "academic", "学院接收评语表、成绩单", {"received_on": "2027-09-06"})
    done = detail(client, instance["id"])
    assert done["state"] == "completed" and detail(client, thesis_id)["state"] == "completed"
    assert done["variables"]["results"][0]["outcome"] == "通过"
    kinds = history_kinds(client, instance["id"])
    assert kinds[-6:] == [
        ("element_completed", "thesis_students"),
        ("call_started", "thesis"),
        ("call_completed", "thesis"),
        ("element_completed", "thesis"),
        ("element_completed", "done"),
        ("instance_completed", None),
    ]
    student, changes = status_rows(db, s1)
    assert student.status == "已注册" and changes == []  # 7 graduates students, not this process


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
    done = step(
        client, "station1", "阅卷评定成绩", sheet({s1: {"C1", "C2"}, s2: {"C1", "C2", "C3"}})
    )
    progress = done["instance"]["variables"]["progress_results"]["学期"]
    # 2 of 4 failed: 学期补考 under 2/3 (留级 under 1/2); 3 of 4 still 留级
    assert (progress["学期补考"], progress["留级"]) == ([s1], [s2])
    assert status_rows(db, s1)[0].status == "已注册"


def test_a_new_decision_table_version_changes_the_threshold(client, db, processes):
    """The administrator raises the 留级 threshold from 1/2 to 2/3 by deploying the table
    alone; the process using it gets a new version pinned to the new table."""
    deployed = deploy(client, ("teaching_progress.dmn", _two_thirds_table()))
    assert [(d["key"], d["version"]) for d in deployed["definitions"]] == [
        ("teaching_progress", 2),
        ("teaching_management", 2),
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
    assert versions == {("teaching_progress", 2), ("teaching_management", 2)}
    _term_with_new_threshold(client, db)
