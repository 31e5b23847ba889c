"""A small builder for the college's BPMN diagrams: elements, lanes and flows, laid out by
tools/diagrams/layout.py into real diagram interchange (every node a shape, every flow an edge,
every external label placed), so the files open in bpmn-js / Camunda Modeler and read like the
seed's flowcharts.

The ten files in processes/ are written by `python -m tools.diagrams`; tests check that the
committed files are what the specs here produce.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from tools.diagrams.layout import Layout, LFlow, LNode
from xueji.auth.roles import ROLES

# Lanes of bodies outside the college: a reminder of their overdue tasks goes to the college.
EXTERNAL = {"province_admissions", "province_edu", "photo_agency", "chsi"}
LOOP_REF = re.compile(r"<bpmn:loop(?:Data(?:Input|Output))Ref>(\w+)</bpmn:loop")
LANE_LABEL = 30
POOL_LABEL = 30
MARGIN = 40


@dataclass
class Node:
    id: str
    name: str
    lane: str
    tag: str  # BPMN element name
    kind: str  # task | event | gateway
    body: list[str] = field(default_factory=list)  # inner XML lines
    properties: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, str] = field(default_factory=dict)
    attached_to: str | None = None


@dataclass
class Flow:
    id: str
    source: str
    target: str
    name: str | None = None
    condition: str | None = None


class Diagram:
    def __init__(self, process_id: str, name: str, lanes: list[str], documentation: str = ""):
        unknown = [lane for lane in lanes if lane not in ROLES]
        if unknown:
            raise ValueError(f"unknown roles {unknown}")
        self.process_id = process_id
        self.name = name
        self.lanes = lanes
        self.documentation = documentation
        self.nodes: dict[str, Node] = {}
        self.flows: list[Flow] = []
        self.defaults: dict[str, str] = {}
        self.messages: dict[str, str] = {}

    # Elements -----------------------------------------------------------------------------

    def message(self, id, name):
        """Declare a message (for message start and catch events)."""
        self.messages[id] = name
        return id

    def _add(self, node: Node) -> str:
        if node.id in self.nodes:
            raise ValueError(f"duplicate id {node.id}")
        if node.lane not in self.lanes:
            raise ValueError(f"{node.id}: lane {node.lane} is not in the diagram")
        self.nodes[node.id] = node
        return node.id

    @staticmethod
    def _form_properties(form: str | None, ui: bool) -> dict[str, str]:
        if not form:
            return {}
        props = {"formJsonSchemaFilename": f"{form}.schema.json"}
        if ui:
            props["formUiSchemaFilename"] = f"{form}.uischema.json"
        return props

    def start(self, id, name, lane, form=None, ui=False, message=None):
        node = Node(
            id, name, lane, "startEvent", "event", properties=self._form_properties(form, ui)
        )
        if message:
            node.body.append(
                f'<bpmn:messageEventDefinition id="{id}_message" messageRef="{message}" />'
            )
        return self._add(node)

    def end(self, id, name, lane):
        return self._add(Node(id, name, lane, "endEvent", "event"))

    def user(self, id, name, lane, form=None, ui=False, due=None, deadline=None, doc=None):
        """A user task; `due` (xueji.deadlines) also gives it a deadline timer named
        `deadline`, the seed's words for it (`3 月 15 日前`, `7 天内`)."""
        props = self._form_properties(form, ui)
        if due:
            props["dueDate"] = due
        node = Node(id, name, lane, "userTask", "task", properties=props)
        if doc:
            node.body.insert(0, f"<bpmn:documentation>{escape(doc)}</bpmn:documentation>")
        self._add(node)
        if due:
            self._deadline(id, due, deadline, lane)
        elif deadline:
            raise ValueError(f"{id}: a deadline name without a due date")
        return id

    def _deadline(self, task_id, due, deadline, lane):
        """A non-interrupting boundary timer at the task's deadline and once more a reminder
        period later, leading to its own 逾期提醒 (overdue, escalation) off the main line, in
        the lane of the role reminded (the college's records office for outside bodies)."""
        if not deadline or deadline == "办理期限":
            raise ValueError(f"{task_id}: name its deadline as the seed does, e.g. 3 月 15 日前")
        remind_lane = lane
        if lane in EXTERNAL:
            remind_lane = (
                "registrar"
                if "registrar" in self.lanes
                else next(candidate for candidate in self.lanes if candidate not in EXTERNAL)
            )
        timer = self.timer(
            f"{task_id}_deadline",
            deadline,
            lane,
            cycle=f'deadline_cycle("{due}")',
            attached_to=task_id,
        )
        remind = self.service(f"{task_id}_overdue", "逾期提醒", remind_lane, "escalate_overdue")
        self.flow(timer, remind)
        self.flow(remind, self.end(f"{task_id}_reminded", "提醒已发出", remind_lane))

    def script(self, id, name, lane, script):
        node = Node(id, name, lane, "scriptTask", "task")
        node.body.append(f"<bpmn:script>{escape(script)}</bpmn:script>")
        return self._add(node)

    def service(self, id, name, lane, operator, params=None, result=None):
        lines = [
            f'<spiffworkflow:serviceTaskOperator id="{operator}"'
            + (f' resultVariable="{result}"' if result else "")
            + ">",
            "<spiffworkflow:parameters>",
        ]
        for pname, expression in (params or {}).items():
            lines.append(
                f'<spiffworkflow:parameter id="{pname}" type="any" value={quoteattr(expression)} />'
            )
        lines += ["</spiffworkflow:parameters>", "</spiffworkflow:serviceTaskOperator>"]
        node = Node(id, name, lane, "serviceTask", "task")
        node.attrs["extension"] = "\n".join(lines)
        return self._add(node)

    def rule(self, id, name, lane, decision):
        node = Node(id, name, lane, "businessRuleTask", "task")
        node.attrs["extension"] = (
            f"<spiffworkflow:calledDecisionId>{decision}</spiffworkflow:calledDecisionId>"
        )
        return self._add(node)

    def call(
        self,
        id,
        name,
        lane,
        called,
        collection=None,
        element=None,
        output=None,
        output_element=None,
    ):
        node = Node(id, name, lane, "callActivity", "task")
        node.attrs["calledElement"] = called
        if collection:
            mi = [
                "<bpmn:multiInstanceLoopCharacteristics>",
                f"<bpmn:loopDataInputRef>{collection}</bpmn:loopDataInputRef>",
            ]
            if output:
                mi.append(f"<bpmn:loopDataOutputRef>{output}</bpmn:loopDataOutputRef>")
            if element:
                mi.append(f'<bpmn:inputDataItem id="{id}_{element}" name="{element}" />')
            if output_element:
                mi.append(
                    f'<bpmn:outputDataItem id="{id}_{output_element}" name="{output_element}" />'
                )
            mi.append("</bpmn:multiInstanceLoopCharacteristics>")
            node.attrs["loop"] = "\n".join(mi)
        return self._add(node)

    def catch(self, id, name, lane, message, *, correlation, variable, form=None):
        """An intermediate message catch event; the payload lands in `variable`.

        `correlation` names the values a message must carry to reach this instance
        (xueji.instances.correlation); `form` validates the payload like a start form.
        """
        properties = {"correlation": correlation}
        if form:
            properties["formJsonSchemaFilename"] = f"{form}.schema.json"
        node = Node(id, name, lane, "intermediateCatchEvent", "event", properties=properties)
        node.body.append(
            f'<bpmn:messageEventDefinition id="{id}_message" messageRef="{message}">'
            "<bpmn:extensionElements><spiffworkflow:messageVariable>"
            f"{variable}</spiffworkflow:messageVariable></bpmn:extensionElements>"
            "</bpmn:messageEventDefinition>"
        )
        return self._add(node)

    def event_gateway(self, id, name, lane):
        """An event-based gateway: the first of the events after it wins."""
        return self._add(Node(id, name, lane, "eventBasedGateway", "gateway"))

    def xor(self, id, name, lane):
        return self._add(Node(id, name, lane, "exclusiveGateway", "gateway"))

    def parallel(self, id, name, lane):
        return self._add(Node(id, name, lane, "parallelGateway", "gateway"))

    def timer(
        self,
        id,
        name,
        lane,
        *,
        date=None,
        duration=None,
        cycle=None,
        attached_to=None,
        interrupting=False,
    ):
        """A boundary timer on `attached_to`, or an intermediate timer catch event; its
        expression (Python, so quote literals) is a date, a duration or a cycle."""
        given = {"timeDate": date, "timeDuration": duration, "timeCycle": cycle}
        given = {tag: value for tag, value in given.items() if value is not None}
        if len(given) != 1:
            raise ValueError("a timer has one of a date, a duration or a cycle")
        if not name or name == "办理期限":
            raise ValueError(f"{id}: name the timer with its deadline, as the seed does")
        [(tag, expression)] = given.items()
        definition = (
            f'<bpmn:timerEventDefinition id="{id}_timer">'
            f'<bpmn:{tag} xsi:type="bpmn:tFormalExpression">{escape(expression)}</bpmn:{tag}>'
            "</bpmn:timerEventDefinition>"
        )
        if attached_to:
            node = Node(id, name, lane, "boundaryEvent", "event", attached_to=attached_to)
            node.attrs["attachedToRef"] = attached_to
            node.attrs["cancelActivity"] = "true" if interrupting else "false"
        else:
            node = Node(id, name, lane, "intermediateCatchEvent", "event")
        node.body.append(definition)
        return self._add(node)

    def flow(self, source, target, name=None, condition=None, default=False):
        flow = Flow(f"flow_{source}_{target}", source, target, name, condition)
        if any(f.id == flow.id for f in self.flows):
            flow.id += f"_{len(self.flows)}"
        self.flows.append(flow)
        if default:
            self.defaults[source] = flow.id
        return flow.id

    def chain(self, *ids):
        for source, target in zip(ids, ids[1:], strict=False):
            self.flow(source, target)

    # Layout -------------------------------------------------------------------------------

    def _layout(self, top: float = MARGIN) -> None:
        nodes = [
            LNode(n.id, n.lane, n.kind, n.name, attached_to=n.attached_to)
            for n in self.nodes.values()
        ]
        flows = [LFlow(f.id, f.source, f.target, f.name) for f in self.flows]
        layout = Layout(self.lanes, nodes, flows, MARGIN + POOL_LABEL + LANE_LABEL)
        result = layout.run(top)
        self.top = top
        self.width = result.width
        self.height = result.height
        self.lane_y, self.lane_h = result.lane_y, result.lane_h
        self.shapes = {n.id: n for n in nodes}
        self.edges = {f.id: f for f in flows}

    # Output -------------------------------------------------------------------------------

    def to_xml(self) -> str:
        """The diagram as a BPMN file of its own."""
        return render([self])

    def _loop_variables(self) -> list[str]:
        found: list[str] = []
        for node in self.nodes.values():
            for name in LOOP_REF.findall(node.attrs.get("loop", "")):
                if name not in found:
                    found.append(name)
        return found

    def _process_xml(self, declared: set[str]) -> list[str]:
        incoming: dict[str, list[str]] = {n: [] for n in self.nodes}
        outgoing: dict[str, list[str]] = {n: [] for n in self.nodes}
        for f in self.flows:
            outgoing[f.source].append(f.id)
            incoming[f.target].append(f.id)
        out = [
            f'  <bpmn:process id="{self.process_id}" name={quoteattr(self.name)} '
            'isExecutable="true">',
        ]
        if self.documentation:
            out.append(f"    <bpmn:documentation>{escape(self.documentation)}</bpmn:documentation>")
        # bpmn-js resolves multi-instance data references by id, SpiffWorkflow reads them as
        # names of task data: a process property of that id and name satisfies both.
        for variable in self._loop_variables():
            if variable not in declared:
                declared.add(variable)
                out.append(f'    <bpmn:property id="{variable}" name="{variable}" />')
        out.append(f'    <bpmn:laneSet id="{self.process_id}_lanes">')
        for lane in self.lanes:
            out.append(
                f'      <bpmn:lane id="{self.process_id}_lane_{lane}" name="{ROLES[lane][0]}">'
            )
            for node in self.nodes.values():
                if node.lane == lane:
                    out.append(f"        <bpmn:flowNodeRef>{node.id}</bpmn:flowNodeRef>")
            out.append("      </bpmn:lane>")
        out.append("    </bpmn:laneSet>")
        for node in self.nodes.values():
            attrs = f'id="{node.id}" name={quoteattr(node.name)}'
            for key in ("calledElement", "attachedToRef", "cancelActivity"):
                if key in node.attrs:
                    attrs += f' {key}="{node.attrs[key]}"'
            if node.id in self.defaults:
                attrs += f' default="{self.defaults[node.id]}"'
            out.append(f"    <bpmn:{node.tag} {attrs}>")
            docs = [line for line in node.body if line.startswith("<bpmn:documentation")]
            for line in docs:
                out.append(f"      {line}")
            extension = node.attrs.get("extension")
            if node.properties or extension:
                out.append("      <bpmn:extensionElements>")
                if extension:
                    out += [f"        {line}" for line in extension.split("\n")]
                if node.properties:
                    out.append("        <spiffworkflow:properties>")
                    for key, value in node.properties.items():
                        out.append(
                            f'          <spiffworkflow:property name="{key}" '
                            f"value={quoteattr(value)} />"
                        )
                    out.append("        </spiffworkflow:properties>")
                out.append("      </bpmn:extensionElements>")
            out += [f"      <bpmn:incoming>{f}</bpmn:incoming>" for f in incoming[node.id]]
            out += [f"      <bpmn:outgoing>{f}</bpmn:outgoing>" for f in outgoing[node.id]]
            if "loop" in node.attrs:
                out += [f"      {line}" for line in node.attrs["loop"].split("\n")]
            out += [f"      {line}" for line in node.body if line not in docs]
            out.append(f"    </bpmn:{node.tag}>")
        for f in self.flows:
            name = f" name={quoteattr(f.name)}" if f.name else ""
            head = (
                f'    <bpmn:sequenceFlow id="{f.id}"{name} sourceRef="{f.source}" '
                f'targetRef="{f.target}"'
            )
            if f.condition:
                out += [
                    head + ">",
                    '      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">'
                    f"{escape(f.condition)}</bpmn:conditionExpression>",
                    "    </bpmn:sequenceFlow>",
                ]
            else:
                out.append(head + " />")
        out.append("  </bpmn:process>")
        return out

    def _di(self) -> list[str]:
        out: list[str] = []
        pool_x = MARGIN
        out += [
            f'      <bpmndi:BPMNShape id="{self.process_id}_pool_di" '
            f'bpmnElement="{self.process_id}_pool" isHorizontal="true">',
            "        "
            + bounds(pool_x, self.top, self.width + POOL_LABEL + LANE_LABEL, self.height),
            "      </bpmndi:BPMNShape>",
        ]
        for lane in self.lanes:
            out += [
                f'      <bpmndi:BPMNShape id="{self.process_id}_lane_{lane}_di" '
                f'bpmnElement="{self.process_id}_lane_{lane}" '
                'isHorizontal="true">',
                "        "
                + bounds(
                    pool_x + POOL_LABEL,
                    self.lane_y[lane],
                    self.width + LANE_LABEL,
                    self.lane_h[lane],
                ),
                "      </bpmndi:BPMNShape>",
            ]
        for node in self.nodes.values():
            shape = self.shapes[node.id]
            out += [
                f'      <bpmndi:BPMNShape id="{node.id}_di" bpmnElement="{node.id}">',
                f"        {bounds(shape.x, shape.y, shape.w, shape.h)}",
            ]
            if shape.label:
                label = shape.label
                out += [
                    "        <bpmndi:BPMNLabel>",
                    f"          {bounds(label.x, label.y, label.w, label.h)}",
                    "        </bpmndi:BPMNLabel>",
                ]
            out.append("      </bpmndi:BPMNShape>")
        for f in self.flows:
            edge = self.edges[f.id]
            out.append(f'      <bpmndi:BPMNEdge id="{f.id}_di" bpmnElement="{f.id}">')
            out += [f'        <di:waypoint x="{x:.0f}" y="{y:.0f}" />' for x, y in edge.points]
            if edge.label:
                label = edge.label
                out += [
                    "        <bpmndi:BPMNLabel>",
                    f"          {bounds(label.x, label.y, label.w, label.h)}",
                    "        </bpmndi:BPMNLabel>",
                ]
            out.append("      </bpmndi:BPMNEdge>")
        return out


def bounds(x, y, w, h) -> str:
    return f'<dc:Bounds x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}" />'


def render(diagrams: list[Diagram]) -> str:
    """One BPMN file holding one or more processes, each in its own pool, stacked downwards.

    The first diagram names the file; the others are the processes it calls per student.
    """
    main = diagrams[0]
    ids = [node_id for d in diagrams for node_id in d.nodes]
    if len(ids) != len(set(ids)):
        raise ValueError("element ids must be unique across the processes of one file")
    top = MARGIN
    for diagram in diagrams:
        diagram._layout(top)
        top += diagram.height + 60
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
        'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
        'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'id="{main.process_id}_definitions" targetNamespace="https://xueji.example/bpmn">',
    ]
    messages = {k: v for d in diagrams for k, v in d.messages.items()}
    for message_id, name in sorted(messages.items()):
        out.append(f'  <bpmn:message id="{message_id}" name="{name}" />')
    out.append(f'  <bpmn:collaboration id="{main.process_id}_collaboration">')
    for d in diagrams:
        out.append(
            f'    <bpmn:participant id="{d.process_id}_pool" name={quoteattr(d.name)} '
            f'processRef="{d.process_id}" />'
        )
    out.append("  </bpmn:collaboration>")
    declared: set[str] = set()  # ids are unique in a file: each property once
    for d in diagrams:
        out += d._process_xml(declared)
    out += [
        f'  <bpmndi:BPMNDiagram id="{main.process_id}_diagram">',
        f'    <bpmndi:BPMNPlane id="{main.process_id}_plane" '
        f'bpmnElement="{main.process_id}_collaboration">',
    ]
    for d in diagrams:
        out += d._di()
    out += ["    </bpmndi:BPMNPlane>", "  </bpmndi:BPMNDiagram>", "</bpmn:definitions>"]
    return "\n".join(out) + "\n"
