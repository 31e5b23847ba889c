"""The college's diagrams: generated from tools/diagrams, valid BPMN DI, deployable as a set."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.helpers import ROOT, auth
from tools.diagrams.__main__ import specs
from xueji.engine.namespaces import NSMAP
from xueji.engine.xml import parse_xml

NS = {**NSMAP, "di": "http://www.omg.org/spec/DD/20100524/DI"}
PROCESSES = sorted((ROOT / "processes").glob("*.bpmn"))
FLOW_NODES = (
    "startEvent",
    "endEvent",
    "userTask",
    "scriptTask",
    "serviceTask",
    "callActivity",
    "businessRuleTask",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
    "task",
    "manualTask",
    "sendTask",
    "receiveTask",
    "eventBasedGateway",
)


def test_committed_diagrams_are_what_the_specs_generate():
    generated = dict(specs())
    committed = {p.stem: p.read_text(encoding="utf-8") for p in PROCESSES}
    assert sorted(generated) == sorted(committed)
    for key, xml in generated.items():
        assert committed[key] == xml, f"processes/{key}.bpmn is stale: run python -m tools.diagrams"


@pytest.mark.parametrize("path", PROCESSES, ids=lambda p: p.stem)
def test_diagram_interchange_is_complete_and_lanes_do_not_overlap(path):
    root = parse_xml(path.read_bytes())
    shapes = {s.get("bpmnElement"): s for s in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement") for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    nodes = [e for tag in FLOW_NODES for e in root.iterfind(f".//bpmn:{tag}", NS)]
    assert nodes
    for node in nodes:
        assert node.get("id") in shapes, f"{node.get('id')} has no shape"
        assert node.get("name"), f"{node.get('id')} has no name"
    for flow in root.iterfind(".//bpmn:sequenceFlow", NS):
        assert flow.get("id") in edges, f"{flow.get('id')} has no edge"
    lanes = []
    for lane in root.iterfind(".//bpmn:lane", NS):
        bounds = shapes[lane.get("id")].find("dc:Bounds", NS)
        lanes.append((float(bounds.get("y")), float(bounds.get("y")) + float(bounds.get("height"))))
        # every node of the lane lies inside it
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            b = shapes[ref.text].find("dc:Bounds", NS)
            top, bottom = float(b.get("y")), float(b.get("y")) + float(b.get("height"))
            assert lanes[-1][0] <= top and bottom <= lanes[-1][1], ref.text
    lanes.sort()
    for (_, bottom), (top, _) in zip(lanes, lanes[1:], strict=False):
        assert bottom <= top
    # reads left to right: a start event is left of every end event
    x = {k: float(s.find("dc:Bounds", NS).get("x")) for k, s in shapes.items()}
    starts = [x[e.get("id")] for e in root.iterfind(".//bpmn:process/bpmn:startEvent", NS)]
    ends = [x[e.get("id")] for e in root.iterfind(".//bpmn:endEvent", NS)]
    assert max(starts) < min(ends)
    assert etree.QName(root).localname == "definitions"


def test_all_processes_deploy_together_with_their_forms(client):
    files = [("files", (p.name, p.read_bytes())) for p in sorted((ROOT / "forms").glob("*.json"))]
    files += [
        ("files", (p.name, p.read_bytes())) for p in sorted((ROOT / "processes").glob("*.dmn"))
    ]
    files += [("files", (p.name, p.read_bytes())) for p in PROCESSES]
    response = client.post("/api/v1/deployments", files=files, headers=auth(client, "admin"))
    assert response.status_code == 201, response.text
    keys = {d["key"] for d in response.json()["definitions"] if d["kind"] == "bpmn"}
    assert {p.stem for p in PROCESSES} <= keys
