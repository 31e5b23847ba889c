"""Repairing a case: move it back one step and complete it from there, set a variable
(validated like task data), retry or skip the step that failed; administrators only, and each
action leaves its audit line."""

from __future__ import annotations

import threading

import httpx

from tests.helpers import auth, history_kinds
from tests.operations.cases import KEY, active, call, deploy_version, start


def complete(client, task: dict, data: dict, expect: int = 200) -> dict:
    return call(
        client, "POST", f"/tasks/{task['id']}/complete", {"data": data}, "registrar", expect
    )


def audit_actions(client, instance_id: str) -> list[str]:
    history = call(client, "GET", f"/process-instances/{instance_id}/history")
    return [h["data"]["action"] for h in history if h["kind"] == "admin_action"]


def test_a_case_moved_back_one_step_is_completed_from_there(client):
    deploy_version(client)
    case = start(client)["id"]
    [check] = active(client, case)
    [approve] = complete(client, check, {"mode": "normal", "count": 3})["next_tasks"]
    assert approve["element_id"] == "approve"

    call(
        client, "POST", f"/process-instances/{case}/move", {"element_id": "check"}, "registrar", 403
    )
    moved = call(client, "POST", f"/process-instances/{case}/move", {"element_id": "check"})
    [again] = moved["active_tasks"] or active(client, case)
    assert again["element_id"] == "check" and again["id"] != check["id"]
    kinds = history_kinds(client, case)
    assert ("task_cancelled", "approve") in kinds and ("instance_moved", "check") in kinds
    assert audit_actions(client, case) == ["instance.repair.move"]

    [approve] = complete(client, again, {"mode": "normal", "count": 7})["next_tasks"]
    complete(client, approve, {})
    finished = call(client, "GET", f"/process-instances/{case}")
    assert finished["state"] == "completed" and finished["variables"]["total"] == 14

    refused = call(
        client, "POST", f"/process-instances/{case}/move", {"element_id": "check"}, expect=409
    )
    assert refused["error"] == "Conflict"


def test_moving_to_an_element_the_case_never_passed_is_refused(client):
    deploy_version(client)
    case = start(client)["id"]
    refused = call(
        client, "POST", f"/process-instances/{case}/move", {"element_id": "approve"}, expect=422
    )
    assert refused["detail"][0]["field"] == "element_id"
    assert [t["element_id"] for t in active(client, case)] == ["check"]


def test_a_variable_is_set_when_valid_for_the_forms_and_refused_otherwise(client):
    deploy_version(client)
    case = start(client)["id"]
    path = f"/process-instances/{case}/variables/count"

    refused = call(client, "PUT", path, {"value": -1}, expect=422)
    assert refused["error"] == "FormInvalid" and refused["detail"][0]["field"] == "count"
    refused = call(
        client, "PUT", f"/process-instances/{case}/variables/1x", {"value": 1}, expect=422
    )
    assert refused["detail"][0]["field"] == "name"
    refused = call(client, "PUT", path, {"value": {"typename": 1}}, expect=422)
    assert "reserved" in refused["detail"][0]["message"]

    updated = call(client, "PUT", path, {"value": 5})
    assert updated["variables"]["count"] == 5
    assert audit_actions(client, case) == ["instance.repair.set_variable"]
    [line] = [
        h
        for h in call(client, "GET", f"/process-instances/{case}/history")
        if h["kind"] == "variable_set"
    ]
    assert line["data"] == {"name": "count", "before": None, "after": 5}


def test_a_failed_step_is_retried_after_correcting_its_data_or_skipped(client):
    deploy_version(client)
    first, second = start(client)["id"], start(client)["id"]
    for case in (first, second):
        [check] = active(client, case)
        failed = complete(client, check, {"mode": "boom", "count": 2}, expect=422)
        assert failed["error"] == "EngineStepFailed"
    incidents = {i["instance_id"]: i for i in call(client, "GET", "/incidents")}
    assert set(incidents) == {first, second}
    assert incidents[first]["element_id"] == "compute"

    # Retried as it was, it fails again (a new incident); corrected first, it goes on.
    retry = {"action": "retry"}
    call(client, "POST", f"/incidents/{incidents[first]['id']}/resolve", retry, expect=422)
    call(client, "PUT", f"/process-instances/{first}/variables/mode", {"value": "normal"})
    still_open = [i for i in call(client, "GET", "/incidents") if i["instance_id"] == first]
    assert len(still_open) == 2
    resolved = call(client, "POST", f"/incidents/{still_open[0]['id']}/resolve", retry)
    assert resolved["resolved_at"] is not None
    assert [t["element_id"] for t in active(client, first)] == ["approve"]
    assert "instance.repair.retry" in audit_actions(client, first)

    skipped = call(
        client, "POST", f"/incidents/{incidents[second]['id']}/resolve", {"action": "skip"}
    )
    assert skipped["data"]["action"] == "skip"
    [approve] = active(client, second)
    assert approve["element_id"] == "approve"
    assert "total" not in call(client, "GET", f"/process-instances/{second}")["variables"]
    assert ("step_skipped", "compute") in history_kinds(client, second)
    assert audit_actions(client, second) == ["instance.repair.skip"]
    complete(client, approve, {})
    assert call(client, "GET", f"/process-instances/{second}")["state"] == "completed"


def test_dismissing_an_incident_is_audited_and_only_admins_resolve(client):
    deploy_version(client)
    case = start(client)["id"]
    [check] = active(client, case)
    complete(client, check, {"mode": "boom", "count": 1}, expect=422)
    [incident] = call(client, "GET", "/incidents")
    path = f"/incidents/{incident['id']}/resolve"
    call(client, "POST", path, {"action": "dismiss"}, "registrar", 403)
    assert call(client, "POST", path, {"action": "dismiss"})["resolved_at"] is not None
    call(client, "POST", path, {"action": "dismiss"}, expect=409)
    assert audit_actions(client, case) == ["incident.resolve"]
    assert call(client, "GET", "/incidents") == []


def test_a_business_key_names_one_unfinished_case_and_is_searched_by_prefix(client):
    deploy_version(client)
    first = start(client, "2027-S01-0001")
    start(client, "2027-S01-0002")
    start(client, "2027-S02-0001")

    taken = start(client, "2027-S01-0001", expect=409)
    assert taken["error"] == "BusinessKeyInUse" and taken["detail"]["instance_id"] == first["id"]

    found = client.get(
        "/api/v1/process-instances",
        params={"business_key": "2027-S01-"},
        headers=auth(client, "admin"),
    ).json()
    assert sorted(i["business_key"] for i in found["items"]) == ["2027-S01-0001", "2027-S01-0002"]
    # "_" and "%" are plain characters in a prefix, not wildcards.
    none = client.get(
        "/api/v1/process-instances",
        params={"business_key": "2027_S"},
        headers=auth(client, "admin"),
    ).json()
    assert none["total"] == 0

    call(client, "POST", f"/process-instances/{first['id']}/terminate", {}, "registrar")
    assert start(client, "2027-S01-0001")["business_key"] == "2027-S01-0001"


def test_two_starts_with_one_business_key_at_the_same_moment_give_one_case_and_one_409(
    client, server
):
    deploy_version(client)
    headers = auth(client, "registrar")
    for round_ in range(5):
        barrier = threading.Barrier(2)
        answers: list[tuple[int, str]] = []

        def start_one(barrier=barrier, answers=answers, key=f"2027-S01-{round_}"):
            with httpx.Client(base_url=server, timeout=60) as http:
                barrier.wait()
                response = http.post(
                    f"/api/v1/process-definitions/{KEY}/start",
                    json={"business_key": key, "variables": {}},
                    headers=headers,
                )
                answers.append((response.status_code, response.json().get("error", "")))

        threads = [threading.Thread(target=start_one) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(answers) == [(201, ""), (409, "BusinessKeyInUse")]
