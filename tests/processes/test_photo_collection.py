"""5 电子图像采集 through the REST API: the list from the records, 统一拍摄 and 未统一拍摄 in one
batch, the photo statuses, and process 6 started by the worker 40 days later."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

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
from xueji.models import Major, Student, Timer, Upload
from xueji.scheduler.worker import run_once

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
EXTRA = ("stu1004", "stu1005", "stu2003")  # the demo's registered students beyond api.md's
ARRANGED = {"collection_date": "2027-05-20", "collection_place": "郑州函授站多媒体教室"}


@pytest.fixture
def cohort(client, db):
    """stu1001 and stu1002 (S01) and stu2001 (S02) have 预计毕业日期 in 2028; stu1003 has
    none, and its 2-year major entered in 2026 ends in 2028 too."""
    deploy_processes(client, "photo_collection", "photo_verification")
    ids = {name: student_id(client, name) for name in ("stu1001", "stu1002", "stu1003", "stu2001")}
    extra = [student_id(client, u) for u in EXTRA]
    with db.db.writer() as session:
        major = Major(code="080999", name="软件工程", level="专升本", years="2")
        session.add(major)
        session.flush()
        for name, graduation in (("stu1001", 1), ("stu1002", 7), ("stu2001", 1)):
            session.execute(
                update(Student)
                .where(Student.id == ids[name])
                .values(expected_graduation=date(2028, graduation, 1))
            )
        # the demo's 学号 and photo statuses aside: numberless students are listed by id
        session.execute(update(Student).values(student_number=None, photo_status="未采集"))
        # and its registered 2028 graduates (stu1004, stu1005, stu2003) out of this cohort
        session.execute(
            update(Student)
            .where(Student.id.in_(extra))
            .values(expected_graduation=date(2032, 7, 1))
        )
        session.execute(
            update(Student)
            .where(Student.id == ids["stu1003"])
            .values(major_id=major.id, expected_graduation=None)
        )
        session.commit()
    return ids


def start(client, station="S01", year=2028, expect=201):
    response = client.post(
        "/api/v1/process-definitions/photo_collection/start",
        json={"business_key": f"{station}-{year}", "variables": {"station": station, "year": year}},
        headers=auth(client, "registrar"),
    )
    assert response.status_code == expect, response.text
    return response.json()


def instance(client, instance_id, username="registrar"):
    response = client.get(
        f"/api/v1/process-instances/{instance_id}", headers=auth(client, username)
    )
    assert response.status_code == 200, response.text
    return response.json()


def upload_photo(client, username, student=None):
    response = client.post(
        "/api/v1/uploads",
        files={"file": ("photo.jpg", JPEG, "image/jpeg")},
        data={} if student is None else {"student": str(student)},
        headers=auth(client, username),
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def photos(db, *ids):
    with db.db.reader() as session:
        rows = {s.id: s for s in session.scalars(select(Student).where(Student.id.in_(ids)))}
        return [(rows[i].photo_status, rows[i].photo_upload_id) for i in ids]


def verify_and_fill_card(client, username, outcome):
    task = only_task(client, username)
    assert task["name"] == "学生核实个人信息并签字确认" and task["due_at"] is not None
    detail = client.get(f"/api/v1/tasks/{task['id']}", headers=auth(client, username)).json()
    name = detail["data"]["info"]["name"]
    complete(client, username, task, {"confirmed": True})
    card = only_task(client, username)
    assert card["name"] == "学生填涂毕业生电子图像采集卡"
    complete(
        client,
        username,
        card,
        {"name": name, "id_number": detail["data"]["info"]["id_number"], "outcome": outcome},
    )


def test_list_comes_from_the_records_and_the_station_gets_a_roster(client, db, cohort):
    started = start(client)
    ids = [cohort["stu1001"], cohort["stu1002"], cohort["stu1003"]]
    assert started["variables"]["students"] == ids
    assert tasks_of(client, "station2") == []
    arrange = only_task(client, "station1")
    assert arrange["name"] == "函授站联系新华图片社确定电子图像采集时间、地点"
    complete(client, "station1", arrange, {"collection_date": "2027-05-20"}, expect=422)
    done = complete(client, "station1", arrange, ARRANGED)
    roster = done["instance"]["variables"]["roster"]
    assert len(done["instance"]["children"]) == 3

    content = client.get(f"/api/v1/uploads/{roster}/content", headers=auth(client, "station1"))
    assert content.status_code == 200
    sheet = load_workbook(BytesIO(content.content)).active
    rows = [row for row in sheet.iter_rows(values_only=True)]
    assert "2027-05-20" in rows[1][0] and rows[2][2] == "姓名 XM"
    assert [row[2] for row in rows[3:]] == ["张伟", "王芳", "李娜"]
    with db.db.reader() as session:
        upload = session.get(Upload, roster)
        assert upload.generated and upload.instance_id == started["id"]
    assert (
        client.get(f"/api/v1/uploads/{roster}", headers=auth(client, "station2")).status_code == 404
    )


def test_no_graduates_no_collection(client, cohort):
    refused = start(client, "S02", 2030, expect=422)["detail"]
    assert refused["element_id"] == "list_graduates" and "graduate in 2030" in refused["message"]
    forbidden = client.post(
        "/api/v1/process-definitions/photo_collection/start",
        json={"variables": {"station": "S01", "year": 2028}},
        headers=auth(client, "station1"),
    )
    assert forbidden.status_code == 403


def test_unified_and_individual_shooting_then_verification_starts_40_days_later(client, db, cohort):
    ids = [cohort["stu1001"], cohort["stu1002"], cohort["stu1003"]]
    collection = start(client)
    complete(client, "station1", only_task(client, "station1"), ARRANGED)
    # Each student sees only the task of their own child instance; S02 sees nothing.
    assert tasks_of(client, "stu2001") == [] and tasks_of(client, "station2") == []
    verify_and_fill_card(client, "stu1001", "unified")
    verify_and_fill_card(client, "stu1002", "individual")
    verify_and_fill_card(client, "stu1003", "unified")
    assert photos(db, *ids) == [("未采集", None)] * 3

    # 统一拍摄: the agency takes the photos and mails prints and discs.
    shoot = tasks_of(client, "photo")
    assert [t["name"] for t in shoot] == ["拍摄电子照片"] * 2
    assert sorted(t["student"] for t in shoot) == [ids[0], ids[2]]
    by_student = {t["student"]: t for t in shoot}
    agency_photo = upload_photo(client, "photo", ids[0])
    complete(
        client,
        "photo",
        by_student[ids[0]],
        {"shot_on": "2027-05-20", "photo_upload": agency_photo},
    )
    complete(client, "photo", by_student[ids[2]], {"shot_on": "2027-05-20"})
    for task in tasks_of(client, "photo"):
        assert task["name"] == "新华图片社寄送纸质相片和电子光盘"
        complete(client, "photo", task, {"sent_on": "2027-06-01", "tracking_number": "SF1001"})
    assert photos(db, ids[0], ids[2]) == [("已采集", agency_photo), ("已采集", None)]
    assert tasks_of(client, "station1") == []  # the caller waits for stu1002

    # 未统一拍摄: the student has it taken and hands in the electronic photo.
    self_shoot = only_task(client, "stu1002")
    assert self_shoot["name"] == "学生自行散拍"
    complete(
        client, "stu1002", self_shoot, {"shot_on": "2027-06-03", "studio": "新华图片社二七网点"}
    )
    retrieve = only_task(client, "stu1002")
    assert retrieve["name"] == "个人取回电子图片信息"
    complete(client, "stu1002", retrieve, {"photo_upload": agency_photo}, expect=422)
    own_photo = upload_photo(client, "stu1002")
    complete(client, "stu1002", retrieve, {"photo_upload": own_photo})
    assert photos(db, *ids) == [
        ("已采集", agency_photo),
        ("已采集", own_photo),
        ("已采集", None),
    ]

    report = only_task(client, "station1")
    assert report["name"] == "函授站整理学生电子图片信息，上报学院"
    assert instance(client, collection["id"])["variables"]["results"] == [
        {"student": ids[0], "mode": "unified", "photo_upload": agency_photo},
        {"student": ids[1], "mode": "individual", "photo_upload": own_photo},
        {"student": ids[2], "mode": "unified", "photo_upload": None},
    ]
    complete(client, "station1", report, {"reported_on": "2027-06-10", "photo_count": 3})

    # 图像采集40天后: nothing before, the same cohort's verification after.
    with db.db.reader() as session:
        [timer] = session.scalars(
            select(Timer).where(Timer.instance_id == collection["id"], Timer.state == "pending")
        )
    reported = timer.due_at - timedelta(days=40)
    assert abs(reported - clock.now()) < timedelta(minutes=5)
    assert run_once(db, timer.due_at - timedelta(hours=1)).fired == 0
    assert verifications(client) == []
    assert run_once(db, timer.due_at + timedelta(minutes=1)).fired == 1

    finished = instance(client, collection["id"])
    assert finished["state"] == "completed"
    [verification] = verifications(client)
    assert verification["id"] == finished["variables"]["verification"]
    assert (verification["station"], verification["business_key"]) == ("S01", "S01-2028")
    started = instance(client, verification["id"])
    assert started["variables"]["students"] == ids and started["variables"]["year"] == 2028
    assert [t["name"] for t in tasks_of(client, "photo")] == [
        "新华图片社将采集的电子图片报送教育部网络中心"
    ]
    kinds = history_kinds(client, collection["id"])
    assert ("timer_fired", "wait_40_days") in kinds
    assert ("element_completed", "start_verification") in kinds
    assert kinds[-1] == ("instance_completed", None)


def verifications(client):
    response = client.get(
        "/api/v1/process-instances",
        params={"key": "photo_verification"},
        headers=auth(client, "registrar"),
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]
