"""Uploads a case used: a form accepted with an upload (a task, a message from outside) records
it as the instance's attachment, listed in the instance's detail and readable by the case's
readers; a message's upload ids are checked as a task's; an upload one student's case used, or
one about a student, is refused in another student's case (422 naming the field)."""

from __future__ import annotations

import json

from tests.helpers import FIXTURES, auth, complete, deploy, deploy_processes, only_task, student_id
from tests.messages.test_messages import CONFIRM, send, start
from tests.processes.test_status_change import FORM, apply
from tests.uploads.test_endpoints import PDF, PNG, readers, upload

# The message fixture's form with a proof upload (证明材料) beside the date.
PROOF_FORM = json.loads((FIXTURES / "msg_confirm.schema.json").read_text())
PROOF_FORM["properties"]["proof"] = {"title": "证明材料", "type": "integer", "x-upload": "document"}


def detail(client, instance_id: str, username: str = "admin") -> dict:
    response = client.get(
        f"/api/v1/process-instances/{instance_id}", headers=auth(client, username)
    )
    assert response.status_code == 200, response.text
    return response.json()


def waiting_with_proof(client) -> tuple[dict, dict]:
    deploy(
        client,
        ("msg_confirm.schema.json", json.dumps(PROOF_FORM).encode()),
        "msg_wait.bpmn",
    )
    return tuple(
        start(client, "msg_wait", {"student": student_id(client, username)})
        for username in ("stu1001", "stu1002")
    )


def test_a_completed_task_lists_its_upload_as_the_cases_attachment(client):
    deploy_processes(client, "status_change")
    case = apply(client, kind="休学")
    proof = upload(client, "stu1001", "证明.png", PNG)
    assert detail(client, case["id"])["attachments"] == []
    done = complete(
        client, "stu1001", only_task(client, "stu1001"), {**FORM, "attachments": [proof["id"]]}
    )
    assert [a["id"] for a in done["instance"]["attachments"]] == [proof["id"]]  # the answer too
    [attached] = detail(client, case["id"], "station1")["attachments"]
    assert attached == {
        "id": proof["id"], "file_name": "证明.png", "content_type": "image/png", "size": len(PNG)
    }  # fmt: skip
    assert "station2" not in readers(client, proof["id"], ["station1", "station2"])


def test_a_message_from_outside_checks_and_attaches_its_uploads(client):
    first, second = waiting_with_proof(client)
    one, two = (student_id(client, u) for u in ("stu1001", "stu1002"))
    theirs = upload(client, "station2", "证明.pdf", PDF)["id"]
    for bad in (999, theirs):
        refused = send(
            client, "station1", "报到确认", {"student": one}, {**CONFIRM, "proof": bad}, expect=422
        )
        assert refused["error"] == "FormInvalid"
        assert [p["field"] for p in refused["detail"]] == ["payload.proof"]
    assert detail(client, first["id"])["attachments"] == []  # nothing half-written

    proof = upload(client, "station1", "证明.pdf", PDF)["id"]
    sent = send(client, "station1", "报到确认", {"student": one}, {**CONFIRM, "proof": proof})
    assert sent["delivered"] == [first["id"]]
    assert [a["id"] for a in detail(client, first["id"])["attachments"]] == [proof]
    # used by 张伟's case, the same file is not 王芳's proof
    refused = send(
        client, "station1", "报到确认", {"student": two}, {**CONFIRM, "proof": proof}, expect=422
    )
    assert refused["detail"] == [
        {"field": "payload.proof", "message": "文件 证明.pdf 属于另一学生"}
    ]
    assert [t["name"] for t in detail(client, second["id"])["active_tasks"]] == []


def test_an_upload_about_one_student_is_refused_in_another_students_case(client):
    first, second = waiting_with_proof(client)
    about_one = upload(client, "station1", "证明.pdf", PDF, student=student_id(client, "stu1001"))
    two = student_id(client, "stu1002")
    refused = send(
        client,
        "station1",
        "报到确认",
        {"student": two},
        {**CONFIRM, "proof": about_one["id"]},
        expect=422,
    )
    assert [p["field"] for p in refused["detail"]] == ["payload.proof"]
    assert detail(client, second["id"])["attachments"] == []
