"""Point 5 of issue 12: the applicant and the station see a review's outcome and its reason
(notifications and the case list, from the events the service emits), and completing a task
says where the case goes next and by when."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.helpers import auth, complete, deploy_processes, only_task
from tests.processes.test_status_change import FORM, apply
from xueji import clock


def read(client, username, path, **params):
    response = client.get(f"/api/v1{path}", params=params, headers=auth(client, username))
    assert response.status_code == 200, response.text
    return response.json()


def test_the_outcome_reaches_applicant_and_station_and_the_next_step_is_named(client):
    deploy_processes(client, "status_change")
    instance = apply(client, kind="退学")
    submitted = complete(client, "stu1001", only_task(client, "stu1001"), FORM)
    assert submitted["next_tasks"] == []  # nothing more for the student to do
    [step] = submitted["next_steps"]
    assert (step["name"], step["role"], step["station_name"]) == (
        "函授站签署审核意见",
        "station",
        "郑州函授站",
    )
    due = step["due_at"]
    assert due is not None and clock.now() + timedelta(days=6) < datetime.fromisoformat(due)
    assert read(client, "stu1001", "/notifications") == []

    complete(
        client,
        "station1",
        only_task(client, "station1"),
        {"outcome": "rejected", "reason": "证明材料不全"},
    )
    [ended, told] = read(client, "stu1001", "/notifications")  # newest first
    assert (ended["type"], ended["outcome_name"]) == ("instance.completed", "已办结")
    assert (told["outcome"], told["outcome_name"], told["reason"]) == (
        "rejected",
        "未通过",
        "证明材料不全",
    )
    assert told["step"] == "函授站签署审核意见" and told["negative"] is True
    assert told["instance_id"] == instance["id"]
    # the station decided it: its own decision is no news to it; another station sees nothing
    assert read(client, "station1", "/notifications") == []
    assert read(client, "station2", "/notifications") == []
    [case] = read(client, "stu1001", "/process-instances")["items"]
    assert case["outcome"]["outcome_name"] == "未通过"
    assert case["outcome"]["reason"] == "证明材料不全"
    [same] = read(client, "station1", "/process-instances", key="status_change")["items"]
    assert same["outcome"]["reason"] == "证明材料不全"

    # the college's decision on the station's case reaches the station
    apply(client, "stu1002", kind="退学")
    complete(client, "stu1002", only_task(client, "stu1002"), FORM)
    complete(client, "station1", only_task(client, "station1"), {"outcome": "approved"})
    rejected = {"outcome": "rejected", "reason": "不符合退学条件"}
    complete(client, "registrar", only_task(client, "registrar"), rejected)
    news = read(client, "station1", "/notifications")
    assert [(n["outcome_name"], n["reason"], n["actor"]) for n in news] == [
        ("已办结", None, "registrar"),
        ("未通过", "不符合退学条件", "registrar"),
    ]
