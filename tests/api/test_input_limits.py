"""Forms are closed, a task without a form cannot overwrite the case's data, and request
bodies have a size limit: each refused with the field or the limit named, nothing written."""

from __future__ import annotations

from tests.helpers import auth, deploy, tasks_of

REVIEW = [
    "review.bpmn",
    "review_start.schema.json",
    "review_apply.schema.json",
    "review_apply.uischema.json",
    "review_decide.schema.json",
]
GOOD = {"reason": "因工作调动申请休学", "effective_term": "2027-春"}


def apply_task(client):
    deploy(client, *REVIEW)
    started = client.post(
        "/api/v1/process-definitions/review/start",
        json={"variables": {"kind": "休学"}},
        headers=auth(client, "stu1001"),
    )
    assert started.status_code == 201, started.text
    [task] = tasks_of(client, "stu1001")
    return task


def complete(client, task, data, user="stu1001"):
    return client.post(
        f"/api/v1/tasks/{task['id']}/complete", json={"data": data}, headers=auth(client, user)
    )


def test_a_field_the_form_does_not_declare_is_refused_by_name(client, db):
    task = apply_task(client)
    refused = complete(client, task, {**GOOD, "students": [1, 2, 3], "len": 1})
    assert refused.status_code == 422, refused.text
    fields = {p["field"] for p in refused.json()["detail"]}
    assert fields == {"students", "len"}
    assert tasks_of(client, "stu1001")[0]["id"] == task["id"]  # nothing happened
    assert complete(client, task, GOOD).status_code == 200


def test_a_thousand_extra_fields_are_refused(client, db):
    task = apply_task(client)
    extra = {f"x{i}": i for i in range(1000)}
    refused = complete(client, task, {**GOOD, **extra})
    assert refused.status_code == 422
    assert len(refused.json()["detail"]) == 1000


def test_a_body_over_the_limit_is_413_before_it_is_read(client, db):
    task = apply_task(client)
    limit = db.settings.max_request_bytes
    refused = complete(client, task, {**GOOD, "padding": "x" * (limit + 1)})
    assert refused.status_code == 413, refused.text[:200]
    assert refused.json()["error"] == "RequestTooLarge"
    assert f"{limit:,}" in refused.json()["detail"]
    assert tasks_of(client, "stu1001")[0]["id"] == task["id"]


def test_a_chunked_body_over_the_limit_is_413_too(client, db):
    task = apply_task(client)
    limit = db.settings.max_request_bytes

    def chunks():
        yield b'{"data": {"reason": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'"}}'

    refused = client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        content=chunks(),
        headers={**auth(client, "stu1001"), "content-type": "application/json"},
    )
    assert refused.status_code == 413, refused.text[:200]


def test_a_task_without_a_form_cannot_overwrite_the_cases_data(client, db):
    deploy(client, "batch_child.bpmn", "batch_parent.bpmn")
    from sqlalchemy import select

    from xueji.models import Student

    with db.db.reader() as session:
        student = session.scalar(select(Student).where(Student.user.has(username="stu1001")))
        ids = [student.id]
    started = client.post(
        "/api/v1/process-definitions/batch_parent/start",
        json={"variables": {"students": ids, "station": "S01"}},
        headers=auth(client, "registrar"),
    )
    assert started.status_code == 201, started.text
    [task] = tasks_of(client, "stu1001")
    refused = complete(client, task, {"answer": "yes", "station": "S02"})
    assert refused.status_code == 422, refused.text
    assert [p["field"] for p in refused.json()["detail"]] == ["station"]
    assert complete(client, task, {"answer": "yes"}).status_code == 200


def test_a_stations_case_cannot_start_children_for_another_stations_students(client, db):
    deploy(client, "batch_child.bpmn", "batch_parent.bpmn")
    from sqlalchemy import select

    from xueji.models import Student, User

    with db.db.reader() as session:
        ids = [
            session.scalar(select(Student.id).join(User).where(User.username == name))
            for name in ("stu1001", "stu2001")
        ]
    refused = client.post(
        "/api/v1/process-definitions/batch_parent/start",
        json={"variables": {"students": ids, "station": "S01"}},
        headers=auth(client, "registrar"),
    )
    assert refused.status_code == 422, refused.text
    assert "不属于本流程的函授站" in refused.json()["detail"]["message"]
    assert tasks_of(client, "stu1001") == [] and tasks_of(client, "stu2001") == []


def test_a_huge_wrong_value_does_not_come_back_in_the_error(client, db):
    task = apply_task(client)
    refused = complete(client, task, {**GOOD, "reason": list(range(100_000))})
    assert refused.status_code == 422
    [problem] = refused.json()["detail"]
    assert problem["field"] == "reason" and len(problem["message"]) <= 300


def test_starlettes_own_refusals_answer_in_the_services_error_shape(client):
    headers = {**auth(client, "stu1001"), "content-type": "application/json"}
    not_json = client.post(
        "/api/v1/process-definitions/review/start", content=b"{", headers=headers
    )
    assert not_json.status_code in (400, 422), not_json.text
    assert set(not_json.json()) == {"error", "detail"}
    unknown = client.get("/api/v1/no-such-thing", headers=headers)
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "NotFound"
    wrong_method = client.put("/api/v1/tasks", headers=headers)
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "MethodNotAllowed"


def test_openapi_documents_the_services_errors(client):
    schema = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    error = {"$ref": "#/components/schemas/Error"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert responses["422"]["content"]["application/json"]["schema"] == error, path
            if path != "/api/v1/auth/login":
                assert {"401", "403", "404"} <= set(responses), (method, path)
