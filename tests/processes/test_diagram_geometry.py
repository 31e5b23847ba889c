"""The pictures: in every file of processes/, no flow is drawn through a shape other than its
own ends, no label lies over another label or a shape, every shape stays inside its lane,
every timer carries the seed's deadline as its name, and reminders stay out of the lanes of
bodies outside the college."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import ROOT
from xueji.engine.xml import parse_xml

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
PROCESSES = sorted((ROOT / "processes").glob("*.bpmn"))
EXTERNAL_ROLES = ("province_admissions", "province_edu", "photo_agency", "chsi")


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    def overlaps(self, other: Rect) -> bool:
        return (
            self.x < other.x + other.w
            and other.x < self.x + self.w
            and self.y < other.y + other.h
            and other.y < self.y + self.h
        )

    def inside(self, other: Rect) -> bool:
        return (
            other.x <= self.x
            and other.y <= self.y
            and self.x + self.w <= other.x + other.w
            and self.y + self.h <= other.y + other.h
        )

    def cut_by(self, a: tuple[float, float], b: tuple[float, float]) -> bool:
        """Whether the segment a-b passes through the inside (1 px in from the border)."""
        x0, y0, x1, y1 = self.x + 1, self.y + 1, self.x + self.w - 1, self.y + self.h - 1
        (ax, ay), (bx, by) = a, b
        if ax == bx:
            return x0 < ax < x1 and min(ay, by) < y1 and y0 < max(ay, by)
        if ay == by:
            return y0 < ay < y1 and min(ax, bx) < x1 and x0 < max(ax, bx)
        # a slanted segment: sample it
        steps = int(max(abs(bx - ax), abs(by - ay))) + 1
        return any(
            x0 < ax + (bx - ax) * k / steps < x1 and y0 < ay + (by - ay) * k / steps < y1
            for k in range(steps + 1)
        )


def _rect(element) -> Rect:
    b = element.find("dc:Bounds", NS)
    return Rect(*(float(b.get(k)) for k in ("x", "y", "width", "height")))


def problems(path: Path) -> dict[str, list[str]]:
    """Every fault of the picture in one file, by kind."""
    root = parse_xml(path.read_bytes())
    found: dict[str, list[str]] = {
        "flow through shape": [],
        "label overlap": [],
        "outside lane": [],
        "timer unnamed": [],
        "reminder in external lane": [],
        "shapes overlap": [],
    }
    lanes = {lane.get("id"): lane for lane in root.iterfind(".//bpmn:lane", NS)}
    pools = {p.get("id") for p in root.iterfind(".//bpmn:participant", NS)}
    elements = {e.get("id"): e for e in root.iter() if e.get("id")}
    shapes: dict[str, Rect] = {}
    labels: list[tuple[str, Rect]] = []
    for shape in root.iterfind(".//bpmndi:BPMNShape", NS):
        ref = shape.get("bpmnElement")
        if ref in lanes or ref in pools:
            continue
        shapes[ref] = _rect(shape)
        label = shape.find("bpmndi:BPMNLabel", NS)
        if label is not None and label.find("dc:Bounds", NS) is not None:
            labels.append((ref, _rect(label)))
    lane_rects = {
        s.get("bpmnElement"): _rect(s)
        for s in root.iterfind(".//bpmndi:BPMNShape", NS)
        if s.get("bpmnElement") in lanes
    }
    for edge in root.iterfind(".//bpmndi:BPMNEdge", NS):
        flow = elements[edge.get("bpmnElement")]
        ends = {flow.get("sourceRef"), flow.get("targetRef")}
        points = [(float(p.get("x")), float(p.get("y"))) for p in edge.iterfind("di:waypoint", NS)]
        for a, b in zip(points, points[1:], strict=False):
            for ref, rect in shapes.items():
                if ref not in ends and rect.cut_by(a, b):
                    found["flow through shape"].append(f"{flow.get('id')} through {ref}")
        label = edge.find("bpmndi:BPMNLabel", NS)
        if label is not None and label.find("dc:Bounds", NS) is not None:
            labels.append((flow.get("id"), _rect(label)))
        elif flow.get("name"):
            found["label overlap"].append(f"{flow.get('id')}: label has no place of its own")
    for i, (owner, rect) in enumerate(labels):
        for other, other_rect in labels[i + 1 :]:
            if rect.overlaps(other_rect):
                found["label overlap"].append(f"label of {owner} over label of {other}")
        for ref, shape in shapes.items():
            if rect.overlaps(shape):
                found["label overlap"].append(f"label of {owner} over {ref}")
    refs = list(shapes)
    for i, a in enumerate(refs):
        for b in refs[i + 1 :]:
            attached = {elements[a].get("attachedToRef"), elements[b].get("attachedToRef")}
            if (a in attached or b in attached) or not shapes[a].overlaps(shapes[b]):
                continue
            found["shapes overlap"].append(f"{a} and {b}")
    own_labels = dict(labels)
    for lane_id, lane in lanes.items():
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            if not shapes[ref.text].inside(lane_rects[lane_id]):
                found["outside lane"].append(f"{ref.text} outside {lane.get('name')}")
            label = own_labels.get(ref.text)
            if label is not None and not label.inside(lane_rects[lane_id]):
                found["outside lane"].append(f"label of {ref.text} outside {lane.get('name')}")
            element = elements[ref.text]
            operator = element.find(".//spiffworkflow:serviceTaskOperator", NS)
            if (
                operator is not None
                and operator.get("id") == "escalate_overdue"
                and lane_id.endswith(tuple(f"_lane_{role}" for role in EXTERNAL_ROLES))
            ):
                found["reminder in external lane"].append(f"{ref.text} in {lane.get('name')}")
    for timer in root.iterfind(".//bpmn:timerEventDefinition", NS):
        event = timer.getparent()
        if not event.get("name") or event.get("name") == "办理期限":
            found["timer unnamed"].append(f"{event.get('id')} named {event.get('name')!r}")
    return found


@pytest.mark.parametrize("path", PROCESSES, ids=lambda p: p.stem)
def test_diagram_has_no_crossings_overlaps_or_stray_shapes(path):
    found = {kind: items for kind, items in problems(path).items() if items}
    assert found == {}


def test_the_correction_of_enrollment_registration_is_drawn_before_its_end():
    root = parse_xml((ROOT / "processes" / "enrollment_registration.bpmn").read_bytes())
    x = {s.get("bpmnElement"): _rect(s).x for s in root.iterfind(".//bpmndi:BPMNShape", NS)}
    assert x["correct"] < x["submit"] + 10 < x["done"]


def test_the_checker_finds_a_flow_through_a_shape_and_a_stacked_label(tmp_path):
    xml = (ROOT / "processes" / "status_change.bpmn").read_text(encoding="utf-8")
    root = parse_xml(xml.encode())
    edge = next(root.iterfind(".//bpmndi:BPMNEdge", NS))
    flow = root.find(f".//bpmn:sequenceFlow[@id='{edge.get('bpmnElement')}']", NS)
    shapes = {s.get("bpmnElement"): s for s in root.iterfind(".//bpmndi:BPMNShape", NS)}
    other = next(
        r
        for r, s in shapes.items()
        if r not in (flow.get("sourceRef"), flow.get("targetRef"))
        and s.find("bpmndi:BPMNLabel", NS) is None
        and "lane" not in r
        and "pool" not in r
    )
    rect = _rect(shapes[other])
    waypoints = list(edge.iterfind("di:waypoint", NS))
    waypoints[0].set("x", str(rect.x - 10))
    waypoints[0].set("y", str(rect.y + rect.h / 2))
    waypoints[1].set("x", str(rect.x + rect.w + 10))
    waypoints[1].set("y", str(rect.y + rect.h / 2))
    broken = tmp_path / "broken.bpmn"
    from lxml import etree

    broken.write_bytes(etree.tostring(root))
    found = problems(broken)
    assert f"{flow.get('id')} through {other}" in found["flow through shape"]


def test_a_deadline_timer_must_carry_the_seed_deadline():
    from tools.diagrams.builder import Diagram

    d = Diagram("p", "过程", ["station"])
    with pytest.raises(ValueError, match="deadline"):
        d.user("report", "上报", "station", due="03-15")
    with pytest.raises(ValueError, match="deadline"):
        d.user("report2", "上报", "station", due="03-15", deadline="办理期限")
    d.user("report3", "上报", "station", due="03-15", deadline="3 月 15 日前")
    assert d.nodes["report3_deadline"].name == "3 月 15 日前"


def test_a_reminder_of_an_outside_body_goes_to_the_college():
    from tools.diagrams.builder import Diagram

    d = Diagram("p", "过程", ["registrar", "chsi"])
    d.user("review", "审核", "chsi", due="04-30", deadline="4 月 30 日前")
    assert d.nodes["review_deadline"].lane == "chsi"
    assert d.nodes["review_overdue"].lane == "registrar"
    assert d.nodes["review_reminded"].lane == "registrar"
