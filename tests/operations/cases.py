"""A small two-step process in as many versions as a test needs, and helpers to drive it."""

from __future__ import annotations

import json

from tests.helpers import auth

KEY = "case_review"

FORMS = {
    "case_check.schema.json": {
        "type": "object",
        "properties": {
            "mode": {"type": "string", "enum": ["normal", "boom"]},
            "count": {"type": "integer", "minimum": 0},
        },
        "required": ["mode", "count"],
    },
    # A form showing a score an earlier step computes: a case without it cannot be moved here.
    "case_scored.schema.json": {
        "type": "object",
        "properties": {
            "score": {"type": "integer", "readOnly": True},
            "mode": {"type": "string"},
            "count": {"type": "integer"},
        },
        "required": ["score", "mode", "count"],
    },
}


def diagram(
    check_id: str = "check",
    check_name: str = "审核",
    approve_name: str = "批准",
    check_form: str = "case_check.schema.json",
) -> bytes:
    """start → check (a person's task) → compute (a script: mode "boom" fails) → approve → end."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="{KEY}_definitions" targetNamespace="http://xueji.example/test">
  <bpmn:process id="{KEY}" name="案件审核（测试）" isExecutable="true">
    <bpmn:laneSet id="{KEY}_lanes">
      <bpmn:lane id="lane_registrar" name="registrar">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>{check_id}</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>compute</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>approve</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="开始"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="{check_id}" name="{check_name}">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="{check_form}" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:scriptTask id="compute" name="计算">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>if mode == "boom":
    x = 1 / 0
total = count * 2</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="approve" name="{approve_name}">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end" name="结束"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{check_id}" />
    <bpmn:sequenceFlow id="f2" sourceRef="{check_id}" targetRef="compute" />
    <bpmn:sequenceFlow id="f3" sourceRef="compute" targetRef="approve" />
    <bpmn:sequenceFlow id="f4" sourceRef="approve" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>""".encode()


def deploy_version(client, **changes) -> int:
    """Deploy the process (with its forms); the version it became."""
    files = [("files", (name, json.dumps(form).encode())) for name, form in FORMS.items()]
    files.append(("files", (f"{KEY}.bpmn", diagram(**changes))))
    response = client.post("/api/v1/deployments", files=files, headers=auth(client, "admin"))
    assert response.status_code == 201, response.text
    versions = client.get(f"/api/v1/process-definitions/{KEY}", headers=auth(client, "admin"))
    assert versions.status_code == 200, versions.text
    return versions.json()["version"]


def start(client, business_key: str | None = None, expect: int = 201) -> dict:
    response = client.post(
        f"/api/v1/process-definitions/{KEY}/start",
        json={"business_key": business_key, "variables": {}},
        headers=auth(client, "registrar"),
    )
    assert response.status_code == expect, (response.status_code, response.text)
    return response.json()


def call(client, method: str, path: str, body=None, user: str = "admin", expect: int = 200):
    response = client.request(method, f"/api/v1{path}", json=body, headers=auth(client, user))
    assert response.status_code == expect, (response.status_code, response.text)
    return response.json()


def active(client, instance_id: str) -> list[dict]:
    return call(client, "GET", f"/process-instances/{instance_id}")["active_tasks"]
