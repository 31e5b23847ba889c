"""The student list and a student's record: scope, masking, filters, search, contents."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from tests.api.test_workflow import REVIEW, start_review
from tests.helpers import auth, deploy, student_id
from xueji import clock
from xueji.db.session import session_scope
from xueji.demo import seed_demo
from xueji.models import Admission, Course, Grade, Major, Station, Student, ThesisResult
from xueji.students.id_numbers import birth_date, id_number_problem
from xueji.students.records import set_status

S01 = ["张伟", "王芳", "李娜", "杨帆", "黄晓燕"]
S02 = ["刘洋", "陈静", "马超"]
# in the order seeded: api.md's five (在籍), then the extra ones (已注册)
ALL = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "黄晓燕", "马超"]


def names(client, username, **params):
    response = client.get("/api/v1/students", params=params, headers=auth(client, username))
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def record(client, username, sid, expect=200):
    response = client.get(f"/api/v1/students/{sid}", headers=auth(client, username))
    assert response.status_code == expect, response.text
    return response.json()


def test_registrar_sees_every_station(client):
    body = client.get("/api/v1/students", headers=auth(client, "registrar")).json()
    assert [i["name"] for i in body["items"]] == ALL
    assert (body["total"], body["page"], body["per_page"]) == (8, 1, 50)
    first = body["items"][0]
    assert first["station"] == "S01" and first["status"] == "在籍"
    assert first["photo_status"] == "未采集" and first["student_number"] is None
    assert first["level"] == "专科" and first["major"] == "会计" and first["intake_year"] == 2025
    registered = body["items"][5]
    assert (registered["name"], registered["status"]) == ("杨帆", "已注册")
    assert registered["photo_status"] == "已校对" and registered["student_number"] == "202500110001"


def test_station_user_never_sees_other_station_students(client):
    assert names(client, "station1") == S01
    assert names(client, "advisor1") == S01
    assert names(client, "station2") == S02
    assert names(client, "station1", station="S02") == []
    assert names(client, "station1", q="刘洋") == []
    record(client, "station1", student_id(client, "stu2001"), expect=404)
    assert record(client, "station2", student_id(client, "stu2001"))["name"] == "刘洋"


def test_student_sees_only_themself(client):
    own = student_id(client, "stu1001")
    body = client.get("/api/v1/students", headers=auth(client, "stu1001")).json()
    assert [i["id"] for i in body["items"]] == [own] and body["total"] == 1
    assert record(client, "stu1001", own)["name"] == "张伟"
    record(client, "stu1001", student_id(client, "stu1002"), expect=404)
    record(client, "stu1001", 999_999, expect=404)


def test_id_numbers_are_whole_only_for_records_staff_and_the_student(client):
    sid = student_id(client, "stu1001")
    with client.app.state.runtime.db.reader() as session:
        whole = session.get(Student, sid).id_number
    for username in ("registrar", "admin", "station1", "stu1001"):
        assert record(client, username, sid)["id_number"] == whole
    masked = whole[:6] + "********" + whole[-4:]
    for username in ("academic", "grades", "leader", "advisor1"):
        assert record(client, username, sid)["id_number"] == masked
        assert names(client, username, q="张伟") == ["张伟"]
        # Searching by an ID number would tell a masked viewer whose it is.
        assert names(client, username, q=whole) == []
    assert names(client, "registrar", q=whole) == ["张伟"]


def test_filters(client):
    assert names(client, "registrar", station="S02") == S02
    assert names(client, "registrar", level="专升本") == ["李娜"]
    assert names(client, "registrar", major="护理") == ["刘洋", "马超"]
    assert names(client, "registrar", intake=2026) == ["李娜", "陈静"]
    assert names(client, "registrar", intake=2026, station="S01") == ["李娜"]
    assert names(client, "registrar", status="在籍") == ALL[:5]
    assert names(client, "registrar", status="已注册") == ["杨帆", "黄晓燕", "马超"]
    assert names(client, "registrar", status="毕业") == []
    assert names(client, "registrar", station="S99") == []


def test_search_by_name_id_number_and_student_number(db, client):
    assert names(client, "registrar", q="王") == ["王芳"]
    assert names(client, "registrar", q="410303") == ["陈静"]
    assert names(client, "registrar", q="%") == []
    with session_scope(db.db.writer) as session:
        student = session.get(Student, student_id(client, "stu1002"))
        student.student_number = "202501010002"
        id_number = student.id_number
    assert names(client, "station1", q="20250101") == ["王芳"]
    assert names(client, "registrar", q=id_number[-6:].lower()) == ["王芳"]
    found = client.get(
        "/api/v1/students", params={"q": "202501010002"}, headers=auth(client, "registrar")
    ).json()
    assert found["items"][0]["student_number"] == "202501010002"


def test_paging(client):
    headers = auth(client, "registrar")
    page = client.get("/api/v1/students", params={"per_page": 3, "page": 3}, headers=headers)
    assert [i["name"] for i in page.json()["items"]] == ["黄晓燕", "马超"]
    assert page.json()["total"] == 8
    too_many = client.get("/api/v1/students", params={"per_page": 500}, headers=headers)
    assert too_many.status_code == 422


def test_record_holds_the_national_fields(client):
    body = record(client, "station1", student_id(client, "stu1003"))
    assert body["exam_number"] == "26410103150003"
    assert body["birth_date"] == "1997-01-02"
    assert body["id_number"][6:14] == "19970102"
    assert (body["ethnicity"], body["political_status"]) == ("回族", "中共党员")
    assert (body["major_code"], body["years"], body["level"]) == ("080901", "2.5", "专升本")
    assert body["class_code"] == "S01-2026-01" and body["study_mode"] == "函授"
    assert body["enrolled_on"] == "2026-03-01" and body["expected_graduation"] == "2029-01-10"
    assert body["remarks"].startswith("原专科院校")
    assert body["station_name"] == "郑州函授站"
    assert body["address"] and body["phone"] and body["work_unit"]
    assert body["certificate_number"] is None and body["graduated_on"] is None
    assert body["status_history"] == body["grades"] == body["theses"] == body["instances"] == []


def test_record_shows_status_history_grades_theses_and_instances(db, client):
    deploy(client, *REVIEW)
    instance = start_review(client, "stu1001")
    sid = student_id(client, "stu1001")
    start_review(client, "stu2001")
    with session_scope(db.db.writer) as session:
        student = session.get(Student, sid)
        set_status(
            session,
            student,
            "休学",
            actor="registrar",
            instance_id=instance["id"],
            kind="休学",
            reason="工作调动",
            effective_on=date(2027, 3, 1),
        )
        course = session.scalar(select(Course).where(Course.code == "ZY101"))
        for attempt, score, passed in ((0, 48.0, False), (1, 75.0, True)):
            session.add(
                Grade(
                    student_id=sid,
                    course_id=course.id,
                    term="2025-秋",
                    attempt=attempt,
                    kind="补考" if attempt else "考试",
                    score=score,
                    passed=passed,
                    official=passed,
                    recorded_by="grades",
                    recorded_at=clock.now(),
                )
            )
        session.add(
            ThesisResult(
                student_id=sid,
                title="小微企业成本核算研究",
                advisor="advisor1",
                eligible=True,
                grade="良好",
                passed=True,
                recorded_at=clock.now(),
            )
        )
    for username in ("registrar", "station1", "stu1001"):
        body = record(client, username, sid)
        assert body["status"] == "休学"
        [change] = body["status_history"]
        assert (change["from_status"], change["to_status"], change["kind"]) == (
            "在籍",
            "休学",
            "休学",
        )
        assert change["instance_id"] == instance["id"] and change["effective_on"] == "2027-03-01"
        assert change["changed_by"] == "registrar" and change["reason"] == "工作调动"
        assert [
            (g["course_name"], g["attempt"], g["score"], g["passed"], g["official"])
            for g in body["grades"]
            if g["course_name"] == "基础会计" and g["term"] == "2025-秋"  # not the demo's
        ] == [
            ("基础会计", 0, 48.0, False, False),
            ("基础会计", 1, 75.0, True, True),
        ]
        added = [
            g for g in body["grades"] if (g["course_name"], g["term"]) == ("基础会计", "2025-秋")
        ]
        assert added[1]["kind"] == "补考" and added[0]["credits"] == 4.0
        [thesis] = body["theses"]
        assert (thesis["grade"], thesis["passed"]) == ("良好", True)
        # Only the instances about this student, never the other station's.
        assert [i["id"] for i in body["instances"]] == [instance["id"]]
        assert body["instances"][0]["key"] == "review"


def test_masked_viewers_see_no_whole_id_number_in_the_history(db, client):
    sid = student_id(client, "stu1002")
    new = "11010519491231002X"
    with session_scope(db.db.writer) as session:
        student = session.get(Student, sid)
        old = student.id_number
        student.id_number = new
        set_status(
            session,
            student,
            student.status,
            actor="registrar",
            kind="个人信息更正",
            details={"id_number": [old, new]},
        )
    assert record(client, "station1", sid)["status_history"][0]["details"] == {
        "id_number": [old, new]
    }
    masked = record(client, "academic", sid)["status_history"][0]["details"]
    assert masked == {"id_number": [old[:6] + "********" + old[-4:], "110105********002X"]}


def test_unauthenticated_is_401(client):
    assert client.get("/api/v1/students").status_code == 401
    assert client.get("/api/v1/students/1").status_code == 401


def test_demo_records_are_complete_and_seeding_again_changes_nothing(db):
    with session_scope(db.db.writer) as session:
        assert seed_demo(session) is False
    with db.db.reader() as session:
        students = list(session.scalars(select(Student)))
        for s in students:
            assert (
                s.birth_date == birth_date(s.id_number) and id_number_problem(s.id_number) is None
            )
            assert int(s.id_number[16]) % 2 == (1 if s.gender == "男" else 0)
            assert s.major_id and s.class_id and s.exam_number and s.enrolled_on
            assert s.ethnicity and s.political_status and s.phone and s.expected_graduation
            major = session.get(Major, s.major_id)
            assert (major.name, major.level) == (s.major, s.level)
        candidates = list(session.scalars(select(Admission)))
        codes = {st.id: st.code for st in session.scalars(select(Station))}
        assert {codes[a.station_id] for a in candidates} == {"S01", "S02"}
        assert {a.level for a in candidates} == {"专科", "本科", "专升本"}
        # every enrolled student has the admission row of their intake; the rest check in
        admitted = {a.exam_number: a for a in candidates}
        for s in students:
            row = admitted[s.exam_number]
            assert (row.name, row.id_number, row.intake_year) == (
                s.name,
                s.id_number,
                s.intake_year,
            )
        waiting = [a for a in candidates if a.exam_number not in {s.exam_number for s in students}]
        assert {a.intake_year for a in waiting} == {2027} and len(waiting) == 6
        assert not {a.id_number for a in waiting} & {s.id_number for s in students}
        assert all(id_number_problem(a.id_number) is None for a in candidates)
        assert session.scalar(select(func.count(Course.id))) >= 5


def test_api_md_students_are_enrolled_and_the_extra_ones_registered(db):
    """api.md: stu1001-1003 (S01) and stu2001-2002 (S02) are 在籍 (not yet electronically
    registered: no 学号), stu1003 专升本; the accounts beyond it are 已注册 with 学号, the
    2028 graduates of the demo's cases."""
    with db.db.reader() as session:
        by_user = {s.user.username: s for s in session.scalars(select(Student))}
        station = {st.id: st.code for st in session.scalars(select(Station))}
        contracted = {
            "stu1001": "S01",
            "stu1002": "S01",
            "stu1003": "S01",
            "stu2001": "S02",
            "stu2002": "S02",
        }
        for username, code in contracted.items():
            s = by_user[username]
            assert (s.status, s.student_number, station[s.station_id]) == ("在籍", None, code)
            assert s.name and s.major and s.intake_year and s.level in ("专科", "本科", "专升本")
            assert len(s.id_number) == 18 and id_number_problem(s.id_number) is None
        assert by_user["stu1003"].level == "专升本"
        extra = {
            "stu1004": ("S01", date(2028, 1, 10), "已校对"),
            "stu1005": ("S01", date(2028, 7, 1), "已采集"),
            "stu2003": ("S02", date(2028, 1, 10), "已校对"),
        }
        assert set(by_user) == set(contracted) | set(extra)
        for username, (code, due, photo) in extra.items():
            s = by_user[username]
            assert (s.status, station[s.station_id]) == ("已注册", code)
            assert (s.expected_graduation, s.photo_status) == (due, photo)
            assert s.student_number and id_number_problem(s.id_number) is None
        failed = session.scalars(select(Grade.student_id).where(Grade.passed.is_(False))).all()
        assert failed == [by_user["stu2003"].id]
        assert (
            session.scalar(
                select(func.count(Grade.id)).where(
                    Grade.student_id.in_([by_user[u].id for u in contracted])
                )
            )
            == 0
        )
