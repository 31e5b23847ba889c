"""POST /messages: correlation, delivery to the right instance only, message start events,
who may send, and never a silent drop."""

from __future__ import annotations

from sqlalchemy import delete

from tests.helpers import auth, deploy, history_kinds, student_id, tasks_of
from xueji.models import ApiToken

WAIT = ("msg_confirm.schema.json", "msg_wait.bpmn")
CONFIRM = {"checked_in_on": "2027-03-10"}


def send(client, username, name, correlation=None, payload=None, expect=200) -> dict:
    response = client.post(
        "/api/v1/messages",
        json={"name": name, "correlation": correlation or {}, "payload": payload or {}},
        headers=auth(client, username),
    )
    assert response.status_code == expect, response.text
    return response.json()


def start(client, key, variables, business_key=None, username="registrar") -> dict:
    response = client.post(
        f"/api/v1/process-definitions/{key}/start",
        json={"variables": variables, "business_key": business_key},
        headers=auth(client, username),
    )
    assert response.status_code == 201, response.text
    return response.json()


def instance(client, instance_id) -> dict:
    return client.get(
        f"/api/v1/process-instances/{instance_id}", headers=auth(client, "admin")
    ).json()


def waiting_for_two_students(client):
    deploy(client, *WAIT)
    first = start(client, "msg_wait", {"student": student_id(client, "stu1001")})
    second = start(client, "msg_wait", {"student": student_id(client, "stu1002")})
    assert first["active_tasks"] == [] and second["active_tasks"] == []
    return first, second


def test_the_message_moves_only_the_instance_whose_correlation_matches(client):
    first, second = waiting_for_two_students(client)
    sid = student_id(client, "stu1002")

    result = send(client, "station1", "报到确认", {"student": sid}, CONFIRM)

    assert result == {"name": "报到确认", "delivered": [second["id"]], "started": []}
    moved, waiting = instance(client, second["id"]), instance(client, first["id"])
    assert [t["name"] for t in moved["active_tasks"]] == ["登记"]
    assert moved["variables"]["confirmation"] == CONFIRM
    assert waiting["active_tasks"] == [] and "confirmation" not in waiting["variables"]
    kinds = history_kinds(client, second["id"])
    assert ("message_received", "confirmed") in kinds
    assert kinds.index(("message_received", "confirmed")) < kinds.index(
        ("element_completed", "confirmed")
    )
    assert ("message_received", "confirmed") not in history_kinds(client, first["id"])
    history = client.get(
        f"/api/v1/process-instances/{second['id']}/history", headers=auth(client, "admin")
    ).json()
    line = next(h for h in history if h["kind"] == "message_received")
    assert line["actor"] == "station1"
    assert line["data"] == {"name": "报到确认", "correlation": {"student": sid}, "payload": CONFIRM}
    # It was caught: the same message again finds nothing waiting.
    send(client, "station1", "报到确认", {"student": sid}, CONFIRM, expect=404)


def test_no_match_is_404_naming_the_message_and_the_correlation(client):
    waiting_for_two_students(client)
    body = send(client, "station1", "报到确认", {"student": 999999}, CONFIRM, expect=404)
    assert body["detail"]["name"] == "报到确认"
    assert body["detail"]["correlation"] == {"student": 999999}
    unknown = send(client, "registrar", "没有这个消息", {"student": 1}, expect=404)
    assert unknown["detail"]["name"] == "没有这个消息"


def test_an_empty_correlation_never_reaches_an_element_that_declares_keys(client):
    first, second = waiting_for_two_students(client)
    body = send(client, "registrar", "报到确认", {}, CONFIRM, expect=404)
    assert body["detail"]["correlation"] == {}
    for item in (first, second):
        assert instance(client, item["id"])["active_tasks"] == []


def test_a_key_the_element_does_not_declare_still_has_to_match(client):
    first, _ = waiting_for_two_students(client)
    sid = student_id(client, "stu1001")
    send(client, "registrar", "报到确认", {"student": sid, "station": "S02"}, CONFIRM, expect=404)
    send(client, "registrar", "报到确认", {"student": sid, "station": "S01"}, CONFIRM)
    assert [t["name"] for t in instance(client, first["id"])["active_tasks"]] == ["登记"]


def test_the_payload_must_satisfy_the_catching_elements_form(client):
    first, _ = waiting_for_two_students(client)
    sid = student_id(client, "stu1001")
    body = send(client, "station1", "报到确认", {"student": sid}, {}, expect=422)
    assert body["detail"] == [
        {"field": "payload.checked_in_on", "message": "'checked_in_on' is required"}
    ]
    assert instance(client, first["id"])["active_tasks"] == []
    bad = send(client, "station1", "报到确认", {"student": "一号"}, CONFIRM, expect=422)
    assert bad["detail"][0]["field"] == "correlation.student"


def test_who_may_send_is_the_lane_role_registrars_and_admins_within_their_scope(client):
    first, second = waiting_for_two_students(client)
    sid = student_id(client, "stu1001")
    # The catch event is in the station lane: a student may not send it at all (403) ...
    send(client, "stu1001", "报到确认", {"student": sid}, CONFIRM, expect=403)
    send(client, "academic", "报到确认", {"student": sid}, CONFIRM, expect=403)
    # ... and another station reaches nothing of S01's, as if nothing waited (404).
    send(client, "station2", "报到确认", {"student": sid}, CONFIRM, expect=404)
    assert instance(client, first["id"])["active_tasks"] == []
    send(client, "admin", "报到确认", {"student": sid}, CONFIRM)
    other = student_id(client, "stu1002")
    send(client, "registrar", "报到确认", {"student": other}, CONFIRM)
    assert instance(client, second["id"])["active_tasks"] != []


def test_business_key_and_variable_correlation_and_payload_under_the_message_name(client):
    deploy(client, "msg_batch.bpmn")
    spring = start(client, "msg_batch", {"batch": "2027-春"}, business_key="照片-2027-春")
    autumn = start(client, "msg_batch", {"batch": "2027-秋"}, business_key="照片-2027-秋")
    # The element declares business_key and batch: one of them is not enough.
    send(client, "chsi", "批次完成", {"business_key": "照片-2027-秋"}, expect=404)
    send(
        client, "chsi", "批次完成", {"business_key": "照片-2027-春", "batch": "2027-秋"}, expect=404
    )

    result = send(
        client, "chsi", "批次完成", {"business_key": "照片-2027-秋", "batch": "2027-秋"}, {"n": 2}
    )

    assert result["delivered"] == [autumn["id"]]
    moved = instance(client, autumn["id"])
    assert moved["variables"]["批次完成"] == {"n": 2}  # no messageVariable: the message's name
    assert instance(client, spring["id"])["active_tasks"] == []


def test_a_message_start_event_starts_an_instance_in_the_correlated_station(client):
    deploy(client, "msg_published.schema.json", "msg_start.bpmn")
    send(client, "chsi", "照片已上网", {"station": "S01"}, {"count": "many"}, expect=422)
    send(client, "station1", "照片已上网", {"station": "S01"}, {"count": 3}, expect=403)

    result = send(client, "chsi", "照片已上网", {"station": "S01"}, {"count": 3})

    assert result["delivered"] == [] and len(result["started"]) == 1
    started = instance(client, result["started"][0])
    assert started["key"] == "msg_start" and started["station"] == "S01"
    assert started["variables"]["publication"] == {"count": 3}
    [task] = tasks_of(client, "station1")
    assert task["name"] == "函授站核对网上图片" and task["instance_id"] == started["id"]
    assert tasks_of(client, "station2") == []
    kinds = history_kinds(client, started["id"])
    assert kinds[0] == ("instance_started", None)
    assert ("message_received", "published") in kinds
    # The element declares the station: without it nothing starts.
    send(client, "chsi", "照片已上网", {}, {"count": 3}, expect=404)


def test_an_api_token_of_the_lane_role_may_send(client, db):
    deploy(client, "msg_published.schema.json", "msg_start.bpmn")
    created = client.post(
        "/api/v1/api-tokens",
        json={"name": "chsi-photo-sync", "role": "chsi"},
        headers=auth(client, "admin"),
    )
    assert created.status_code == 201, created.text
    try:
        response = client.post(
            "/api/v1/messages",
            json={"name": "照片已上网", "correlation": {"station": "S02"}, "payload": {"count": 1}},
            headers={"Authorization": f"Bearer {created.json()['token']}"},
        )
        assert response.status_code == 200, response.text
        started = instance(client, response.json()["started"][0])
        assert started["station"] == "S02" and started["started_by"] == "token:chsi-photo-sync"
    finally:
        with db.db.writer() as session:
            session.execute(delete(ApiToken).where(ApiToken.id == created.json()["id"]))
            session.commit()


def test_a_message_thrown_by_one_instance_moves_the_matching_one_in_the_same_step(client, db):
    from sqlalchemy import select

    from xueji.models import ProcessInstance

    first, second = waiting_for_two_students(client)
    deploy(client, "msg_throw.bpmn")
    sender = start(client, "msg_throw", {"student": student_id(client, "stu1002")})
    [task] = sender["active_tasks"]
    done = client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"data": {"checked_in_on": "2027-03-09"}},
        headers=auth(client, "registrar"),
    )
    assert done.status_code == 200, done.text
    assert instance(client, second["id"])["variables"]["confirmation"] == {
        "checked_in_on": "2027-03-09"
    }
    assert instance(client, first["id"])["active_tasks"] == []
    kinds = history_kinds(client, sender["id"])
    assert ("message_sent", None) in kinds
    with db.db.reader() as session:
        states = dict(session.execute(select(ProcessInstance.id, ProcessInstance.state)).all())
    assert states[sender["id"]] == "completed"


def test_a_thrown_message_nobody_waits_for_is_kept_in_the_history(client):
    deploy(client, *WAIT)
    deploy(client, "msg_throw.bpmn")
    sender = start(client, "msg_throw", {"student": student_id(client, "stu1003")})
    [task] = sender["active_tasks"]
    client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"data": {"checked_in_on": "2027-03-09"}},
        headers=auth(client, "registrar"),
    )
    assert ("message_unmatched", None) in history_kinds(client, sender["id"])
