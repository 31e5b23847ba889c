"""What changed between two versions of a diagram, element by element (not line by line).

Both diagrams are read with lxml and reduced to their meaning: every task, event, gateway,
sequence flow, lane and process with its name and the properties that change what happens
(lane, form, 办理期限, timer, condition, ends of a flow, …). Layout (BPMN DI), ids of labels,
attribute order and whitespace are not part of it, so what bpmn-js rewrites on save is no
change. The same id with another name is a rename; with another property, a change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from xueji.deadlines import rule_words
from xueji.engine.namespaces import BPMN, NSMAP, SPIFF, bpmn
from xueji.engine.xml import parse_xml

KINDS = {
    "process": ("process",),
    "lane": ("lane",),
    "task": (
        "userTask",
        "manualTask",
        "scriptTask",
        "serviceTask",
        "businessRuleTask",
        "callActivity",
        "sendTask",
        "receiveTask",
        "task",
        "subProcess",
    ),
    "event": (
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
    ),
    "gateway": (
        "exclusiveGateway",
        "inclusiveGateway",
        "parallelGateway",
        "eventBasedGateway",
        "complexGateway",
    ),
    "flow": ("sequenceFlow",),
}
KIND_OF = {tag: kind for kind, tags in KINDS.items() for tag in tags}
KIND_WORDS = {
    "process": "流程",
    "lane": "泳道",
    "task": "任务",
    "event": "事件",
    "gateway": "网关",
    "flow": "顺序流",
}
# The properties compared, in the order changes are listed, with their Chinese names.
FIELD_WORDS = {
    "type": "类型",
    "lane": "泳道",
    "form": "表单",
    "ui_form": "表单界面",
    "due_date": "办理期限",
    "timer": "定时器",
    "condition": "条件",
    "default": "默认分支",
    "source": "起点",
    "target": "终点",
    "attached_to": "附着于",
    "called": "调用流程",
    "decision": "决策表",
    "service": "服务",
    "script": "脚本",
}
PROPERTIES = {"form": "formJsonSchemaFilename", "ui_form": "formUiSchemaFilename"}
TIMER_PARTS = ("timeDate", "timeDuration", "timeCycle")
_DEADLINE_CYCLE = re.compile(r"""^deadline_cycle\(\s*["']([^"']*)["']\s*\)$""")


@dataclass(frozen=True)
class Element:
    id: str
    kind: str
    type: str
    name: str | None
    fields: dict[str, str | None] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass(frozen=True)
class Change:
    change: str  # added, removed, renamed, changed
    kind: str
    element_id: str
    element_type: str
    name: str
    old_name: str | None = None
    field: str | None = None
    before: str | None = None
    after: str | None = None
    text: str = ""


def _words(text: str | None) -> str | None:
    return " ".join(text.split()) if text and text.strip() else None


def _timer(element: etree._Element) -> str | None:
    definition = element.find(bpmn("timerEventDefinition"))
    if definition is None:
        return None
    for part in TIMER_PARTS:
        expression = _words(definition.findtext(bpmn(part)))
        if expression:
            return f"{part}: {expression}"
    return "timer"


def _fields(element: etree._Element, tag: str, lanes: dict[str, str]) -> dict[str, str | None]:
    props = {
        p.get("name"): p.get("value")
        for p in element.xpath(
            "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
            namespaces=NSMAP,
        )
    }
    operator = element.find(f"{bpmn('extensionElements')}/{{{SPIFF}}}serviceTaskOperator")
    values: dict[str, str | None] = {
        "type": tag,
        "lane": lanes.get(element.get("id") or ""),
        "form": props.get(PROPERTIES["form"]),
        "ui_form": props.get(PROPERTIES["ui_form"]),
        "due_date": _words(props.get("dueDate")),
        "timer": _timer(element),
        "condition": _words(element.findtext(bpmn("conditionExpression"))),
        "default": element.get("default"),
        "source": element.get("sourceRef"),
        "target": element.get("targetRef"),
        "attached_to": element.get("attachedToRef"),
        "called": element.get("calledElement"),
        "decision": _words(
            element.findtext(f"{bpmn('extensionElements')}/{{{SPIFF}}}calledDecisionId")
        ),
        "service": operator.get("id") if operator is not None else None,
        "script": _words(element.findtext(bpmn("script"))),
    }
    return {name: value for name, value in values.items() if value is not None}


def elements(xml: bytes) -> dict[str, Element]:
    """The diagram's meaningful elements by id, in document order."""
    root = parse_xml(xml)
    lane_names = {lane.get("id"): _words(lane.get("name")) for lane in root.iter(bpmn("lane"))}
    lanes = {
        ref.text.strip(): lane_names.get(ref.getparent().get("id")) or ref.getparent().get("id")
        for ref in root.iter(bpmn("flowNodeRef"))
        if ref.text and ref.text.strip()
    }
    found: dict[str, Element] = {}
    for element in root.iter(etree.Element):
        qname = etree.QName(element)
        kind = KIND_OF.get(qname.localname) if qname.namespace == BPMN else None
        element_id = element.get("id")
        if kind is None or not element_id:
            continue
        found[element_id] = Element(
            element_id,
            kind,
            qname.localname,
            _words(element.get("name")),
            {} if kind == "process" else _fields(element, qname.localname, lanes),
        )
    return found


def _show(name: str, value: str | None, by_id: dict[str, Element]) -> str:
    if value is None:
        return "（无）"
    if name == "due_date":
        return rule_words(value) or value
    if name == "timer":
        rule = _DEADLINE_CYCLE.match(value.partition(": ")[2])
        return f"办理期限 {rule_words(rule[1])}" if rule else value
    if name in ("source", "target", "default", "attached_to"):
        return by_id[value].label if value in by_id else value
    return value


def _flow_label(element: Element, by_id: dict[str, Element]) -> str:
    if element.name or element.kind != "flow":
        return element.label
    ends = (element.fields.get("source"), element.fields.get("target"))
    return " → ".join(by_id[e].label if e in by_id else (e or "?") for e in ends)


def compare(before_xml: bytes, after_xml: bytes) -> list[Change]:
    """Every change from one diagram to the next: the later diagram's elements in its order
    (added, renamed, changed), then what it no longer has (removed)."""
    before, after = elements(before_xml), elements(after_xml)
    changes: list[Change] = []
    for element in after.values():
        kind = KIND_WORDS[element.kind]
        label = _flow_label(element, after)
        old = before.get(element.id)
        if old is None:
            changes.append(
                Change(
                    "added",
                    element.kind,
                    element.id,
                    element.type,
                    label,
                    text=f"新增{kind}「{label}」",
                )
            )
            continue
        if old.name != element.name:
            old_label = _flow_label(old, before)
            changes.append(
                Change(
                    "renamed",
                    element.kind,
                    element.id,
                    element.type,
                    label,
                    old_name=old_label,
                    text=f"重命名{kind}「{old_label}」→「{label}」",
                )
            )
        for name, words in FIELD_WORDS.items():
            was, now = old.fields.get(name), element.fields.get(name)
            if was == now:
                continue
            shown_was, shown_now = _show(name, was, before), _show(name, now, after)
            changes.append(
                Change(
                    "changed",
                    element.kind,
                    element.id,
                    element.type,
                    label,
                    field=name,
                    before=was,
                    after=now,
                    text=f"{kind}「{label}」{words} {shown_was} → {shown_now}",
                )
            )
    for element in before.values():
        if element.id not in after:
            label = _flow_label(element, before)
            changes.append(
                Change(
                    "removed",
                    element.kind,
                    element.id,
                    element.type,
                    label,
                    text=f"删除{KIND_WORDS[element.kind]}「{label}」",
                )
            )
    return changes
