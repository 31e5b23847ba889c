"""A small builder for the college's BPMN diagrams: elements, lanes, flows, and a left-to-right
layout with real diagram interchange (every node a shape, every flow an edge), so the files
open in bpmn-js / Camunda Modeler and read like the seed's flowcharts.

The ten files in processes/ are written by `python -m tools.diagrams`; tests check that the
committed files are what the specs here produce.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from xueji.auth.roles import ROLES

SIZES = {"task": (120, 80), "event": (36, 36), "gateway": (50, 50)}
COLUMN = 180
ROW = 120
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
    column: int = 0
    row: int = 0
    x: float = 0
    y: float = 0


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

    def user(self, id, name, lane, form=None, ui=False, due=None, doc=None):
        """A user task; `due` (xueji.deadlines) also gives it a deadline timer."""
        props = self._form_properties(form, ui)
        if due:
            props["dueDate"] = due
        node = Node(id, name, lane, "userTask", "task", properties=props)
        if doc:
            node.body.insert(0, f"<bpmn:documentation>{escape(doc)}</bpmn:documentation>")
        self._add(node)
        if due:
            self._deadline(id, due, lane)
        return id

    def _deadline(self, task_id, due, lane):
        """A non-interrupting boundary timer at the task's deadline and once more a reminder
        period later; both lead to the process's one 逾期提醒 service (overdue, escalation)."""
        remind = f"{self.process_id}_overdue"
        if remind not in self.nodes:  # in the bottom lane, so that the timers' flows run down
            self.service(remind, "逾期提醒", self.lanes[-1], "escalate_overdue")
            self.end(f"{self.process_id}_reminded", "提醒已发出", self.lanes[-1])
            self.flow(remind, f"{self.process_id}_reminded")
        timer = self.timer(
            f"{task_id}_deadline",
            "办理期限",
            lane,
            cycle=f'deadline_cycle("{due}")',
            attached_to=task_id,
        )
        self.flow(timer, remind)

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
        for node_id in [f.source for f in self.flows] + [f.target for f in self.flows]:
            if node_id not in self.nodes:
                raise ValueError(f"flow refers to unknown element {node_id}")
        outgoing: dict[str, list[str]] = {n: [] for n in self.nodes}
        for f in self.flows:
            outgoing[f.source].append(f.target)
        for node in self.nodes.values():
            if node.attached_to:
                outgoing[node.attached_to].append(node.id)
        starts = [n.id for n in self.nodes.values() if n.tag == "startEvent"]
        back: set[tuple[str, str]] = set()
        state: dict[str, int] = {}

        def visit(node_id: str) -> None:
            state[node_id] = 1
            for target in outgoing[node_id]:
                if state.get(target) == 1:
                    back.add((node_id, target))
                elif target not in state:
                    visit(target)
            state[node_id] = 2

        for start in starts:
            visit(start)
        order: list[str] = []
        seen: set[str] = set()

        def topo(node_id: str) -> None:
            seen.add(node_id)
            for target in outgoing[node_id]:
                if (node_id, target) not in back and target not in seen:
                    topo(target)
            order.append(node_id)

        for start in starts:
            topo(start)
        for node_id in reversed(order):
            node = self.nodes[node_id]
            for target in outgoing[node_id]:
                if (node_id, target) in back:
                    continue
                step = 0 if self.nodes[target].attached_to == node_id else 1
                self.nodes[target].column = max(self.nodes[target].column, node.column + step)
        occupied: dict[tuple[str, int], int] = {}
        for node_id in reversed(order):
            node = self.nodes[node_id]
            if node.attached_to:
                continue
            key = (node.lane, node.column)
            node.row = occupied.get(key, 0)
            occupied[key] = node.row + 1
        self.lane_rows = {
            lane: max([rows for (name, _c), rows in occupied.items() if name == lane] or [1])
            for lane in self.lanes
        }
        self.lane_y: dict[str, float] = {}
        self.top = top
        y = top
        for lane in self.lanes:
            self.lane_y[lane] = y
            y += self.lane_rows[lane] * ROW + 20
        self.height = y - top
        self.width = (max(n.column for n in self.nodes.values()) + 1) * COLUMN + 80
        for node in self.nodes.values():
            if node.attached_to:
                continue
            w, h = SIZES[node.kind]
            cx = MARGIN + POOL_LABEL + LANE_LABEL + 40 + node.column * COLUMN + 60
            cy = self.lane_y[node.lane] + 10 + node.row * ROW + ROW / 2
            node.x, node.y = cx - w / 2, cy - h / 2
        for node in self.nodes.values():
            if node.attached_to:
                host = self.nodes[node.attached_to]
                node.x = host.x + SIZES["task"][0] - 36 - 8
                node.y = host.y + SIZES["task"][1] - 18

    def _bounds(self, node: Node) -> tuple[float, float, float, float]:
        w, h = SIZES[node.kind]
        return node.x, node.y, w, h

    def _waypoints(self, flow: Flow) -> list[tuple[float, float]]:
        s, t = self.nodes[flow.source], self.nodes[flow.target]
        sx, sy, sw, sh = self._bounds(s)
        tx, ty, tw, th = self._bounds(t)
        if s.attached_to and t.lane != s.lane:
            # down to the free band at the bottom of the target's lane, along it, then up
            start = (sx + sw / 2, sy + sh)
            band = self.lane_y[t.lane] + self.lane_rows[t.lane] * ROW + 14
            return [start, (start[0], band), (tx + tw / 2, band), (tx + tw / 2, ty + th)]
        if s.attached_to:  # leave a boundary event downwards
            start = (sx + sw / 2, sy + sh)
            return (
                [start, (start[0], ty + th / 2), (tx, ty + th / 2)]
                if tx > start[0]
                else [
                    start,
                    (start[0], ty + th + 20),
                    (tx + tw / 2, ty + th + 20),
                    (tx + tw / 2, ty + th),
                ]
            )
        if tx > sx:  # forward: right side to left side, orthogonal
            a, b = (sx + sw, sy + sh / 2), (tx, ty + th / 2)
            if abs(a[1] - b[1]) < 1:
                return [a, b]
            mid = a[0] + 25
            return [a, (mid, a[1]), (mid, b[1]), b]
        # backwards (a loop): out of the bottom, along under both, into the bottom
        bottom = max(sy + sh, ty + th) + 25
        return [
            (sx + sw / 2, sy + sh),
            (sx + sw / 2, bottom),
            (tx + tw / 2, bottom),
            (tx + tw / 2, ty + th),
        ]

    # Output -------------------------------------------------------------------------------

    def to_xml(self) -> str:
        """The diagram as a BPMN file of its own."""
        return render([self])

    def _process_xml(self) -> list[str]:
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
            height = self.lane_rows[lane] * ROW + 20
            out += [
                f'      <bpmndi:BPMNShape id="{self.process_id}_lane_{lane}_di" '
                f'bpmnElement="{self.process_id}_lane_{lane}" '
                'isHorizontal="true">',
                "        "
                + bounds(pool_x + POOL_LABEL, self.lane_y[lane], self.width + LANE_LABEL, height),
                "      </bpmndi:BPMNShape>",
            ]
        for node in self.nodes.values():
            x, y, w, h = self._bounds(node)
            out += [
                f'      <bpmndi:BPMNShape id="{node.id}_di" bpmnElement="{node.id}">',
                f"        {bounds(x, y, w, h)}",
            ]
            if node.kind != "task":
                out += [
                    "        <bpmndi:BPMNLabel>",
                    f"          {bounds(x - 30, y + h + 4, w + 60, 28)}",
                    "        </bpmndi:BPMNLabel>",
                ]
            out.append("      </bpmndi:BPMNShape>")
        for f in self.flows:
            out.append(f'      <bpmndi:BPMNEdge id="{f.id}_di" bpmnElement="{f.id}">')
            out += [
                f'        <di:waypoint x="{x:.0f}" y="{y:.0f}" />' for x, y in self._waypoints(f)
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
    for d in diagrams:
        out += d._process_xml()
    out += [
        f'  <bpmndi:BPMNDiagram id="{main.process_id}_diagram">',
        f'    <bpmndi:BPMNPlane id="{main.process_id}_plane" '
        f'bpmnElement="{main.process_id}_collaboration">',
    ]
    for d in diagrams:
        out += d._di()
    out += ["    </bpmndi:BPMNPlane>", "  </bpmndi:BPMNDiagram>", "</bpmn:definitions>"]
    return "\n".join(out) + "\n"
