"""10 教学管理 from the demo state, as the demo users through the REST API: every end event of
the term and of each student's 学生学业进度, each branch of the progress rules (DMN
teaching_progress) through the diagram, 学生离校 reaching process 3, and the term's deadline."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests.helpers import ROOT, auth, complete, history_kinds, student_id, tasks_of
from xueji import clock
from xueji.deadlines import BEIJING
from xueji.models import Grade, ProcessInstance, Student, Timer, User
from xueji.scheduler.worker import run_once
from xueji.startup import deploy_directory

YEAR = clock.now().astimezone(BEIJING).year
APPROVE = {"outcome": "approved"}
STUDENTS = ("stu1001", "stu1002", "stu1003")
# Demo courses (xueji.demo COURSES)
THREE = ("GG001", "GG002", "ZY101")
FOUR = ("GG001", "GG002", "ZY101", "ZY501")


def deploy_as_served(db) -> None:
    """Deploy processes/ and forms/ as `xueji serve --demo` does on start (the demo accounts
    and records are the test database's)."""
    settings = db.settings.model_copy(
        update={"processes_dir": ROOT / "processes", "forms_dir": ROOT / "forms"}
    )
    deploy_directory(dataclasses.replace(db, settings=settings))


@pytest.fixture
def processes(db):
    # The scenarios count the courses of this process alone: their students are api.md's 在籍
    # students of a running term, with no earlier grades (the demo's earlier grades, of its
    # registered stu1004/stu1005, would change the 毕业清考 counts, over all courses).
    with db.db.reader() as session:
        students = list(
            session.scalars(select(Student).join(Student.user).where(User.username.in_(STUDENTS)))
        )
        assert len(students) == len(STUDENTS)
        assert {s.status for s in students} == {"在籍"}
        ids = [s.id for s in students]
        assert session.scalar(select(Grade.id).where(Grade.student_id.in_(ids))) is None
    deploy_as_served(db)


def task_named(client, username, name, student=None):
    found = [
        t
        for t in tasks_of(client, username, per_page=100)
        if t["name"] == name and (student is None or t["student"] == student)
    ]
    assert len(found) == 1, (name, student, tasks_of(client, username))
    return found[0]


def step(client, username, name, data, student=None, expect=200):
    return complete(client, username, task_named(client, username, name, student), data, expect)


def start(client, term, graduating=False):
    year = int(term[:4])
    variables = {
        "year": year,
        "term": term,
        "teaching_date": f"{year}-{'03' if term.endswith('春') else '09'}-20",
        "exam_date": f"{year}-{'06' if term.endswith('春') else '12'}-25",
        "graduating": graduating,
    }
    if graduating:
        variables["start_date"] = f"{year}-07-01"
    response = client.post(
        "/api/v1/process-definitions/teaching_management/start",
        json={"variables": variables},
        headers=auth(client, "station1"),
    )
    assert response.status_code == 201, response.text
    return response.json()


def to_marking(client, courses):
    step(client, "station1", "制定、修订教学计划", {"plan_version": "2027 版"})
    listed = [{"code": c, "sampled": False} for c in courses]
    step(client, "station1", "编制学期任务表，确定抽考课程", {"courses": listed})
    step(
        client,
        "station1",
        "聘请教师，编排课程表",
        {"teachers": [{"course": courses[0], "name": "张老师", "self_hired": True}]},
    )
    step(
        client,
        "station1",
        "面授前二周上报学期面授教学安排表、自聘教师名单",
        {"arrangement": "周末集中面授", "reported_on": "2027-03-01"},
    )
    step(client, "academic", "学院审核", APPROVE)
    step(
        client,
        "station1",
        "组织安排面授",
        {"started_on": "2027-03-20", "ended_on": "2027-06-10", "sessions": 12},
    )
    step(
        client,
        "station1",
        "组织教师命题",
        {"papers": [{"course": courses[0], "setter": "张老师"}], "reported_on": "2027-06-01"},
    )
    step(client, "academic", "学院审核", APPROVE)
    step(client, "station1", "组织考试", {"held_on": "2027-06-25", "candidates": 3})


def mark(client, courses, failures):
    """阅卷评定成绩: every student sits every course; the listed ones are failed."""
    sheet = [
        {"student": sid, "course": code, "score": 45 if code in failed else 80}
        for sid, failed in failures.items()
        for code in courses
    ]
    return step(client, "station1", "阅卷评定成绩", {"grades": sheet})


def makeup(client, name, sid, results):
    """A make-up sitting of one student: {course: score, or None for 缺考}."""
    grades = [
        {"course": c, "absent": True} if s is None else {"course": c, "score": s}
        for c, s in results.items()
    ]
    return step(client, "station1", name, {"grades": grades}, student=sid)


def children(db, parent_id):
    with db.db.reader() as session:
        rows = session.scalars(
            select(ProcessInstance).where(ProcessInstance.parent_id == parent_id)
        ).all()
        return {r.student_id: r.id for r in rows if r.definition.key == "teaching_student_progress"}


def ends(client, instance_id):
    """The end events an instance's history shows it reached."""
    end_ids = {
        "term_end",
        "done",
        "s_repeated",
        "s_next_term",
        "s_graduate",
        "s_left",
    }
    return [
        e
        for k, e in history_kinds(client, instance_id)
        if k == "element_completed" and e in end_ids
    ]


def passed(client, instance_id):
    """The elements (user tasks included) an instance's history shows completed."""
    done = ("element_completed", "task_completed")
    return {e for k, e in history_kinds(client, instance_id) if k in done}


def status(db, sid):
    with db.db.reader() as session:
        student = session.get(Student, sid)
        return student.status, student.conclusion


def run_thesis(client, sids):
    """9 毕业设计（论文） for the students left, each passed."""
    step(
        client,
        "station1",
        "按照教学计划、毕业设计管理规程制定毕业设计（论文）工作计划",
        {"summary": "工作计划", "reported_on": "2027-06-01"},
    )
    assignments = [
        {"student": s, "group": "一", "advisor": "advisor1", "title": f"题目{s}"} for s in sids
    ]
    step(
        client,
        "station1",
        "下达毕业设计任务，确定毕业设计（论文）分组名单、指导教师",
        {"assignments": assignments},
    )
    step(
        client,
        "station1",
        "召开毕业设计（论文）动员会，讲清毕业设计（论文）的目的、任务、要求、总体安排",
        {"held_on": "2027-07-01", "place": "报告厅"},
    )
    for s in sids:
        guidance = {"title": f"题目{s}", "sessions": [{"date": "2027-07-10", "content": "开题"}]}
        step(client, "advisor1", "毕业设计（论文）过程控制，填写过程指导单", guidance, student=s)
        step(client, "station1", "毕业设计（论文）答辩资格审核", APPROVE, student=s)
        step(
            client,
            "station1",
            "组织安排毕业设计（论文）答辩，填写评语表",
            {"defence_date": "2027-09-01", "panel": "答辩小组", "comments": "良好"},
            student=s,
        )
        step(client, "station1", "成绩评定", {"outcome": "passed", "grade": "良好"}, student=s)
    step(
        client,
        "station1",
        "优秀毕业设计（论文）存档，评语表、成绩单一周内上报学院",
        {"reported_on": "2027-09-05"},
    )
    step(client, "academic", "学院接收评语表、成绩单", {"received_on": "2027-09-06"})


def non_graduating_term(client, db):
    """Spring term of 4 courses: stu1001 fails one (学期补考, passed), stu1002 fails two (留级),
    stu1003 passes every course."""
    s1, s2, s3 = (student_id(client, u) for u in STUDENTS)
    instance = start(client, f"{YEAR + 1}-春")
    to_marking(client, FOUR)
    mark(client, FOUR, {s1: {"GG001"}, s2: {"GG001", "GG002"}, s3: set()})
    makeup(client, "学期补考", s1, {"GG001": 75})
    return instance["id"], children(db, instance["id"]), (s1, s2, s3)


def graduating_of_three(client, db):
    """Graduating term of 3 courses, each student failing one (1/3: 学期补考): stu1001 fails the
    make-up and 毕业清考 (结业: sat every course), stu1002 misses both (肄业: not sat), stu1003
    passes the make-up (准予毕业, writes the thesis)."""
    s1, s2, s3 = (student_id(client, u) for u in STUDENTS)
    for sid in (s1, s2):
        started = client.post(
            "/api/v1/process-definitions/daily_records/start",
            json={"variables": {"student": sid}},
            headers=auth(client, "station1"),
        )
        assert started.status_code == 201, started.text
    instance = start(client, f"{YEAR + 1}-春", graduating=True)
    to_marking(client, THREE)
    mark(client, THREE, {s1: {"GG001"}, s2: {"GG001"}, s3: {"GG001"}})
    makeup(client, "学期补考", s1, {"GG001": 50})
    makeup(client, "学期补考", s2, {"GG001": None})
    makeup(client, "学期补考", s3, {"GG001": 88})
    makeup(client, "毕业清考", s1, {"GG001": 40})
    makeup(client, "毕业清考", s2, {"GG001": None})
    run_thesis(client, [s3])
    return instance["id"], children(db, instance["id"]), (s1, s2, s3)


def graduating_of_four(client, db):
    """Graduating term of 4 courses: stu1001 and stu1002 fail one (1/4), fail the make-up and
    毕业清考 (1/4 < 1/3: 最后一次补考), stu1001 passes it, stu1002 fails it (结业); stu1003
    fails two (1/2: 留级)."""
    s1, s2, s3 = (student_id(client, u) for u in STUDENTS)
    instance = start(client, f"{YEAR + 1}-春", graduating=True)
    to_marking(client, FOUR)
    mark(client, FOUR, {s1: {"ZY501"}, s2: {"ZY501"}, s3: {"GG001", "GG002"}})
    for sid in (s1, s2):
        makeup(client, "学期补考", sid, {"ZY501": 30})
        makeup(client, "毕业清考", sid, {"ZY501": 40})
    makeup(client, "最后一次补考", s1, {"ZY501": 61})
    makeup(client, "最后一次补考", s2, {"ZY501": 20})
    run_thesis(client, [s1])
    return instance["id"], children(db, instance["id"]), (s1, s2, s3)


def graduating_with_clearance_passed(client, db):
    """Graduating term of 4 courses: stu1001 fails one, fails the make-up and passes 毕业清考
    (及格 → 准予毕业); stu1002 fails one, then misses 毕业清考 and the 最后一次补考 (肄业);
    stu1003 passes every course (无不及格课程 → 准予毕业)."""
    s1, s2, s3 = (student_id(client, u) for u in STUDENTS)
    instance = start(client, f"{YEAR + 1}-春", graduating=True)
    to_marking(client, FOUR)
    mark(client, FOUR, {s1: {"GG002"}, s2: {"GG002"}, s3: set()})
    makeup(client, "学期补考", s1, {"GG002": 30})
    makeup(client, "学期补考", s2, {"GG002": 30})
    makeup(client, "毕业清考", s1, {"GG002": 72})
    makeup(client, "毕业清考", s2, {"GG002": None})
    makeup(client, "最后一次补考", s2, {"GG002": None})
    run_thesis(client, [s1, s3])
    return instance["id"], children(db, instance["id"]), (s1, s2, s3)


SCENARIOS = {
    "non_graduating": non_graduating_term,
    "graduating_of_three": graduating_of_three,
    "graduating_of_four": graduating_of_four,
}


@pytest.mark.parametrize(
    "scenario, who, end",
    [
        ("non_graduating", None, "term_end"),
        ("graduating_of_three", None, "done"),
        ("non_graduating", 0, "s_next_term"),
        ("non_graduating", 1, "s_repeated"),
        ("graduating_of_three", 2, "s_graduate"),
        ("graduating_of_three", 0, "s_left"),
    ],
    ids=["term_end", "done", "s_next_term", "s_repeated", "s_graduate", "s_left"],
)
def test_each_end_event_is_reached(client, db, processes, scenario, who, end):
    main, kids, students = SCENARIOS[scenario](client, db)
    instance_id = main if who is None else kids[students[who]]
    assert ends(client, instance_id) == [end]
    assert ("instance_completed", None) in history_kinds(client, instance_id)
    assert history_kinds(client, main)[-1] == ("instance_completed", None)
    if end == "s_left":  # 学生离校 thrown to process 3
        assert ("message_sent", None) in history_kinds(client, instance_id)


def test_a_non_graduating_term_goes_on_to_the_next_term(client, db, processes):
    main, kids, (s1, s2, s3) = non_graduating_term(client, db)
    assert ends(client, main) == ["term_end"]
    assert "thesis" not in passed(client, main)
    # 及格
    assert {"s_term_settled", "s_next_term"} <= passed(client, kids[s3])
    assert "s_term_failed" not in passed(client, kids[s3])
    # 不及格 → 不及格课程少于 1/2 → 学期补考 (passed) → 进入下一学期
    assert {"s_term_failed", "s_makeup", "s_makeup_record", "s_next_term"} <= passed(
        client, kids[s1]
    )
    assert status(db, s1) == ("在籍", None)
    # 不及格 → 留级 (2 of 4)
    assert {"s_term_failed", "s_repeat", "s_repeated"} <= passed(client, kids[s2])
    assert "s_makeup" not in passed(client, kids[s2])
    assert status(db, s2) == ("留级", None)


def test_clearance_with_a_third_failed_concludes_by_the_rule_and_the_student_leaves(
    client, db, processes
):
    main, kids, (s1, s2, s3) = graduating_of_three(client, db)
    # 清考后仍有 1/3 课程不及格 → 肄、结业: 结业 for the one who sat, 肄业 for the one who did not
    for sid in (s1, s2):
        assert {"s_clearance", "s_cleared_rule", "s_conclude", "s_left"} <= passed(
            client, kids[sid]
        )
        assert "s_final" not in passed(client, kids[sid])
    assert status(db, s1) == ("结业", "结业")
    assert status(db, s2) == ("肄业", "肄业")
    # 学期补考 passed, nothing failed at graduation: no 毕业清考, 准予毕业, the thesis
    assert {"s_makeup", "s_all_count", "s_graduate"} <= passed(client, kids[s3])
    assert "s_clearance" not in passed(client, kids[s3])
    assert status(db, s3) == ("在籍", None)
    with db.db.reader() as session:
        thesis = session.scalars(
            select(ProcessInstance).where(ProcessInstance.parent_id == main)
        ).all()
    assert [t.definition.key for t in thesis].count("thesis") == 1
    [students] = [t.variables["roster"] for t in thesis if t.definition.key == "thesis"]
    assert [s["id"] for s in students] == [s3]
    assert ends(client, main) == ["done"]


def test_student_leaving_reaches_process_3_which_archives_the_status_card(client, db, processes):
    main, kids, (s1, s2, s3) = graduating_of_three(client, db)
    with db.db.reader() as session:
        daily = {
            r.student_id: r.id
            for r in session.scalars(select(ProcessInstance))
            if r.definition.key == "daily_records"
        }
    for sid, reason in ((s1, "结业"), (s2, "肄业")):
        assert ("message_received", "leaving") in history_kinds(client, daily[sid])
        archive = task_named(client, "station1", "学生学籍卡归档", student=sid)
        detail = client.get(f"/api/v1/tasks/{archive['id']}", headers=auth(client, "station1"))
        assert detail.json()["data"]["departure"]["reason"] == reason


def test_clearance_below_a_third_goes_to_the_last_makeup(client, db, processes):
    main, kids, (s1, s2, s3) = graduating_of_four(client, db)
    # 不及格课程少于 1/3 → 最后一次补考: 及格 → 准予毕业
    assert {"s_clearance", "s_final", "s_final_judged_rule", "s_graduate"} <= passed(
        client, kids[s1]
    )
    assert status(db, s1) == ("在籍", None)
    # 最后一次补考 不及格 → 肄、结业 (sat every course: 结业), 学生离校
    assert {"s_final", "s_conclude", "s_left"} <= passed(client, kids[s2])
    assert status(db, s2) == ("结业", "结业")
    # 留级 in the graduating term (2 of 4)
    assert ends(client, kids[s3]) == ["s_repeated"]
    assert status(db, s3)[0] == "留级"
    assert ends(client, main) == ["done"]


def test_a_makeup_takes_only_the_students_failed_courses(client, db, processes):
    s1, s2, s3 = (student_id(client, u) for u in STUDENTS)
    start(client, f"{YEAR + 1}-春")
    to_marking(client, FOUR)
    mark(client, FOUR, {s1: {"GG001"}, s2: set(), s3: set()})
    task = task_named(client, "station1", "学期补考", student=s1)
    # the sheet lists the student's failed course, for the station to give it a score
    detail = client.get(f"/api/v1/tasks/{task['id']}", headers=auth(client, "station1")).json()
    assert detail["data"]["grades"] == [{"course": "GG001"}]
    assert detail["data"]["progress_item"]["courses"] == ["GG001"]
    body = complete(
        client, "station1", task, {"grades": [{"course": "GG002", "score": 90}]}, expect=422
    )
    assert "GG002 没有不及格记录" in body["detail"]["message"]
    assert [t["student"] for t in tasks_of(client, "station1")] == [s1]


def test_every_outcome_of_the_rules_at_graduation(client, db, processes):
    main, kids, (s1, s2, s3) = graduating_with_clearance_passed(client, db)
    # 毕业清考 及格 → 准予毕业 (no 最后一次补考)
    assert {"s_clearance", "s_cleared_rule", "s_graduate"} <= passed(client, kids[s1])
    assert "s_final" not in passed(client, kids[s1])
    # 最后一次补考 不及格, never sat → 肄业 by the rule, 学生离校
    assert {"s_final", "s_final_judged_rule", "s_conclude", "s_left"} <= passed(client, kids[s2])
    assert status(db, s2) == ("肄业", "肄业")
    # 及格 in every course: 毕业学期, 无不及格课程 → 准予毕业
    assert {"s_all_count", "s_has_failed", "s_graduate"} <= passed(client, kids[s3])
    assert "s_clearance" not in passed(client, kids[s3])
    assert ends(client, main) == ["done"]
    assert [status(db, s)[0] for s in (s1, s3)] == ["在籍", "在籍"]


@pytest.mark.parametrize(
    "term, due",
    [(f"{YEAR}-秋", f"{YEAR + 1}-03-15"), (f"{YEAR + 1}-春", f"{YEAR + 1}-03-15")],
    ids=["autumn", "spring"],
)
def test_the_plan_deadline_is_computed_for_the_term(client, db, processes, term, due):
    instance = start(client, term)
    [plan] = tasks_of(client, "station1")
    assert plan["name"] == "制定、修订教学计划"
    assert datetime.fromisoformat(plan["due_at"]).astimezone(BEIJING).date().isoformat() == due
    assert plan["overdue"] is False
    assert tasks_of(client, "station1", overdue=True) == []
    # the deadline timer (逾期提醒) waits for the same day: it does not fire at once
    with db.db.reader() as session:
        [timer] = session.scalars(
            select(Timer).where(Timer.instance_id == instance["id"], Timer.state == "pending")
        ).all()
    assert timer.element_id == "plan_deadline"
    assert timer.due_at.astimezone(BEIJING).date().isoformat() == due
    assert run_once(db).fired == 0
    # past it, 逾期提醒 reaches its end
    assert run_once(db, timer.due_at + timedelta(minutes=1)).fired == 1
    reminded = ("element_completed", "plan_reminded")
    assert reminded in history_kinds(client, instance["id"])
