"""GET /definitions/{key}/diff: what changed between two versions, element by element."""

from __future__ import annotations

from tests.helpers import FIXTURES, ROOT, auth, deploy
from xueji.definitions.diff import compare

REVIEW = (FIXTURES / "review.bpmn").read_text()
FORMS = ["review_start.schema.json", "review_apply.schema.json", "review_apply.uischema.json"]
FORMS += ["review_decide.schema.json"]
DUE_7_DAYS = """<spiffworkflow:property name="formJsonSchemaFilename" value="review_decide.schema.json" />
          <spiffworkflow:property name="dueDate" value="P7D" />"""
ARCHIVE = """<bpmn:userTask id="archive" name="归档">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="review_decide.schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>flow_done</bpmn:incoming><bpmn:outgoing>flow_archive</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="flow_archive" sourceRef="archive" targetRef="done_end" />
    <bpmn:endEvent id="done_end\""""


def _first_version() -> str:
    # station_review gets a deadline of 7 days (the first of two review tasks with this form)
    return REVIEW.replace(
        '<spiffworkflow:property name="formJsonSchemaFilename" value="review_decide.schema.json" />',
        DUE_7_DAYS,
        1,
    )


def _second_version() -> str:
    text = _first_version().replace('value="P7D"', 'value="P14D"')
    text = text.replace('name="学院审核"', 'name="学院学籍科审核"')
    text = text.replace('<bpmn:endEvent id="done_end"', ARCHIVE)
    text = text.replace(
        "<bpmn:flowNodeRef>done_end</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>archive</bpmn:flowNodeRef><bpmn:flowNodeRef>done_end</bpmn:flowNodeRef>",
    )
    text = text.replace(
        '<bpmn:sequenceFlow id="flow_done" sourceRef="record_result" targetRef="done_end" />',
        '<bpmn:sequenceFlow targetRef="archive"   sourceRef="record_result" id="flow_done"/>',
    )
    # what bpmn-js rewrites on save is no change: attribute order, whitespace
    return text.replace(
        '<bpmn:sequenceFlow id="flow_start" sourceRef="start" targetRef="apply" />',
        '<bpmn:sequenceFlow\n      targetRef="apply" id="flow_start" sourceRef="start"></bpmn:sequenceFlow>',
    )


def test_diff_names_the_renamed_and_added_task_and_the_changed_deadline(client):
    deploy(client, ("review.bpmn", _first_version().encode()), *FORMS)
    deploy(client, ("review.bpmn", _second_version().encode()))
    response = client.get(
        "/api/v1/definitions/review/diff",
        params={"from": 1, "to": 2},
        headers=auth(client, "admin"),
    )
    assert response.status_code == 200, response.text
    changes = response.json()["changes"]
    assert [(c["change"], c["element_id"], c["field"]) for c in changes] == [
        ("changed", "station_review", "due_date"),
        ("renamed", "college_review", None),
        ("added", "archive", None),
        ("added", "flow_archive", None),
        ("changed", "flow_done", "target"),
    ]
    assert [c["text"] for c in changes] == [
        "任务「函授站签署审核意见」办理期限 7 天 → 14 天",
        "重命名任务「学院审核」→「学院学籍科审核」",
        "新增任务「归档」",
        "新增顺序流「归档 → 学籍异动工作完毕」",
        "顺序流「记录审批结果 → 归档」终点 学籍异动工作完毕 → 归档",
    ]
    assert (changes[0]["before"], changes[0]["after"]) == ("P7D", "P14D")
    back = client.get(
        "/api/v1/definitions/review/diff",
        params={"from": 2, "to": 1},
        headers=auth(client, "admin"),
    ).json()["changes"]
    assert ("removed", "archive", "删除任务「归档」") in {
        (c["change"], c["element_id"], c["text"]) for c in back
    }


def test_diff_of_an_unknown_version_is_404_and_needs_both_versions(client):
    deploy(client, ("review.bpmn", _first_version().encode()), *FORMS)
    admin = auth(client, "admin")
    missing = client.get(
        "/api/v1/definitions/review/diff", params={"from": 1, "to": 9}, headers=admin
    )
    assert missing.status_code == 404 and missing.json()["error"] == "NotFound"
    assert (
        client.get("/api/v1/definitions/review/diff", params={"from": 1}, headers=admin).status_code
        == 422
    )
    same = client.get("/api/v1/definitions/review/diff", params={"from": 1, "to": 1}, headers=admin)
    assert same.json()["changes"] == []
    registrar = client.get(
        "/api/v1/definitions/review/diff",
        params={"from": 1, "to": 1},
        headers=auth(client, "registrar"),
    )
    assert registrar.status_code == 403


def test_deadline_rules_in_words(client):
    headers = auth(client, "admin")
    words = {
        rule: client.get(
            "/api/v1/deadline-rules/words", params={"rule": rule}, headers=headers
        ).json()
        for rule in ("P7D", "03-15", "春季:10-25@-1;秋季:04-25", "before:exam_date:P14D", "P7")
    }
    assert words["P7D"]["words"] == "7 天"
    assert words["03-15"]["words"] == "3 月 15 日前"
    assert (
        words["春季:10-25@-1;秋季:04-25"]["words"] == "春季 上一年 10 月 25 日前；秋季 4 月 25 日前"
    )
    assert words["before:exam_date:P14D"]["words"] == "考试日期前 14 天"
    assert words["P7"]["words"] is None and "P7D" in words["P7"]["problem"]


STATUS_CHANGE = (ROOT / "processes" / "status_change.bpmn").read_text()


def test_lanes_forms_timers_and_conditions_changed_and_layout_ignored():
    after = STATUS_CHANGE.replace(  # the overdue reminder moves to the registrar's lane
        "<bpmn:flowNodeRef>station_review_overdue</bpmn:flowNodeRef>", "", 1
    ).replace(
        '<bpmn:lane id="status_change_lane_registrar" name="学院学籍管理">',
        '<bpmn:lane id="status_change_lane_registrar" name="学院学籍管理">'
        "<bpmn:flowNodeRef>station_review_overdue</bpmn:flowNodeRef>",
    )
    after = after.replace(
        'value="status_change_sign.schema.json"', 'value="status_change_sign_v2.schema.json"'
    )
    after = after.replace(
        'id="station_review_deadline_timer"><bpmn:timeCycle xsi:type="bpmn:tFormalExpression">'
        'deadline_cycle("P7D")',
        'id="station_review_deadline_timer"><bpmn:timeCycle xsi:type="bpmn:tFormalExpression">'
        'deadline_cycle("03-15")',
    )
    after = after.replace('outcome == "rejected"', 'outcome in ("rejected", "withdrawn")', 1)
    after = after.replace('<dc:Bounds x="70" y="340"', '<dc:Bounds x="90" y="360"')  # layout
    changes = compare(STATUS_CHANGE.encode(), after.encode())
    assert [c.text for c in changes] == [  # in the order of the diagram
        "事件「7 天内」定时器 办理期限 7 天 → 办理期限 3 月 15 日前",
        "任务「逾期提醒」泳道 函授站 → 学院学籍管理",
        "任务「学籍主管领导签批」表单 status_change_sign.schema.json"
        " → status_change_sign_v2.schema.json",
        '顺序流「未通过」条件 outcome == "rejected" → outcome in ("rejected", "withdrawn")',
    ]
    assert [(c.element_id, c.field) for c in changes] == [
        ("station_review_deadline", "timer"),
        ("station_review_overdue", "lane"),
        ("leader_sign", "form"),
        ("flow_station_decision_station_rejected", "condition"),
    ]
