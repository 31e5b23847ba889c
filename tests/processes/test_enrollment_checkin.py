"""1 新生入学报到 through the REST API along every branch, and the record afterwards."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, select, update

from tests.helpers import (
    auth,
    checked_in_student_headers,
    complete,
    deploy_processes,
    history_kinds,
    only_task,
    tasks_of,
)
from xueji.db.session import session_scope
from xueji.models import Admission, Major, SchoolClass, Station, StatusChange, Student, User
from xueji.students.id_numbers import check_digit

YEAR = 2031
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def id_number(digits17: str) -> str:
    return digits17 + check_digit(digits17)


# exam number -> (name, gender, ID number, level, major, major code, station)
CANDIDATES = {
    "31410102110101": ("高原", "男", id_number("41010220000101123"), "专科", "会计", "630302", "S01"),
    "31410102150102": ("林夕", "女", id_number("41010219990202234"), "专升本", "计算机科学与技术", "080901", "S01"),
    "31410102110103": ("何平", "男", id_number("41010219980303345"), "专科", "会计", "630302", "S01"),
    "31410302110201": ("许诺", "女", id_number("41030219970404456"), "专科", "会计", "630302", "S02"),
}  # fmt: skip


def ensure_major(session, code, name, level, years="2.5"):
    major = session.scalar(select(Major).where(Major.code == code, Major.level == level))
    if major is None:
        session.add(Major(code=code, name=name, level=level, years=years))


@pytest.fixture
def processes(client, db):
    """The diagram deployed, the candidates admitted, and no account left from another test."""
    deploy_processes(client, "enrollment_checkin")
    with session_scope(db.db.writer) as session:
        stations = {s.code: s.id for s in session.scalars(select(Station))}
        for exam_number, (name, gender, idn, level, major, code, station) in CANDIDATES.items():
            ensure_major(session, code, major, level)
            session.add(
                Admission(
                    exam_number=exam_number,
                    name=name,
                    gender=gender,
                    id_number=idn,
                    level=level,
                    major=major,
                    station_id=stations[station],
                    intake_year=YEAR,
                )
            )
    yield
    with session_scope(db.db.writer) as session:
        users = list(session.scalars(select(User).where(User.username.in_(CANDIDATES))))
        ids = [u.id for u in users]
        session.execute(update(Student).where(Student.user_id.in_(ids)).values(user_id=None))
        for user in users:
            session.delete(user)
        session.execute(delete(Admission).where(Admission.exam_number.in_(CANDIDATES)))


def start(client, exam_number, username="station1", expect=201, **extra):
    response = client.post(
        "/api/v1/process-definitions/enrollment_checkin/start",
        json={"variables": {"exam_number": exam_number, "year": YEAR, **extra}},
        headers=auth(client, username),
    )
    assert response.status_code == expect, response.text
    return response.json()


def student_headers(client, exam_number):
    """The new student's login: username = exam number, the one-time password replaced."""
    return checked_in_student_headers(client, exam_number)


def student_task(client, headers):
    response = client.get("/api/v1/tasks", headers=headers)
    assert response.status_code == 200, response.text
    [task] = response.json()["items"]
    return task


def complete_as(client, headers, task, data, expect=200):
    response = client.post(
        f"/api/v1/tasks/{task['id']}/complete", json={"data": data}, headers=headers
    )
    assert response.status_code == expect, response.text
    return response.json()


def report(client, headers):
    task = student_task(client, headers)
    assert task["name"] == "新生持录取通知书、身份证等相关材料到所属函授站报到"
    assert task["due_at"] == f"{YEAR}-03-15T15:59:59Z"  # 23:59:59 in Beijing
    complete_as(
        client,
        headers,
        task,
        {
            "admission_notice": True,
            "id_card": True,
            "reported_on": f"{YEAR}-03-08",
            "phone": "13900000000",
        },
    )


def check(client, outcome, expect=200, **extra):
    task = only_task(client, "station1")
    assert task["name"] == "新生入学资格复查、核实新生录取信息"
    complete(client, "station1", task, {"outcome": outcome, **extra}, expect=expect)


def card_data(exam_number, photo, **changes):
    name, gender, idn, level, major, _code, _station = CANDIDATES[exam_number]
    born = f"{idn[6:10]}-{idn[10:12]}-{idn[12:14]}"
    return {
        "name": name,
        "gender": gender,
        "id_number": idn,
        "birth_date": born,
        "ethnicity": "汉族",
        "political_status": "共青团员",
        "address": "河南省郑州市金水区经三路1号",
        "phone": "13900000000",
        "work_unit": "郑州市第一中学",
        "level": level,
        "major": major,
        "photo": photo,
        "signed": True,
        **changes,
    }


def upload_photo(client, headers):
    response = client.post(
        "/api/v1/uploads", files={"file": ("photo.png", PNG, "image/png")}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def fill_card(client, headers, exam_number):
    task = student_task(client, headers)
    assert task["name"] == "学生本人签字确认，填写学籍卡，粘贴班级相册"
    photo = upload_photo(client, headers)
    complete_as(client, headers, task, card_data(exam_number, photo))
    return photo


def print_documents(client):
    task = only_task(client, "station1")
    assert task["name"] == "新生编班，打印班级学籍注册名单，填写新生报到情况统计表"
    documents = client.get(f"/api/v1/tasks/{task['id']}", headers=auth(client, "station1")).json()[
        "data"
    ]["class_documents"]
    done = complete(client, "station1", task, {"roster_printed": True, "statistics_filled": True})
    assert done["instance"]["state"] == "completed"
    return documents


def workbook_rows(client, upload_id, username="station1"):
    response = client.get(f"/api/v1/uploads/{upload_id}/content", headers=auth(client, username))
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def record(db, exam_number):
    with db.db.reader() as session:
        student = session.scalar(select(Student).where(Student.exam_number == exam_number))
        changes = list(
            session.scalars(
                select(StatusChange)
                .where(StatusChange.student_id == student.id)
                .order_by(StatusChange.id)
            )
        )
        school_class = session.get(SchoolClass, student.class_id) if student.class_id else None
        session.expunge_all()
        return student, changes, school_class


def test_associate_level_candidate_checks_in_and_is_enrolled(client, db, processes):
    instance = start(client, "31410102110101")
    assert instance["variables"]["candidate"]["name"] == "高原"
    # the account's password is a one-time one for the station to hand over, not a part of
    # the ID number anyone may know
    initial = instance["variables"]["candidate"]["initial_password"]
    id_number = CANDIDATES["31410102110101"][2]
    assert len(initial) >= 8 and not initial.isdigit() and initial not in id_number
    refused = client.post(
        "/api/v1/auth/token", data={"username": "31410102110101", "password": id_number[-6:]}
    )
    assert refused.status_code == 401
    headers = student_headers(client, "31410102110101")
    me = client.get("/api/v1/me", headers=headers).json()
    assert me["roles"] == ["student"] and me["station"] == "S01"
    report(client, headers)
    assert tasks_of(client, "station2") == [] and tasks_of(client, "stu1001") == []
    check(client, "correct")
    photo = fill_card(client, headers, "31410102110101")
    documents = print_documents(client)

    student, changes, school_class = record(db, "31410102110101")
    assert student.status == "在籍" and str(student.enrolled_on) == f"{YEAR}-03-08"
    assert (student.ethnicity, student.political_status, student.photo_upload_id) == (
        "汉族",
        "共青团员",
        photo,
    )
    assert student.work_unit == "郑州市第一中学" and student.remarks is None
    assert school_class.code == documents["class_code"]
    assert school_class.name == f"{YEAR}级会计（专科）班"
    assert [(c.from_status, c.to_status, c.kind, c.instance_id) for c in changes] == [
        ("在籍", "在籍", "新生报到", instance["id"])
    ]
    roster = workbook_rows(client, documents["roster_upload"])
    assert roster[0][:3] == ["序号", "考生号", "姓名"]
    assert roster[1][1:3] == ["31410102110101", "高原"]
    statistics = workbook_rows(client, documents["statistics_upload"])
    assert ["专科", "会计", "2", "1", "0", "1", "50%"] in statistics
    assert statistics[-1][:4] == ["合计", None, "3", "1"]
    kinds = history_kinds(client, instance["id"])
    assert ("element_completed", "junior_college") not in kinds
    assert ("element_completed", "finish") in kinds and kinds[-1] == ("instance_completed", None)


def test_upgrading_candidate_also_hands_in_the_junior_college_diploma_and_pledge(
    client, db, processes
):
    start(client, "31410102150102")
    headers = student_headers(client, "31410102150102")
    report(client, headers)
    task = student_task(client, headers)
    assert task["name"].startswith("专升本层次新生交专科毕业证复印件")
    copy = upload_photo(client, headers)
    complete_as(
        client,
        headers,
        task,
        {
            "former_college": "河南职业技术学院",
            "former_major": "计算机应用技术",
            "graduation_date": "2021-06-30",
            "diploma_number": "127901202106001234",
            "diploma_copy": copy,
            "pledge_signed": True,
        },
    )
    check(client, "correct")
    fill_card(client, headers, "31410102150102")
    documents = print_documents(client)
    student, _, school_class = record(db, "31410102150102")
    assert student.level == "专升本" and student.status == "在籍"
    assert student.remarks == ("原专科院校：河南职业技术学院；专科毕业证书编号：127901202106001234")
    assert school_class.name == f"{YEAR}级计算机科学与技术（专升本）班"
    assert documents["class_name"] == school_class.name


def test_wrong_admission_data_goes_to_the_provincial_admissions_office(client, db, processes):
    instance = start(client, "31410102110101")
    headers = student_headers(client, "31410102110101")
    report(client, headers)
    check(client, "wrong", expect=422)  # the reason is required
    check(client, "wrong", reason="录取通知书上的专业与录取库不一致")
    complete(
        client,
        "station1",
        only_task(client, "station1"),
        {
            "admissions_office": "郑州市招生办公室",
            "cause": "招生录取库录入错误",
            "own_fault": False,
        },
    )
    assert tasks_of(client, "prov_edu") == []
    task = only_task(client, "prov_adm")
    assert task["name"] == "当地省级招生部门审核"
    complete(client, "prov_adm", task, {"outcome": "approved", "comment": "已更正录取库"})
    check(client, "correct")
    fill_card(client, headers, "31410102110101")
    print_documents(client)
    assert record(db, "31410102110101")[0].status == "在籍"
    kinds = history_kinds(client, instance["id"])
    assert kinds.count(("task_completed", "check")) == 2
    assert ("task_completed", "admissions_review") in kinds
    assert ("task_completed", "edu_review") not in kinds


def test_students_own_fault_needs_proof_and_the_provincial_education_review(client, db, processes):
    instance = start(client, "31410102110101")
    headers = student_headers(client, "31410102110101")
    report(client, headers)
    check(client, "wrong", reason="身份证号与录取库不一致")
    complete(
        client,
        "station1",
        only_task(client, "station1"),
        {
            "admissions_office": "郑州市招生办公室",
            "cause": "考生报名时填错身份证号",
            "own_fault": True,
        },
    )
    task = student_task(client, headers)
    assert task["name"] == "学生个人原因导致的，由学生提供合法性证明材料"
    proof = upload_photo(client, headers)
    complete_as(client, headers, task, {"statement": "报名时误填", "attachments": [proof]})
    task = only_task(client, "station1")
    assert task["name"] == "合法性证明材料上报学院"
    complete(client, "station1", task, {"opinion": "情况属实，建议通过"})
    task = only_task(client, "prov_edu")
    assert task["name"] == "省级行政教育部门审核"
    complete(client, "prov_edu", task, {"outcome": "approved"})
    check(client, "correct")
    assert student_task(client, headers)["name"].startswith("学生本人签字确认")
    kinds = history_kinds(client, instance["id"])
    assert ("task_completed", "proof") in kinds and ("task_completed", "edu_review") in kinds


@pytest.mark.parametrize(
    "own_fault, reviewer",
    [(False, "prov_adm"), (True, "prov_edu")],
)
def test_refused_review_cancels_the_admission(client, db, processes, own_fault, reviewer):
    instance = start(client, "31410102110103")
    headers = student_headers(client, "31410102110103")
    report(client, headers)
    check(client, "wrong", reason="无录取信息")
    complete(
        client,
        "station1",
        only_task(client, "station1"),
        {"admissions_office": "郑州市招生办公室", "cause": "查无此人", "own_fault": own_fault},
    )
    if own_fault:
        complete_as(
            client,
            headers,
            student_task(client, headers),
            {"statement": "说明", "attachments": [upload_photo(client, headers)]},
        )
        complete(client, "station1", only_task(client, "station1"), {"opinion": "请审核"})
    complete(
        client, reviewer, only_task(client, reviewer), {"outcome": "rejected", "reason": "不予录取"}
    )
    seen = client.get(f"/api/v1/process-instances/{instance['id']}", headers=headers).json()
    assert seen["state"] == "completed" and seen["variables"]["reason"] == "不予录取"
    student, changes, _ = record(db, "31410102110103")
    assert student.status == "入学资格取消"
    assert [(c.to_status, c.kind, c.reason) for c in changes] == [
        ("入学资格取消", "入学资格复查", "不予录取")
    ]
    assert ("element_completed", "cancelled") in history_kinds(client, instance["id"])


def test_a_station_checks_in_only_its_own_admitted_candidates(client, db, processes):
    refused = start(client, "31410102110101", username="station2", expect=422)
    assert "招生录取库中没有考生号 31410102110101" in str(refused)
    start(client, "99999999999999", expect=422)
    start(client, "31410302110201", expect=422, year=YEAR + 1)
    start(client, "31410302110201", username="station2")
    start(client, "31410302110201", username="station2", expect=422)  # already checked in
    # a college-wide starter names the station
    start(client, "31410102110101", username="admin", station="S01")
    with db.db.reader() as session:
        students = session.scalars(
            select(Student.exam_number).where(Student.exam_number.in_(CANDIDATES))
        ).all()
    assert sorted(students) == ["31410102110101", "31410302110201"]
    assert tasks_of(client, "station1") == [] and tasks_of(client, "station2") == []


def test_the_status_card_must_match_the_admissions_list(client, db, processes):
    start(client, "31410102110101")
    headers = student_headers(client, "31410102110101")
    report(client, headers)
    check(client, "correct")
    task = student_task(client, headers)
    photo = upload_photo(client, headers)
    wrong_name = complete_as(
        client, headers, task, card_data("31410102110101", photo, name="高源"), expect=422
    )
    assert "姓名" in str(wrong_name)
    complete_as(
        client,
        headers,
        task,
        card_data("31410102110101", photo, birth_date="2000-01-02"),
        expect=422,
    )
    complete_as(client, headers, task, card_data("31410102110101", photo))
