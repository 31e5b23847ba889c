"""Every case can end, from the demo state: processes 1, 2, 3, 5, 6, 7, 8 and 9 driven through
the REST API as the demo users, from the database `xueji serve --demo` sets up (the demo
records, processes/ and forms/ deployed from the directory), to each of their end events —
each asserted in the history of the instance that reached it. Then the branches issue 10
fixed: 缓验 kept on the record and offered again, the one graduation rule, 学生离校 from 7
reaching 3, 无录取信息 in 1, and the college's decision in 9.

The deadline reminders' ends (提醒已发出) are reached the way they are in service: the worker
runs past a task's due date (`xueji worker --once --now …`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.helpers import (
    ROOT,
    auth,
    checked_in_student_headers,
    history_kinds,
    student_id,
    tasks_of,
)
from xueji import clock
from xueji.demo import ADMISSIONS, UNLISTED
from xueji.models import Admission, Station, StatusChange, Student, Timer
from xueji.scheduler.worker import run_once
from xueji.startup import prepare
from xueji.students.id_numbers import check_digit

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def demo(db, client):
    """The service as `xueji serve --demo` starts it on a new database: migrated, processes/
    and forms/ deployed from the directory, the demo data seeded (the `db` fixture has put the
    demo records back as seeded)."""
    settings = db.settings.model_copy(
        update={"processes_dir": ROOT / "processes", "forms_dir": ROOT / "forms", "demo": True}
    )
    prepare(dataclasses.replace(db, settings=settings))
    return client


# --- helpers -----------------------------------------------------------------------------


def start(client, key: str, username: str, variables: dict, headers=None) -> dict:
    response = client.post(
        f"/api/v1/process-definitions/{key}/start",
        json={"variables": variables},
        headers=headers or auth(client, username),
    )
    assert response.status_code == 201, response.text
    return response.json()


def task(client, username: str, name: str, student: int | None = None, headers=None) -> dict:
    """The one open task of this name the user may work on (of the student, if given)."""
    response = client.get("/api/v1/tasks", headers=headers or auth(client, username))
    assert response.status_code == 200, response.text
    found = [
        t
        for t in response.json()["items"]
        if t["name"] == name and (student is None or t["student"] == student)
    ]
    assert len(found) == 1, (name, response.json()["items"])
    return found[0]


def do(client, username: str, name: str, data: dict, student=None, expect=200, headers=None):
    """Complete the user's task `name` with `data`."""
    item = task(client, username, name, student, headers)
    response = client.post(
        f"/api/v1/tasks/{item['id']}/complete",
        json={"data": data},
        headers=headers or auth(client, username),
    )
    assert response.status_code == expect, response.text
    return response.json()


def task_data(client, username: str, item: dict) -> dict:
    response = client.get(f"/api/v1/tasks/{item['id']}", headers=auth(client, username))
    assert response.status_code == 200, response.text
    return response.json()["data"]


def detail(client, instance_id: str) -> dict:
    response = client.get(f"/api/v1/process-instances/{instance_id}", headers=auth(client, "admin"))
    assert response.status_code == 200, response.text
    return response.json()


def upload(client, headers, content=PNG, name="photo.png", kind="image/png", student=None):
    response = client.post(
        "/api/v1/uploads",
        files={"file": (name, content, kind)},
        data={"student": str(student)} if student else {},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def reached(client, instance_id: str, end: str) -> bool:
    return ("element_completed", end) in history_kinds(client, instance_id)


def children(client, instance_id: str) -> dict[int, str]:
    """The child instances of a case by their student."""
    return {detail(client, c)["student"]: c for c in detail(client, instance_id)["children"]}


def end_events(key: str) -> set[str]:
    """Every end event of processes/<key>.bpmn (all its pools)."""
    xml = (ROOT / "processes" / f"{key}.bpmn").read_text(encoding="utf-8")
    return set(re.findall(r'<bpmn:endEvent id="([^"]+)"', xml))


def overdue(client, db, *instance_ids: str) -> str:
    """The worker runs a minute after the first deadline timer of the instances' open tasks,
    so that task's deadline reminder runs (a task created past its due date, e.g. a 2026
    intake registered in December, has been reminded at once); the id of the instance whose
    task it is."""
    assert any(t["due_at"] for i in instance_ids for t in detail(client, i)["active_tasks"])
    with db.db.reader() as session:
        timers = session.execute(
            select(Timer.due_at, Timer.instance_id)
            .where(Timer.instance_id.in_(instance_ids), Timer.state == "pending")
            .order_by(Timer.due_at)
        ).all()
    if not timers:  # created past its due date: both reminders ran at once
        [instance_id] = {
            i for i in instance_ids for t in detail(client, i)["active_tasks"] if t["overdue"]
        }
        return instance_id
    at, instance_id = timers[0]
    assert run_once(db, at + timedelta(minutes=1)).fired >= 1
    return instance_id


def ids(client, *usernames: str) -> list[int]:
    return [student_id(client, u) for u in usernames]


# --- 1 新生入学报到 ---------------------------------------------------------------------------


def _candidate_headers(client, exam_number: str, id_number: str) -> dict:
    return checked_in_student_headers(client, exam_number)


def _report(client, headers) -> None:
    do(
        client,
        "candidate",  # (signed in by `headers`: username = exam number)
        "新生持录取通知书、身份证等相关材料到所属函授站报到",
        {
            "admission_notice": True,
            "id_card": True,
            "reported_on": "2027-03-08",
            "phone": "13900000000",
        },
        headers=headers,
    )


def _card_and_class(client, headers, candidate: dict) -> None:
    idn = candidate["id_number"]
    card = {
        "name": candidate["name"],
        "gender": candidate["gender"],
        "id_number": idn,
        "birth_date": f"{idn[6:10]}-{idn[10:12]}-{idn[12:14]}",
        "ethnicity": "汉族",
        "political_status": "群众",
        "address": "河南省郑州市金水区经三路1号",
        "phone": "13900000000",
        "level": candidate["level"],
        "major": candidate["major"],
        "photo": upload(client, headers),
        "signed": True,
    }
    do(client, "candidate", "学生本人签字确认，填写学籍卡，粘贴班级相册", card, headers=headers)
    do(
        client,
        "station1",
        "新生编班，打印班级学籍注册名单，填写新生报到情况统计表",
        {"roster_printed": True, "statistics_filled": True},
    )


def _unlisted_variables() -> dict:
    exam_number, name, gender, digits, level, major = UNLISTED
    return {
        "exam_number": exam_number,
        "year": 2027,
        "name": name,
        "gender": gender,
        "id_number": digits + check_digit(digits),
        "level": level,
        "major": major,
    }


def _query(client, own_fault: bool = False) -> None:
    do(
        client,
        "station1",
        "录取信息有误或无录取信息，向当地招生部门查询",
        {
            "admissions_office": "郑州市招生办公室",
            "cause": "招生录取库中无此考生",
            "own_fault": own_fault,
        },
    )


def checkin_done(client, db) -> dict[str, str]:
    """An admitted 2027 candidate of S01 checks in: 新生入学、报到工作完毕."""
    exam_number, *_ = next(a for a in ADMISSIONS if a[4] == "专科" and a[6] == "S01")
    instance = start(
        client, "enrollment_checkin", "station1", {"exam_number": exam_number, "year": 2027}
    )
    candidate = instance["variables"]["candidate"]
    assert candidate["admitted"] is True
    headers = _candidate_headers(client, exam_number, candidate["id_number"])
    _report(client, headers)
    do(client, "station1", "新生入学资格复查、核实新生录取信息", {"outcome": "correct"})
    _card_and_class(client, headers, candidate)
    assert detail(client, instance["id"])["state"] == "completed"
    return {"done": instance["id"]}


def checkin_cancelled(client, db) -> dict[str, str]:
    """A candidate with no admission row (无录取信息): the station asks the admissions office,
    which does not confirm the admission: 入学资格取消."""
    variables = _unlisted_variables()
    instance = start(client, "enrollment_checkin", "station1", variables)
    assert instance["variables"]["candidate"]["admitted"] is False
    headers = _candidate_headers(client, variables["exam_number"], variables["id_number"])
    _report(client, headers)
    _check_unlisted(client)
    do(
        client,
        "prov_adm",
        "当地省级招生部门审核",
        {"outcome": "rejected", "reason": "查无录取记录"},
    )
    assert detail(client, instance["id"])["state"] == "completed"
    return {"cancelled": instance["id"]}


def _check_unlisted(client) -> None:
    name = "新生入学资格复查、核实新生录取信息"
    refused = do(client, "station1", name, {"outcome": "correct"}, expect=422)
    assert "无录取信息" in refused["detail"]["message"]
    do(client, "station1", name, {"outcome": "wrong", "reason": "无录取信息"})
    _query(client)


# --- 2 新生学籍电子注册 -------------------------------------------------------------------------


def registration_done(client, db) -> dict[str, str]:
    """S01 registers its 2026 intake (李娜) from the college's prefilled standard library."""
    instance = start(client, "enrollment_registration", "station1", {"year": 2026})
    entry = task(client, "station1", "函授站按照学院提供的新生学籍注册标准库录入新生信息")
    template = task_data(client, "station1", entry)["template"]
    assert template["count"] == 1
    do(
        client,
        "station1",
        entry["name"],
        {"source": "upload", "upload": template["upload"]},
    )
    checked = task(client, "station1", "自行校验新生学籍电子注册信息")
    assert task_data(client, "station1", checked)["check"]["problems"] == []
    do(client, "station1", checked["name"], {"outcome": "correct"})
    do(client, "station1", "新生学籍注册信息上报", {"contact": "王老师", "phone": "0371-66666666"})
    audit = task(client, "registrar", "学院按照招生录取库审核新生学籍电子注册信息")
    assert task_data(client, "registrar", audit)["audit"]["problems"] == []  # admitted in 2026
    do(client, "registrar", audit["name"], {"outcome": "correct"})
    do(
        client,
        "registrar",
        "汇总新生学籍电子注册信息，录入学院学籍管理信息系统，编制学号反馈给函授站",
        {"confirmed": True},
    )
    do(
        client,
        "registrar",
        "从学院学籍管理系统导出新生学籍信息上网注册",
        {"submitted_on": "2026-04-20"},
    )
    do(client, "chsi", "教育部网络中心审核上网注册信息", {"outcome": "approved"})
    assert detail(client, instance["id"])["state"] == "completed"
    with db.db.reader() as session:
        li_na = session.get(Student, student_id(client, "stu1003"))
        assert li_na.status == "已注册" and li_na.student_number.startswith("2026001")
    return {"done": instance["id"]}


# --- 7 毕业生学历电子注册 (and 3, whose 学籍卡归档 follows 7's 学生离校) -------------------------


ENTER = "函授站按照学院提供的毕业生学历注册标准库录入预毕业生数据"
SELF_CHECK = "自行校验毕业生学历电子注册数据"


@dataclasses.dataclass
class GraduationSeason:
    """A 毕业生学历电子注册 case of one station and season, started: its station's first
    step and the college's checks before the reviews, as every graduation case takes them."""

    client: object
    station_user: str
    instance: dict

    @classmethod
    def start(cls, client, station_user: str, year: int, season: str) -> GraduationSeason:
        variables = {"year": year, "season": season}
        return cls(
            client, station_user, start(client, "graduation_registration", station_user, variables)
        )

    @property
    def id(self) -> str:
        return self.instance["id"]

    def proposed(self) -> list[int]:
        """The students the station's first step proposes (due this season)."""
        return task_data(
            self.client, self.station_user, task(self.client, self.station_user, ENTER)
        )["students"]

    def enter(self, data: dict, expect: int = 200):
        return do(self.client, self.station_user, ENTER, data, expect=expect)

    def report(self) -> None:
        """The station's self-check found nothing: it reports, and the college checks the
        list and prints the 验印名单 for the reviews."""
        do(self.client, self.station_user, SELF_CHECK, {"outcome": "correct"})
        do(self.client, self.station_user, "上报预毕业生学历注册信息", {"confirmed": True})
        do(
            self.client,
            "registrar",
            "学院根据学籍管理系统预毕业生名单校对预毕业生学历电子注册信息",
            {"outcome": "correct"},
        )
        do(
            self.client,
            "registrar",
            "按年级、层次、专业、函授站打印预毕业生验印名单，提供给成绩管理人员",
            {"printed": True, "handed_to": "成绩管理人员"},
        )


@pytest.fixture
def graduation_season(demo) -> Callable[[str, int, str], GraduationSeason]:
    """Starts a graduation case of a station and season on the demo service."""
    return lambda station_user, year, season: GraduationSeason.start(
        demo, station_user, year, season
    )


def _graduation_to_reviews(client, station_user: str, year: int, season: str, expected: list):
    case = GraduationSeason.start(client, station_user, year, season)
    proposed = case.proposed()
    assert proposed == expected
    case.enter({"students": proposed})
    check = task(client, station_user, SELF_CHECK)
    assert task_data(client, station_user, check)["check"]["problems"] == []
    case.report()
    return case.instance


def _review(client, username: str, name: str, sid: int, approve: bool) -> None:
    """A reviewer's decision; the deferral rules refuse 通过 where they defer."""
    if approve:
        do(client, username, name, {"outcome": "approved"}, student=sid)
        return
    refused = do(client, username, name, {"outcome": "approved"}, student=sid, expect=422)
    assert "缓验" in refused["detail"]["message"]
    rule = task_data(client, username, task(client, username, name, sid))["deferral_reason"]
    do(client, username, name, {"outcome": "rejected", "reason": rule}, student=sid)


def _graduation_finish(client, rejected=()) -> None:
    do(client, "registrar", "编制毕业生学历电子注册名单", {"printed": True})
    do(
        client,
        "prov_edu",
        "学历注册数据报省教育厅审核、验印",
        {"rejected": list(rejected), "stamped_on": "2027-11-20"},
    )
    do(
        client,
        "registrar",
        "修正学院学籍管理系统中毕业生个人信息",
        {"president": "张校长", "confirmed": True},
    )
    do(client, "registrar", "打印毕业证书交学工办", {"printed": True, "handed_to": "学工办"})
    do(
        client,
        "affairs",
        "学工办接收毕业证书",
        {"received_count": 1, "received_by": "学工办王老师"},
    )


def graduation_spring_s01(client, db) -> dict[str, str]:
    """S01, 2028 春季: 杨帆 (passed, photo checked) graduates."""
    [yang] = ids(client, "stu1004")
    instance = _graduation_to_reviews(client, "station1", 2028, "春季", [yang])
    _review(client, "grades", "成绩审核", yang, approve=True)
    _review(client, "registrar", "照片审核", yang, approve=True)
    _graduation_finish(client)
    assert detail(client, instance["id"])["state"] == "completed"
    return {"done": instance["id"], "reviewed": children(client, instance["id"])[yang]}


def graduation_spring_s02(client, db) -> dict[str, str]:
    """S02, 2028 春季: 马超 failed 护理学基础, 成绩审核 defers him (缓验)."""
    [ma] = ids(client, "stu2003")
    instance = _graduation_to_reviews(client, "station2", 2028, "春季", [ma])
    _review(client, "grades", "成绩审核", ma, approve=False)
    _graduation_finish(client)
    assert detail(client, instance["id"])["state"] == "completed"
    return {"done": instance["id"], "grades_deferred": children(client, instance["id"])[ma]}


def graduation_autumn_s01(client, db) -> dict[str, str]:
    """S01, 2028 秋季: 黄晓燕's photo is collected but not checked, 照片审核 defers her; 杨帆,
    due in 春季 and not graduated yet, is proposed again and graduates."""
    huang, yang = ids(client, "stu1005", "stu1004")
    instance = _graduation_to_reviews(client, "station1", 2028, "秋季", [huang, yang])
    _review(client, "grades", "成绩审核", huang, approve=True)
    _review(client, "registrar", "照片审核", huang, approve=False)
    _review(client, "grades", "成绩审核", yang, approve=True)
    _review(client, "registrar", "照片审核", yang, approve=True)
    _graduation_finish(client)
    return {"done": instance["id"], "photo_deferred": children(client, instance["id"])[huang]}


def graduation_nobody(client, db) -> dict[str, str]:
    """S02, 2027 春季: nobody is due; the station confirms the empty list and the case ends."""
    case = GraduationSeason.start(client, "station2", 2027, "春季")
    assert case.proposed() == []
    case.enter({"students": []})
    assert detail(client, case.id)["state"] == "completed"
    return {"none_this_season": case.id}


def daily_records_archived(client, db) -> dict[str, str]:
    """3 for 杨帆: 学籍信息查询 and 数据统计 on the way in; 7 graduates him and sends 学生离校;
    the station archives the status card."""
    [yang] = ids(client, "stu1004")
    daily = start(client, "daily_records", "station1", {"student": yang})
    variables = detail(client, daily["id"])["variables"]
    assert variables["record"]["page"] == f"/students/{yang}"
    assert variables["record"]["status"] == "已注册"
    # S01's 2025 intake: 杨帆, and api.md's 张伟 and 王芳 (not registered yet)
    assert variables["statistics"]["by_status"] == {"在籍": 2, "已注册": 1}
    assert variables["statistics"]["page"] == "/statistics"
    graduation_spring_s01(client, db)
    archive = task(client, "station1", "学生学籍卡归档", student=yang)
    assert task_data(client, "station1", archive)["departure"]["reason"] == "毕业"
    do(
        client,
        "station1",
        "学生学籍卡归档",
        {"archive_number": "S01-2028-001", "archived_on": "2028-01-20", "materials": ["学籍卡"]},
        student=yang,
    )
    assert detail(client, daily["id"])["state"] == "completed"
    return {"archived": daily["id"]}


# --- 5 电子图像采集 and 6 电子图像校对 ---------------------------------------------------------


def photo_collection(client, db) -> dict[str, str]:
    """S01's 2028 cohort (黄晓燕, 杨帆, and 张伟, 在籍 but due in January 2028 too): 统一拍摄
    for two, 未统一拍摄 for the other; 6 starts 40 days after the station's report."""
    huang, yang, zhang = ids(client, "stu1005", "stu1004", "stu1001")
    instance = start(client, "photo_collection", "registrar", {"station": "S01", "year": 2028})
    assert instance["variables"]["students"] == [huang, yang, zhang]
    do(
        client,
        "station1",
        "函授站联系新华图片社确定电子图像采集时间、地点",
        {"collection_date": "2027-05-20", "collection_place": "郑州函授站多媒体教室"},
    )
    for username, mode in (
        ("stu1005", "individual"),
        ("stu1004", "unified"),
        ("stu1001", "unified"),
    ):
        verify = task(client, username, "学生核实个人信息并签字确认")
        info = task_data(client, username, verify)["info"]
        do(client, username, verify["name"], {"confirmed": True})
        do(
            client,
            username,
            "学生填涂毕业生电子图像采集卡",
            {"name": info["name"], "id_number": info["id_number"], "outcome": mode},
        )
    for sid, tracking in ((yang, "SF1001"), (zhang, "SF1002")):
        do(client, "photo", "拍摄电子照片", {"shot_on": "2027-05-20"}, student=sid)
        do(
            client,
            "photo",
            "新华图片社寄送纸质相片和电子光盘",
            {"sent_on": "2027-06-01", "tracking_number": tracking},
            student=sid,
        )
    do(client, "stu1005", "学生自行散拍", {"shot_on": "2027-06-03", "studio": "新华图片社二七网点"})
    own = upload(client, auth(client, "stu1005"))
    do(client, "stu1005", "个人取回电子图片信息", {"photo_upload": own})
    do(
        client,
        "station1",
        "函授站整理学生电子图片信息，上报学院",
        {"reported_on": "2027-06-10", "photo_count": 3},
    )
    with db.db.reader() as session:
        [timer] = session.scalars(
            select(Timer).where(Timer.instance_id == instance["id"], Timer.state == "pending")
        )
        due = timer.due_at
    assert run_once(db, due + timedelta(minutes=1)).fired == 1
    finished = detail(client, instance["id"])
    assert finished["state"] == "completed" and finished["variables"]["verification"]
    return {"done": instance["id"], "collected": children(client, instance["id"])[huang]}


def photo_verification(client, db) -> dict[str, str]:
    """黄晓燕's collected photo: 照片有误 → the station contacts 新华图片社 → checked again."""
    [huang] = ids(client, "stu1005")
    instance = start(
        client,
        "photo_verification",
        "registrar",
        {"station": "S01", "year": 2028, "students": [huang]},
    )
    do(
        client,
        "photo",
        "新华图片社将采集的电子图片报送教育部网络中心",
        {"submitted_on": "2027-07-20", "batch_number": "2027-41"},
    )
    do(
        client,
        "chsi",
        "网络中心将图片上网",
        {"published_on": "2027-08-01", "site_url": "https://www.chsi.com.cn/xlcx/"},
    )
    do(client, "stu1005", "学生上网校对个人信息", {"outcome": "wrong", "reason": "照片模糊"})
    do(client, "stu1005", "学生在线提交修改意见", {"outcome": "photo_wrong", "opinion": "请重拍"})
    retaken = upload(client, auth(client, "station1"), JPEG, "retake.jpg", "image/jpeg", huang)
    do(
        client,
        "station1",
        "联系新华图片社",
        {"fixed_on": "2027-08-10", "comment": "已联系重新拍摄", "photo_upload": retaken},
        student=huang,
    )
    do(client, "stu1005", "学生上网校对个人信息", {"outcome": "correct"})
    do(client, "stu1005", "学生点击确认", {"confirmed": True})
    assert detail(client, instance["id"])["state"] == "completed"
    with db.db.reader() as session:
        assert session.get(Student, huang).photo_status == "已校对"
    return {"done": instance["id"], "verified": children(client, instance["id"])[huang]}


# --- 8 成绩管理 --------------------------------------------------------------------------------


def grade_management(client, db) -> dict[str, str]:
    """S01's 2027-春 term: 杨帆 sits the exams, 黄晓燕's 免修 is approved, 李娜's 免试 is refused
    and she sits them too (张伟 and 王芳 sit them as well); the station's grades are audited
    and recorded."""
    yang, huang, li, zhang, wang = ids(
        client, "stu1004", "stu1005", "stu1003", "stu1001", "stu1002"
    )
    instance = start(
        client,
        "grade_management",
        "academic",
        {"station": "S01", "year": 2027, "term": "2027-春", "kind": "考试"},
    )
    courses = [
        {"code": "GG001", "name": "大学英语", "credits": 4},
        {"code": "GG003", "name": "马克思主义基本原理概论", "credits": 3},
    ]
    do(client, "academic", "将教学计划录入学院管理信息系统", {"courses": courses})
    choose = "参加相应课程考核，或免修、免试申请上报学院"
    for username in ("stu1004", "stu1001", "stu1002"):
        do(client, username, choose, {"choice": "exam"})
    basis = "已修同类课程并取得学分"
    for username, kind in (("stu1005", "免修"), ("stu1003", "免试")):
        item = {"course": "GG003", "kind": kind, "basis": basis}
        do(client, username, choose, {"choice": "exemption", "items": [item]})
    do(client, "registrar", "学院审核免修、免试申请", {"outcome": "approved"}, student=huang)
    do(
        client,
        "registrar",
        "学院审核免修、免试申请",
        {"outcome": "rejected", "reason": "无同类课程学分"},
        student=li,
    )
    scores = [
        {"student": yang, "course": "GG001", "score": 80},
        {"student": yang, "course": "GG003", "score": 45},
        {"student": huang, "course": "GG001", "score": 75},
        {"student": li, "course": "GG001", "score": 66},
        {"student": li, "course": "GG003", "score": 70},
        *(
            {"student": sid, "course": course, "score": 72}
            for sid in (zhang, wang)
            for course in ("GG001", "GG003")
        ),
    ]
    do(client, "station1", "函授站登录考试成绩上报学院", {"scores": scores})
    do(client, "grades", "学院审核", {"outcome": "approved"})
    for item in tasks_of(client, "grades"):
        if item["name"] == "学校存档":
            do(client, "grades", "学校存档", {"archived": True})
    for item in tasks_of(client, "affairs"):
        if item["name"] == "交学院学工办":
            do(client, "affairs", "交学院学工办", {"received": True, "received_by": "赵"})
    assert detail(client, instance["id"])["state"] == "completed"
    kids = children(client, instance["id"])
    return {"done": instance["id"], "exempted": kids[huang], "take_exam": kids[li]}


# --- 9 毕业设计（论文） --------------------------------------------------------------------------


THESIS_GUIDANCE = {
    "title": "企业成本控制研究",
    "sessions": [{"date": "2027-03-20", "content": "确定提纲"}],
    "opinion": "同意参加答辩",
}
DEFENCE = {"defence_date": "2027-05-20", "panel": "王老师、李老师", "comments": "论证充分"}


def thesis(client, db) -> dict[str, str]:
    """S01's cohort: 杨帆 passes, 黄晓燕 is not admitted to the defence and the college decides
    推迟答辩, 李娜 fails and repeats the year; the archive is reported late (reminder)."""
    yang, huang, li = ids(client, "stu1004", "stu1005", "stu1003")
    instance = start(
        client,
        "thesis",
        "station1",
        {"year": 2027, "start_date": "2027-03-01", "students": [yang, huang, li]},
    )
    do(
        client,
        "station1",
        "按照教学计划、毕业设计管理规程制定毕业设计（论文）工作计划",
        {"summary": "按教学计划安排毕业设计（论文）", "reported_on": "2027-02-01"},
    )
    assignments = [
        {"student": s, "group": "第一组", "advisor": "advisor1", "title": f"论文{s}"}
        for s in (yang, huang, li)
    ]
    do(
        client,
        "station1",
        "下达毕业设计任务，确定毕业设计（论文）分组名单、指导教师",
        {"assignments": assignments},
    )
    do(
        client,
        "station1",
        "召开毕业设计（论文）动员会，讲清毕业设计（论文）的目的、任务、要求、总体安排",
        {"held_on": "2027-03-01", "place": "郑州函授站报告厅", "attendance": 3},
    )
    for sid in (yang, huang, li):
        do(
            client,
            "advisor1",
            "毕业设计（论文）过程控制，填写过程指导单",
            THESIS_GUIDANCE,
            student=sid,
        )
    eligibility = "毕业设计（论文）答辩资格审核"
    do(
        client,
        "station1",
        eligibility,
        {"outcome": "rejected", "reason": "论文未完成"},
        student=huang,
    )
    do(
        client,
        "station1",
        "视具体情况报学院推迟答辩或留级",
        {"arrangement": "推迟答辩", "reported_on": "2027-05-10", "note": "因病"},
        student=huang,
    )
    do(
        client,
        "academic",
        "学院决定推迟答辩或留级",
        {"decision": "推迟答辩", "decided_on": "2027-05-12", "decision_note": "同意推迟答辩"},
        student=huang,
    )
    for sid, grading in (
        (yang, {"outcome": "passed", "grade": "优秀", "excellent": True}),
        (li, {"outcome": "failed", "grade": "不及格", "reason": "答辩未通过"}),
    ):
        do(client, "station1", eligibility, {"outcome": "approved"}, student=sid)
        do(client, "station1", "组织安排毕业设计（论文）答辩，填写评语表", DEFENCE, student=sid)
        do(client, "station1", "成绩评定", grading, student=sid)
    archive = task(client, "station1", "优秀毕业设计（论文）存档，评语表、成绩单一周内上报学院")
    assert run_once(db, clock.now() + timedelta(days=8)).fired == 1  # 一周: reminded
    do(client, "station1", archive["name"], {"archived": [yang], "reported_on": "2027-06-01"})
    do(client, "academic", "学院接收评语表、成绩单", {"received_on": "2027-06-02"})
    assert detail(client, instance["id"])["state"] == "completed"
    kids = children(client, instance["id"])
    return {
        "done": instance["id"],
        "reminded": instance["id"],
        "passed": kids[yang],
        "deferred": kids[huang],
        "repeated": kids[li],
    }


# --- the deadline reminders (提醒已发出) ----------------------------------------------------


def checkin_overdue(client, db) -> dict[str, str]:
    """The candidate has not reported by 3 月 15 日."""
    exam_number, *_ = ADMISSIONS[0]
    instance = start(
        client, "enrollment_checkin", "station1", {"exam_number": exam_number, "year": 2027}
    )
    return {"enrollment_checkin_reminded": overdue(client, db, instance["id"])}


def registration_overdue(client, db) -> dict[str, str]:
    """S01 has not reported its 2026 intake by 3 月 25 日."""
    instance = start(client, "enrollment_registration", "station1", {"year": 2026})
    entry = task(client, "station1", "函授站按照学院提供的新生学籍注册标准库录入新生信息")
    template = task_data(client, "station1", entry)["template"]
    do(client, "station1", entry["name"], {"source": "upload", "upload": template["upload"]})
    do(client, "station1", "自行校验新生学籍电子注册信息", {"outcome": "correct"})
    return {"enrollment_registration_reminded": overdue(client, db, instance["id"])}


def daily_records_overdue(client, db) -> dict[str, str]:
    """杨帆 graduated; his status card is not archived within 30 days."""
    [yang] = ids(client, "stu1004")
    daily = start(client, "daily_records", "station1", {"student": yang})
    graduation_spring_s01(client, db)
    return {"daily_records_reminded": overdue(client, db, daily["id"])}


def photo_collection_overdue(client, db) -> dict[str, str]:
    """The station has not arranged the collection in time."""
    instance = start(client, "photo_collection", "registrar", {"station": "S01", "year": 2028})
    return {"photo_collection_reminded": overdue(client, db, instance["id"])}


def photo_collection_student_overdue(client, db) -> dict[str, str]:
    """A student has not confirmed the information in time."""
    instance = start(client, "photo_collection", "registrar", {"station": "S01", "year": 2028})
    do(
        client,
        "station1",
        "函授站联系新华图片社确定电子图像采集时间、地点",
        {"collection_date": "2027-05-20", "collection_place": "郑州函授站多媒体教室"},
    )
    kids = children(client, instance["id"]).values()
    return {"photo_collection_student_reminded": overdue(client, db, *kids)}


def _verification(client) -> dict:
    [huang] = ids(client, "stu1005")
    return start(
        client,
        "photo_verification",
        "registrar",
        {"station": "S01", "year": 2028, "students": [huang]},
    )


def photo_verification_overdue(client, db) -> dict[str, str]:
    """The agency has not sent the photos to the network centre in time."""
    instance = _verification(client)
    return {"photo_verification_reminded": overdue(client, db, instance["id"])}


def photo_verification_student_overdue(client, db) -> dict[str, str]:
    """黄晓燕 has not checked her published photo in time."""
    instance = _verification(client)
    do(
        client,
        "photo",
        "新华图片社将采集的电子图片报送教育部网络中心",
        {"submitted_on": "2027-07-20", "batch_number": "2027-41"},
    )
    do(
        client,
        "chsi",
        "网络中心将图片上网",
        {"published_on": "2027-08-01", "site_url": "https://www.chsi.com.cn/xlcx/"},
    )
    kids = children(client, instance["id"]).values()
    return {"photo_verification_student_reminded": overdue(client, db, *kids)}


def graduation_overdue(client, db) -> dict[str, str]:
    """S01 has not reported its 2028 春季 graduates by 10 月 25 日 of 2027."""
    [yang] = ids(client, "stu1004")
    case = GraduationSeason.start(client, "station1", 2028, "春季")
    case.enter({"students": [yang]})
    do(client, "station1", SELF_CHECK, {"outcome": "correct"})
    return {"graduation_registration_reminded": overdue(client, db, case.id)}


def grade_management_overdue(client, db) -> dict[str, str]:
    """A student has not chosen the exam or applied for an exemption after 10 days (the
    application closes after 14)."""
    instance = start(
        client,
        "grade_management",
        "academic",
        {"station": "S01", "year": 2027, "term": "2027-春", "kind": "考试"},
    )
    courses = [{"code": "GG001", "name": "大学英语", "credits": 4}]
    do(client, "academic", "将教学计划录入学院管理信息系统", {"courses": courses})
    kids = children(client, instance["id"]).values()
    return {"grade_management_student_reminded": overdue(client, db, *kids)}


def thesis_overdue(client, db) -> dict[str, str]:
    """The station has not reported the work plan three weeks before the start."""
    [yang] = ids(client, "stu1004")
    instance = start(
        client,
        "thesis",
        "station1",
        {"year": 2027, "start_date": "2027-03-01", "students": [yang]},
    )
    return {"thesis_reminded": overdue(client, db, instance["id"])}


# --- every end event ---------------------------------------------------------------------

Scenario = Callable[..., dict[str, str]]
# (process, end event) → the scenario that reaches it from the demo state
ENDS: dict[tuple[str, str], Scenario] = {
    ("enrollment_checkin", "done"): checkin_done,
    ("enrollment_checkin", "cancelled"): checkin_cancelled,
    ("enrollment_registration", "done"): registration_done,
    ("daily_records", "archived"): daily_records_archived,
    ("photo_collection", "done"): photo_collection,
    ("photo_collection", "collected"): photo_collection,
    ("photo_verification", "done"): photo_verification,
    ("photo_verification", "verified"): photo_verification,
    ("graduation_registration", "done"): graduation_spring_s01,
    ("graduation_registration", "reviewed"): graduation_spring_s01,
    ("graduation_registration", "grades_deferred"): graduation_spring_s02,
    ("graduation_registration", "photo_deferred"): graduation_autumn_s01,
    ("graduation_registration", "none_this_season"): graduation_nobody,
    ("grade_management", "done"): grade_management,
    ("grade_management", "exempted"): grade_management,
    ("grade_management", "take_exam"): grade_management,
    ("thesis", "done"): thesis,
    ("thesis", "reminded"): thesis,
    ("thesis", "passed"): thesis,
    ("thesis", "deferred"): thesis,
    ("thesis", "repeated"): thesis,
    ("enrollment_checkin", "enrollment_checkin_reminded"): checkin_overdue,
    ("enrollment_registration", "enrollment_registration_reminded"): registration_overdue,
    ("daily_records", "daily_records_reminded"): daily_records_overdue,
    ("photo_collection", "photo_collection_reminded"): photo_collection_overdue,
    ("photo_collection", "photo_collection_student_reminded"): photo_collection_student_overdue,
    ("photo_verification", "photo_verification_reminded"): photo_verification_overdue,
    ("photo_verification", "photo_verification_student_reminded"): (
        photo_verification_student_overdue
    ),
    ("graduation_registration", "graduation_registration_reminded"): graduation_overdue,
    ("grade_management", "grade_management_student_reminded"): grade_management_overdue,
    ("thesis", "thesis_reminded"): thesis_overdue,
}
KEYS = sorted({key for key, _ in ENDS})


def is_reminder(end: str) -> bool:
    """A deadline's reminder end (提醒已发出): one per task with a deadline, `<task>_reminded`,
    all drawn by the builder's one deadline path."""
    return end.endswith("_reminded")


def test_every_end_event_of_the_processes_has_a_case_that_reaches_it():
    """Every end event but the reminders has its case; of the reminders, which are all the
    same generated path (timer → 逾期提醒 → 提醒已发出), each process has one case per pool."""
    for key in KEYS:
        ends = end_events(key)
        cases = {end for k, end in ENDS if k == key}
        assert {e for e in ends if not is_reminder(e)} == {e for e in cases if not is_reminder(e)}
        if any(is_reminder(e) for e in ends):
            assert any(is_reminder(e) for e in cases), key


@pytest.mark.parametrize(("key", "end"), sorted(ENDS), ids=[f"{k}-{e}" for k, e in sorted(ENDS)])
def test_a_case_reaches_the_end_event_from_the_demo_state(demo, db, key, end):
    reached_by = ENDS[key, end](demo, db)
    instance_id = reached_by[end]
    if is_reminder(end):  # the overdue task's own reminder; it leaves the case running
        kinds = history_kinds(demo, instance_id)
        reminded = [e for kind, e in kinds if kind == "element_completed" and is_reminder(e or "")]
        assert reminded and set(reminded) <= end_events(key), kinds
    else:
        assert reached(demo, instance_id, end), history_kinds(demo, instance_id)
        assert detail(demo, instance_id)["state"] == "completed"


# --- the branches fixed in issue 10 ------------------------------------------------------


def test_deferral_is_kept_on_the_record_and_offered_again_next_season(demo, db, graduation_season):
    graduation_spring_s02(demo, db)
    [ma] = ids(demo, "stu2003")
    record = demo.get(f"/api/v1/students/{ma}", headers=auth(demo, "station2")).json()
    assert (record["status"], record["deferred_season"]) == ("已注册", "2028春季")
    assert "护理学基础" in record["deferral_reason"]
    [deferral] = [c for c in record["status_history"] if c["kind"] == "缓验"]
    assert deferral["details"] == {"season": "2028春季", "stage": "成绩审核"}
    # 秋季 2028: he is proposed again (due in 春季, not graduated), and the check says why
    case = graduation_season("station2", 2028, "秋季")
    assert case.proposed() == [ma]
    case.enter({"students": [ma]})
    check = task(demo, "station2", SELF_CHECK)
    [before] = task_data(demo, "station2", check)["check"]["deferred_before"]
    assert (before["student"], before["season"]) == (ma, "2028春季")
    assert detail(demo, case.id)["state"] == "running"


def _freshman_of_2027(db) -> int:
    """A registered S01 student of the 2027 intake, expected to graduate in July 2029."""
    with db.db.writer() as session:
        station = session.scalar(select(Station).where(Station.code == "S01"))
        digits = "41010220010203005"
        student = Student(
            station_id=station.id,
            name="新生甲",
            gender="男",
            id_number=digits + check_digit(digits),
            level="专科",
            major="会计",
            intake_year=2027,
            student_number="202700110001",
            expected_graduation=date(2029, 7, 1),
            photo_status="已校对",
            status="已注册",
            created_at=clock.now(),
        )
        session.add(student)
        session.commit()
        return student.id


def test_a_2027_freshman_is_refused_for_2028_spring_and_the_case_still_ends(
    demo, db, graduation_season
):
    freshman = _freshman_of_2027(db)
    [yang] = ids(demo, "stu1004")
    case = graduation_season("station1", 2028, "春季")
    assert case.proposed() == [yang]  # not proposed
    case.enter({"students": [yang, freshman]})  # added by hand
    check = task(demo, "station1", SELF_CHECK)
    assert task_data(demo, "station1", check)["check"]["problems"] == [
        {
            "student": freshman,
            "name": "新生甲",
            "problem": "预计毕业日期为 2029-07-01，不能在2028年春季毕业",
        }
    ]
    do(demo, "station1", check["name"], {"outcome": "correct"}, expect=422)  # problems found
    do(demo, "station1", check["name"], {"outcome": "wrong", "reason": "新生甲 2029 年毕业"})
    supplement = "补充学籍电子注册信息"
    do(demo, "station1", supplement, {"students": [yang]}, expect=422)  # removed needs a reason
    removed = [{"student": freshman, "reason": "2029 年毕业"}]
    do(demo, "station1", supplement, {"students": [yang], "removed": removed})
    case.report()
    _review(demo, "grades", "成绩审核", yang, approve=True)
    _review(demo, "registrar", "照片审核", yang, approve=True)
    _graduation_finish(demo)
    assert reached(demo, case.id, "done")
    register = detail(demo, case.id)["variables"]["register"]
    assert register["removed"] == [
        {"student": freshman, "reason": "2029 年毕业", "deferred": False}
    ]
    with db.db.reader() as session:
        row = session.get(Student, freshman)
        assert (row.status, row.deferred_season, row.certificate_number) == ("已注册", None, None)


def test_a_student_due_this_season_taken_off_the_list_is_deferred(demo, db, graduation_season):
    huang, yang = ids(demo, "stu1005", "stu1004")
    case = graduation_season("station1", 2028, "秋季")
    case.enter({"students": [huang, yang]})
    do(demo, "station1", SELF_CHECK, {"outcome": "wrong", "reason": "照片不清"})
    removed = [{"student": yang, "reason": "毕业照片不清，下季再报"}]
    supplement = "补充学籍电子注册信息"
    keeping = {"students": [huang, yang], "removed": removed}
    do(demo, "station1", supplement, keeping, expect=422)  # off the list means off it
    do(demo, "station1", supplement, {"students": [huang], "removed": removed})
    case.report()
    _review(demo, "grades", "成绩审核", huang, approve=True)
    _review(demo, "registrar", "照片审核", huang, approve=False)
    _graduation_finish(demo)
    assert reached(demo, case.id, "done")
    with db.db.reader() as session:
        row = session.get(Student, yang)
        assert (row.deferred_season, row.deferral_reason) == ("2028秋季", "毕业照片不清，下季再报")
        [change] = session.scalars(
            select(StatusChange).where(StatusChange.student_id == yang, StatusChange.kind == "缓验")
        )
        assert change.details == {"season": "2028秋季", "stage": "函授站自行校验"}
        assert session.get(Student, huang).deferred_season == "2028秋季"


def test_the_station_may_take_everybody_off_the_list_with_a_reason_and_the_case_ends(
    demo, db, graduation_season
):
    [ma] = ids(demo, "stu2003")
    case = graduation_season("station2", 2028, "秋季")
    case.enter({"students": []}, expect=422)  # proposed: a reason is needed
    removed = [{"student": ma, "reason": "护理学基础补考未通过，暂缓上报"}]
    case.enter({"students": [], "removed": removed})
    assert reached(demo, case.id, "none_this_season")
    assert detail(demo, case.id)["state"] == "completed"
    with db.db.reader() as session:
        row = session.get(Student, ma)
        assert (row.deferred_season, row.deferral_reason) == ("2028秋季", removed[0]["reason"])


def test_graduation_sends_student_leaving_to_daily_records(demo, db):
    [yang] = ids(demo, "stu1004")
    daily = start(demo, "daily_records", "station1", {"student": yang})
    assert [t for t in tasks_of(demo, "station1") if t["name"] == "学生学籍卡归档"] == []
    graduation = graduation_spring_s01(demo, db)
    sent = [
        h
        for h in demo.get(
            f"/api/v1/process-instances/{graduation['done']}/history", headers=auth(demo, "admin")
        ).json()
        if h["kind"] == "message_sent"
    ]
    assert [(h["data"]["name"], h["data"]["delivered"]) for h in sent] == [
        ("学生离校", [daily["id"]])
    ]
    kinds = history_kinds(demo, daily["id"])
    assert ("element_completed", "leaving") in kinds
    archive = task(demo, "station1", "学生学籍卡归档", student=yang)
    assert task_data(demo, "station1", archive)["departure"] == {
        "reason": "毕业",
        "left_on": "2028-01-10",
    }
    with db.db.reader() as session:
        student = session.get(Student, yang)
        assert (student.status, student.deferred_season) == ("毕业", None)


def test_graduating_a_student_without_daily_records_keeps_the_unmatched_message(demo, db):
    graduation = graduation_spring_s01(demo, db)
    kinds = [
        h["kind"]
        for h in demo.get(
            f"/api/v1/process-instances/{graduation['done']}/history", headers=auth(demo, "admin")
        ).json()
    ]
    assert "message_unmatched" in kinds and "message_sent" not in kinds


def test_unlisted_candidate_confirmed_by_the_admissions_office_checks_in(demo, db):
    variables = _unlisted_variables()
    instance = start(demo, "enrollment_checkin", "station1", variables)
    headers = _candidate_headers(demo, variables["exam_number"], variables["id_number"])
    _report(demo, headers)
    _check_unlisted(demo)
    do(demo, "prov_adm", "当地省级招生部门审核", {"outcome": "approved"})
    with db.db.reader() as session:
        admission = session.scalar(
            select(Admission).where(Admission.exam_number == variables["exam_number"])
        )
        assert (admission.name, admission.intake_year) == (variables["name"], 2027)
    do(demo, "station1", "新生入学资格复查、核实新生录取信息", {"outcome": "correct"})
    _card_and_class(demo, headers, instance["variables"]["candidate"])
    assert reached(demo, instance["id"], "done")
    kinds = history_kinds(demo, instance["id"])
    assert ("element_completed", "record_admission") in kinds
    assert ("task_completed", "query") in kinds and ("task_completed", "admissions_review") in kinds


@pytest.mark.parametrize("decision", ["推迟答辩", "留级"])
def test_the_station_reports_and_the_college_decides_deferral_or_repeating(demo, db, decision):
    [huang] = ids(demo, "stu1005")
    instance = start(
        demo, "thesis", "station1", {"year": 2027, "start_date": "2027-03-01", "students": [huang]}
    )
    do(
        demo,
        "station1",
        "按照教学计划、毕业设计管理规程制定毕业设计（论文）工作计划",
        {"summary": "计划", "reported_on": "2027-02-01"},
    )
    do(
        demo,
        "station1",
        "下达毕业设计任务，确定毕业设计（论文）分组名单、指导教师",
        {
            "assignments": [
                {"student": huang, "group": "一", "advisor": "advisor1", "title": "题目"}
            ]
        },
    )
    do(
        demo,
        "station1",
        "召开毕业设计（论文）动员会，讲清毕业设计（论文）的目的、任务、要求、总体安排",
        {"held_on": "2027-03-01", "place": "报告厅", "attendance": 1},
    )
    do(demo, "advisor1", "毕业设计（论文）过程控制，填写过程指导单", THESIS_GUIDANCE)
    do(
        demo,
        "station1",
        "毕业设计（论文）答辩资格审核",
        {"outcome": "rejected", "reason": "论文未完成"},
    )
    other = {"推迟答辩": "留级", "留级": "推迟答辩"}[decision]
    do(
        demo,
        "station1",
        "视具体情况报学院推迟答辩或留级",
        {"arrangement": other, "reported_on": "2027-05-10"},
    )
    # the station cannot decide: the college (教学管理) does, here against the proposal
    assert [t["name"] for t in tasks_of(demo, "station1")] == []
    assert [t["name"] for t in tasks_of(demo, "registrar")] == []
    do(
        demo,
        "academic",
        "学院决定推迟答辩或留级",
        {"decision": decision, "decided_on": "2027-05-12", "decision_note": "经学院研究"},
    )
    [child] = detail(demo, instance["id"])["children"]
    assert reached(demo, child, {"推迟答辩": "deferred", "留级": "repeated"}[decision])
    with db.db.reader() as session:
        student = session.get(Student, huang)
        changes = list(
            session.scalars(select(StatusChange).where(StatusChange.student_id == huang))
        )
    if decision == "留级":
        assert (student.status, student.intake_year) == ("留级", 2024)
        assert [(c.to_status, c.instance_id) for c in changes] == [("留级", child)]
    else:
        assert student.status == "已注册" and changes == []
