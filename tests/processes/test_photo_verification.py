"""6 电子图像校对 through the REST API: 正确 at once, 照片有误 and 其他信息有误 looping back for
that student only, the caller waiting for the last student, and the photo statuses."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from tests.helpers import (
    auth,
    complete,
    deploy_processes,
    history_kinds,
    only_task,
    student_id,
    tasks_of,
)
from xueji.models import Student

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
USERS = ("stu1001", "stu1002", "stu1003")


@pytest.fixture
def collected(client, db):
    """The S01 cohort of 2028 after process 5: every photo 已采集."""
    deploy_processes(client, "photo_verification")
    ids = [student_id(client, name) for name in USERS]
    with db.db.writer() as session:
        session.execute(update(Student).where(Student.id.in_(ids)).values(photo_status="已采集"))
        session.commit()
    return ids


def start(client, variables, username="registrar", expect=201):
    response = client.post(
        "/api/v1/process-definitions/photo_verification/start",
        json={"business_key": "S01-2028", "variables": variables},
        headers=auth(client, username),
    )
    assert response.status_code == expect, response.text
    return response.json()


def published(client, ids):
    """Start for S01, then the agency submits and the network centre publishes."""
    instance = start(client, {"station": "S01", "year": 2028, "students": ids})
    submit = only_task(client, "photo")
    assert submit["name"] == "新华图片社将采集的电子图片报送教育部网络中心"
    complete(client, "photo", submit, {"submitted_on": "2027-07-20", "batch_number": "2027-41"})
    publish = only_task(client, "chsi")
    assert publish["name"] == "网络中心将图片上网"
    done = complete(
        client,
        "chsi",
        publish,
        {"published_on": "2027-08-01", "site_url": "https://www.chsi.com.cn/xlcx/"},
    )
    assert len(done["instance"]["children"]) == len(ids)
    return instance


def check(client, username, data):
    task = only_task(client, username)
    assert task["name"] == "学生上网校对个人信息"
    return complete(client, username, task, data)


def confirm(client, username):
    task = only_task(client, username)
    assert task["name"] == "学生点击确认"
    return complete(client, username, task, {"confirmed": True})


def photo_of(db, sid):
    with db.db.reader() as session:
        student = session.get(Student, sid)
        return student.photo_status, student.photo_upload_id


def state(client, instance_id):
    response = client.get(
        f"/api/v1/process-instances/{instance_id}", headers=auth(client, "registrar")
    )
    assert response.status_code == 200, response.text
    return response.json()


def child_of(client, parent_id, sid):
    items = client.get(
        "/api/v1/process-instances",
        params={"parent": parent_id, "student": sid},
        headers=auth(client, "registrar"),
    ).json()["items"]
    [child] = [c for c in items if c["student"] == sid]
    return child["id"]


def test_every_student_confirms_through_their_own_branch(client, db, collected):
    ids = collected
    instance = published(client, ids)
    # Each student sees only their own check; another station sees none of S01's.
    for username in USERS:
        assert [t["student"] for t in tasks_of(client, username)] == [ids[USERS.index(username)]]
    assert tasks_of(client, "stu2001") == [] and tasks_of(client, "station2") == []

    # 正确 → 学生点击确认 → 校对完毕
    check(client, "stu1001", {"outcome": "correct"})
    confirm(client, "stu1001")
    assert photo_of(db, ids[0]) == ("已校对", None)
    assert tasks_of(client, "stu1001") == []

    # 有误 → 照片有误 → 联系新华图片社 → back to the check
    task = only_task(client, "stu1002")
    complete(client, "stu1002", task, {"outcome": "wrong"}, expect=422)  # reason required
    check(client, "stu1002", {"outcome": "wrong", "reason": "照片模糊"})
    opinion = only_task(client, "stu1002")
    assert opinion["name"] == "学生在线提交修改意见"
    complete(client, "stu1002", opinion, {"outcome": "photo_wrong", "opinion": "请重新拍摄"})
    # the station contacts the agency (the seed's 联系新华图片社), not the agency itself
    assert tasks_of(client, "photo") == []
    fix = only_task(client, "station1")
    assert (fix["name"], fix["student"]) == ("联系新华图片社", ids[1])
    assert tasks_of(client, "stu1002") == []
    new_photo = client.post(
        "/api/v1/uploads",
        files={"file": ("retake.jpg", JPEG, "image/jpeg")},
        data={"student": str(ids[1])},
        headers=auth(client, "station1"),
    ).json()["id"]
    complete(
        client,
        "station1",
        fix,
        {"fixed_on": "2027-08-10", "comment": "已重新拍摄", "photo_upload": new_photo},
    )
    assert photo_of(db, ids[1]) == ("已采集", new_photo)  # replaced, not yet confirmed
    check(client, "stu1002", {"outcome": "correct"})
    confirm(client, "stu1002")
    assert photo_of(db, ids[1]) == ("已校对", new_photo)

    # 有误 → 其他信息有误 → 函授站在线审核确认 → back to the check
    check(client, "stu1003", {"outcome": "wrong", "reason": "民族有误"})
    complete(
        client,
        "stu1003",
        only_task(client, "stu1003"),
        {"outcome": "other_wrong", "opinion": "民族应为回族"},
    )
    assert tasks_of(client, "station2") == []
    station = only_task(client, "station1")
    assert (station["name"], station["student"]) == ("函授站在线审核确认", ids[2])
    complete(client, "station1", station, {"confirmed": True, "comment": "已核实"})
    assert state(client, instance["id"])["state"] == "running"  # waits for the last student
    check(client, "stu1003", {"outcome": "correct"})
    done = confirm(client, "stu1003")
    assert done["instance"]["state"] == "completed"

    finished = state(client, instance["id"])
    assert finished["state"] == "completed"
    assert finished["variables"]["results"] == [
        {"student": sid, "photo_status": "已校对"} for sid in ids
    ]
    assert [photo_of(db, sid)[0] for sid in ids] == ["已校对"] * 3
    assert history_kinds(client, instance["id"])[-1] == ("instance_completed", None)
    looped = history_kinds(client, child_of(client, instance["id"], ids[1]))
    assert looped.count(("task_completed", "check")) == 2
    assert ("task_completed", "fix_photo") in looped
    assert ("task_completed", "station_confirm") not in looped
    other = history_kinds(client, child_of(client, instance["id"], ids[2]))
    assert ("task_completed", "station_confirm") in other
    assert other[-1] == ("instance_completed", None)


def test_the_agency_cannot_send_another_students_photo(client, db, collected):
    ids = collected
    published(client, ids[:1])
    check(client, "stu1001", {"outcome": "wrong", "reason": "照片不是本人"})
    complete(
        client,
        "stu1001",
        only_task(client, "stu1001"),
        {"outcome": "photo_wrong", "opinion": "请更换照片"},
    )
    others = client.post(
        "/api/v1/uploads",
        files={"file": ("other.jpg", JPEG, "image/jpeg")},
        data={"student": str(ids[1])},
        headers=auth(client, "station1"),
    ).json()["id"]
    fix = only_task(client, "station1")
    refused = complete(
        client,
        "station1",
        fix,
        {"fixed_on": "2027-08-10", "comment": "已更换", "photo_upload": others},
        expect=422,
    )
    # the form refuses an upload about another student (forms/attachments.py), naming the field
    assert refused["error"] == "FormInvalid"
    assert refused["detail"] == [
        {"field": "photo_upload", "message": "文件 other.jpg 属于另一学生"}
    ]
    assert only_task(client, "station1")["id"] == fix["id"]  # still the station's to redo
    assert photo_of(db, ids[0]) == ("已采集", None)


def test_the_registrar_starts_it_by_hand_with_the_students(client, collected):
    missing = start(client, {"station": "S01", "year": 2028}, expect=422)
    assert [p["field"] for p in missing["detail"]] == ["students"]
    start(client, {"station": "S01", "year": 2028, "students": collected}, "station1", 403)
    with_students = start(client, {"station": "S01", "year": 2028, "students": collected})
    assert with_students["station"] == "S01" and with_students["state"] == "running"
