"""Deployments: versions, unchanged content, every problem at once, hostile and foreign XML."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.test_workflow import REVIEW
from tests.helpers import FIXTURES, auth, deploy

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "miwg"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol9;</bpmn:definitions>
"""

HOSTILE = {
    "xxe.bpmn": b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
<bpmn:process id="p" name="&xxe;" isExecutable="true"/></bpmn:definitions>""",
    "external_dtd.bpmn": b"""<?xml version="1.0"?>
<!DOCTYPE definitions SYSTEM "http://127.0.0.1:9/evil.dtd">
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"/>""",
    "billion_laughs.bpmn": BILLION_LAUGHS,
    "quadratic.bpmn": b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "'
    + b"x" * 50_000
    + b'">]><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
    + b"&a;" * 50_000
    + b"</bpmn:definitions>",
    "utf16_doctype.bpmn": '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d [<!ENTITY x "y">]>'
    '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>'.encode("utf-16"),
    "not_xml.bpmn": b"this is { not xml",
    "wrong_namespace.bpmn": b"""<?xml version="1.0"?>
<definitions xmlns="http://example.com/not-bpmn" id="d"><process id="p"/></definitions>""",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_or_foreign_xml_is_refused_with_a_reason(client, name):
    # How fast: bench/hostile_xml.py (no wall-clock limits in tests).
    response = client.post(
        "/api/v1/deployments",
        files=[("files", (name, HOSTILE[name]))],
        headers=auth(client, "admin"),
    )
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert problem["file"] == name and problem["message"]
    assert "root:" not in response.text  # nothing of /etc/passwd
    assert client.get("/api/v1/process-definitions", headers=auth(client, "admin")).json() == []


def test_redeploying_unchanged_content_makes_no_new_version(client):
    first = deploy(client, *REVIEW)
    again = deploy(client, *REVIEW)
    assert [(d["version"], d["new"]) for d in first["definitions"]] == [(1, True)]
    assert [(d["version"], d["new"]) for d in again["definitions"]] == [(1, False)]
    changed = (
        (FIXTURES / "review.bpmn")
        .read_bytes()
        .replace("学院审核".encode(), "学院审核（新）".encode())
    )
    third = deploy(client, ("review.bpmn", changed))
    assert [(d["version"], d["new"]) for d in third["definitions"]] == [(2, True)]
    detail = client.get("/api/v1/process-definitions/review", headers=auth(client, "admin")).json()
    assert detail["version"] == 2 and detail["versions"] == [1, 2]
    xml = client.get("/api/v1/process-definitions/review/xml", headers=auth(client, "admin"))
    assert xml.content == changed
    old = client.get(
        "/api/v1/process-definitions/review/xml",
        params={"version": 1},
        headers=auth(client, "admin"),
    )
    assert old.content == (FIXTURES / "review.bpmn").read_bytes()


def test_a_changed_form_makes_a_new_version_of_the_process(client):
    deploy(client, *REVIEW)
    form = (FIXTURES / "review_apply.schema.json").read_text().replace("异动原因", "原因说明")
    result = deploy(client, ("review_apply.schema.json", form.encode()))
    # Forms alone give the processes using them a new version (tests/definitions/test_sources.py).
    assert [(d["key"], d["version"], d["new"]) for d in result["definitions"]] == [
        ("review", 2, True)
    ]
    # The diagram deployed again with the same forms is that version.
    again = deploy(client, "review.bpmn")
    assert [(d["version"], d["new"]) for d in again["definitions"]] == [(2, False)]


def test_running_instance_stays_on_its_version(client):
    deploy(client, *REVIEW)
    headers = auth(client, "stu1001")
    started = client.post(
        "/api/v1/process-definitions/review/start",
        json={"variables": {"kind": "休学"}},
        headers=headers,
    ).json()
    changed = (
        (FIXTURES / "review.bpmn")
        .read_bytes()
        .replace("填写学籍异动审批表".encode(), "填写审批表（第二版）".encode())
    )
    deploy(client, ("review.bpmn", changed))
    assert started["version"] == 1
    [task] = [t for t in client.get("/api/v1/tasks", headers=headers).json()["items"]]
    assert task["name"] == "填写学籍异动审批表"
    response = client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"data": {"reason": "工作调动", "effective_term": "2027-春"}},
        headers=headers,
    )
    assert response.status_code == 200
    newer = client.post(
        "/api/v1/process-definitions/review/start",
        json={"variables": {"kind": "休学"}},
        headers=headers,
    ).json()
    assert newer["version"] == 2 and newer["active_tasks"][0]["name"] == "填写审批表（第二版）"


def test_every_problem_is_reported_at_once_with_file_line_and_element(client):
    broken = (FIXTURES / "review.bpmn").read_text()
    broken = broken.replace('name="学院学籍管理"', 'name="教务处"')  # no such role
    broken = broken.replace('outcome == "approved"', 'outcome.__class__ == "approved"')
    broken = broken.replace(' default="flow_rejected"', "")  # gateway without default
    broken = broken.replace('result = "通过"', 'import os\nresult = "通过"')
    broken = broken.replace("review_decide.schema.json", "missing.schema.json")
    bad_form = b'{"type": "object", "properties": {"x": {"type": "wat"}}}'
    response = client.post(
        "/api/v1/deployments",
        headers=auth(client, "admin"),
        files=[
            ("files", ("review.bpmn", broken.encode())),
            (
                "files",
                ("review_start.schema.json", (FIXTURES / "review_start.schema.json").read_bytes()),
            ),
            ("files", ("review_apply.schema.json", bad_form)),
            ("files", ("review_apply.uischema.json", b"{}")),
        ],
    )
    assert response.status_code == 422
    problems = response.json()["detail"]
    by_element = {(p["element_id"], p["code"]): p["message"] for p in problems}
    lines = {p["element_id"]: p["line"] for p in problems}
    # each problem in Chinese, naming its element by name (the id only when it has none)
    assert by_element["lane_registrar", "LaneUnknownRole"] == "泳道「教务处」不是已知的角色"
    assert by_element["flow_approved", "ConditionRefused"].startswith(
        "顺序流「通过」的条件不能运行"
    )
    assert by_element["station_gateway", "GatewayFlowWithoutCondition"] == (
        "网关「审核意见」的出口顺序流「未通过」没有条件，也不是默认分支"
    )
    assert by_element["record_result", "ScriptRefused"].startswith("「记录审批结果」的脚本不能运行")
    assert by_element["station_review", "FormMissing"] == (
        "「函授站签署审核意见」的表单 missing.schema.json 既不在本次上传中，也尚未部署"
    )
    assert any(
        p["file"] == "review_apply.schema.json"
        and p["code"] == "FormSchemaInvalid"
        and "不是有效的 JSON Schema" in p["message"]
        for p in problems
    )
    source_lines = broken.splitlines()
    assert 'id="station_review"' in source_lines[lines["station_review"] - 1]
    assert 'id="lane_registrar"' in source_lines[lines["lane_registrar"] - 1]


def test_xsd_errors_name_line_and_element(client):
    bad = (
        (FIXTURES / "review.bpmn")
        .read_bytes()
        .replace(b'<bpmn:endEvent id="done_end"', b'<bpmn:endEvent id="done_end" bogus="1"')
    )
    response = client.post(
        "/api/v1/deployments",
        files=[("files", ("review.bpmn", bad))],
        headers=auth(client, "admin"),
    )
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["element_id"] == "done_end" and problem["code"] == "SchemaInvalid"
    assert "bogus" in problem["message"]
    assert 'id="done_end"' in bad.decode().splitlines()[problem["line"] - 1]


def test_only_admins_deploy(client):
    response = client.post(
        "/api/v1/deployments",
        headers=auth(client, "registrar"),
        files=[("files", ("review.bpmn", (FIXTURES / "review.bpmn").read_bytes()))],
    )
    assert response.status_code == 403


def test_validate_endpoint_checks_without_deploying(client):
    response = client.post(
        "/api/v1/deployments/validate",
        headers=auth(client, "admin"),
        files=[("files", (n, (FIXTURES / n).read_bytes())) for n in REVIEW],
    )
    assert response.json() == {"valid": True, "problems": []}
    assert client.get("/api/v1/process-definitions", headers=auth(client, "admin")).json() == []


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_every_miwg_file_deploys_or_is_refused_with_element_level_reasons(client):
    outcomes = {}
    for path in sorted(CORPUS.glob("*.bpmn")):
        content = path.read_bytes()
        response = client.post(
            "/api/v1/deployments",
            files=[("files", (path.name, content))],
            headers=auth(client, "admin"),
        )
        assert response.status_code in (201, 422), (path.name, response.text)
        outcomes[path.name] = response.status_code
        if response.status_code == 422:
            for problem in response.json()["detail"]:
                assert problem["file"] == path.name and problem["message"], problem
                assert problem["element_id"] or problem["line"], (path.name, problem)
        else:
            for definition in response.json()["definitions"]:
                xml = client.get(
                    f"/api/v1/process-definitions/{definition['key']}/xml",
                    params={"version": definition["version"]},
                    headers=auth(client, "admin"),
                )
                assert xml.content == content
    assert len(outcomes) == 21
    # Descriptive diagrams are refused; an executable one without lanes deploys as it is.
    assert outcomes["A.1.0.bpmn"] == 422 and outcomes["C.9.1.bpmn"] == 201
