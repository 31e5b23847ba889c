"""Numbers and ids the suites of this folder found answered with a 500 on PostgreSQL (its
INTEGER columns hold 32 bits): refused with a 422 naming the input, on every database."""

from __future__ import annotations

import pytest

from tests.helpers import auth, deploy_processes

BEYOND = 2**31  # one more than PostgreSQL's INTEGER holds
LARGEST = 2**31 - 1


@pytest.mark.parametrize(
    "method, path, field",
    [
        ("GET", "/api/v1/students/{id}", "student_id"),
        ("GET", "/api/v1/uploads/{id}", "upload_id"),
        ("GET", "/api/v1/uploads/{id}/content", "upload_id"),
        ("GET", "/api/v1/process-instances?student={id}", "student"),
        ("GET", "/api/v1/events/stream?wait=0&after={id}", "after"),
        ("POST", "/api/v1/jobs/timers/{id}/retry", "timer_id"),
        ("POST", "/api/v1/jobs/deliveries/{id}/retry", "delivery_id"),
        ("POST", "/api/v1/jobs/incidents/{id}/resolve", "incident_id"),
        ("DELETE", "/api/v1/webhooks/{id}", "webhook_id"),
    ],
)
def test_an_id_beyond_the_database_integer_is_refused_naming_it(client, method, path, field):
    headers = auth(client, "admin")
    response = client.request(method, path.format(id=BEYOND), headers=headers)
    assert response.status_code == 422, response.text
    assert field in {problem["field"] for problem in response.json()["detail"]}
    # The largest id accepted is looked up as any other.
    response = client.request(method, path.format(id=LARGEST), headers=headers)
    assert response.status_code in (200, 404), response.text


def test_a_message_correlated_to_a_student_id_beyond_the_integer_is_refused(client):
    headers = auth(client, "admin")
    body = {"name": "学籍异动申请", "correlation": {"student": BEYOND}}
    response = client.post("/api/v1/messages", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == "correlation.student"
    body["correlation"]["student"] = LARGEST
    response = client.post("/api/v1/messages", json=body, headers=headers)
    assert response.status_code == 404, response.text


def test_an_upload_about_a_student_id_beyond_the_integer_is_refused(client):
    headers = auth(client, "admin")
    photo = {"file": ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64, "image/jpeg")}
    response = client.post(
        "/api/v1/uploads", files=photo, data={"student": BEYOND}, headers=headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == "student"
    response = client.post(
        "/api/v1/uploads", files=photo, data={"student": LARGEST}, headers=headers
    )
    assert response.status_code == 404, response.text


@pytest.mark.parametrize("student", [BEYOND, LARGEST])
def test_a_start_for_a_student_id_beyond_the_integer_is_refused(client, student):
    deploy_processes(client, "status_change")
    variables = {"kind": "休学", "reason": "工作调动", "effective_term": "2027-春"}
    response = client.post(
        "/api/v1/process-definitions/status_change/start",
        json={"variables": {**variables, "student": student}},
        headers=auth(client, "admin"),
    )
    assert response.status_code == 422, response.text
    # refused by the form's list of students (xueji.forms.choices) before any query with it
    [problem] = response.json()["detail"]
    assert problem["field"] == "student" and str(student) in problem["message"], problem


def test_a_definition_version_beyond_the_integer_is_refused_naming_it(client):
    deploy_processes(client, "status_change")
    headers = auth(client, "stu1001")
    path = "/api/v1/process-definitions/status_change/versions/{}"
    response = client.get(path.format(BEYOND), headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == "version"
    assert client.get(path.format(1), headers=headers).status_code == 200
    assert client.get(path.format(1_000_000), headers=headers).status_code == 404
