"""Deploy-time validation: every problem of an upload at once, each with file, line and element.

The checks: well-formed and safe XML, the BPMN/DMN XSD, what SpiffWorkflow's parser refuses,
references to processes, decisions and forms, scripts and conditions compiled under our
restrictions, lanes that name known roles, and exclusive gateways that can always choose.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException

from xueji.deadlines import rule_problem
from xueji.engine.namespaces import NSMAP, SPIFF, bpmn
from xueji.engine.parser import XuejiParser, document_kind, schema_errors
from xueji.engine.scripting import check_script
from xueji.engine.xml import XmlRefused, parse_xml

FORM_PROPERTY = "formJsonSchemaFilename"
# Elements that may name a form: tasks, start events, and catch events whose payload a form
# checks (messages).
FORM_BEARERS = (
    "userTask",
    "manualTask",
    "startEvent",
    "intermediateCatchEvent",
    "receiveTask",
    "boundaryEvent",
)
UI_FORM_PROPERTY = "formUiSchemaFilename"


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    element_id: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "element_id": self.element_id,
            "message": self.message,
        }


@dataclass
class ProcessInfo:
    key: str
    name: str
    file_name: str
    lanes: dict[str, str] = field(default_factory=dict)
    start_role: str | None = None
    start_form: str | None = None
    start_ui_form: str | None = None
    forms: set[str] = field(default_factory=set)
    called_processes: set[str] = field(default_factory=set)
    called_decisions: set[str] = field(default_factory=set)


@dataclass
class DecisionInfo:
    key: str
    name: str
    file_name: str


@dataclass
class Report:
    """What an upload holds, and what is wrong with it (deployable when `problems` is empty)."""

    documents: dict[str, etree._Element] = field(default_factory=dict)
    processes: list[ProcessInfo] = field(default_factory=list)
    decisions: list[DecisionInfo] = field(default_factory=list)
    forms: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Catalog:
    """What is already deployed, for resolving references the upload does not carry itself."""

    forms: Mapping[str, Any] = field(default_factory=dict)
    processes: Mapping[str, tuple[str, bytes]] = field(default_factory=dict)  # key -> (file, xml)
    decisions: Mapping[str, tuple[str, bytes]] = field(default_factory=dict)
    services: Collection[str] = ()
    role_for_lane: Callable[[str | None], str | None] = lambda name: None


def inspect_upload(files: Mapping[str, bytes], catalog: Catalog) -> Report:
    """Read and check an upload of diagrams, decision tables and forms."""
    report = Report()
    for name, content in files.items():
        if name.endswith(".json"):
            _read_form(report, name, content)
        else:
            _read_document(report, name, content)
    # Decision tables first: diagrams in the same upload may use them, whatever the order.
    for name, root in report.documents.items():
        if document_kind(root) == "dmn":
            _inspect_dmn(report, name, root)
    for name, root in report.documents.items():
        if document_kind(root) != "dmn":
            _inspect_bpmn(report, name, root, catalog)
    if not report.problems:
        _parse_with_engine(report, catalog)
    return report


@lru_cache(maxsize=1024)
def _schema_problem(content: bytes) -> str | None:
    """Why a form file is not a valid JSON Schema, or None; checked once per content (every
    deployment of processes/ sends every form again)."""
    try:
        Draft202012Validator.check_schema(json.loads(content.decode("utf-8")))
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "(root)"
        return f"not a valid JSON Schema at {where}: {exc.message}"
    return None


def _read_form(report: Report, name: str, content: bytes) -> None:
    try:
        form = json.loads(content.decode("utf-8"))
    except UnicodeDecodeError:
        report.problems.append(Problem(name, None, None, "form files must be UTF-8 encoded"))
        return
    except json.JSONDecodeError as exc:
        report.problems.append(Problem(name, exc.lineno, None, f"not valid JSON: {exc.msg}"))
        return
    if not isinstance(form, dict):
        report.problems.append(Problem(name, 1, None, "a form must be a JSON object"))
        return
    if not _is_ui_schema(name):
        invalid = _schema_problem(content)
        if invalid:
            report.problems.append(Problem(name, None, None, invalid))
            return
    report.forms[name] = form


def _is_ui_schema(name: str) -> bool:
    return name.endswith((".uischema.json", ".ui.json", "-uischema.json"))


def _read_document(report: Report, name: str, content: bytes) -> None:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        report.problems.append(Problem(name, None, None, "diagram files must be UTF-8 encoded"))
        return
    try:
        root = parse_xml(content)
    except XmlRefused as exc:
        report.problems.append(Problem(name, exc.line, None, exc.message))
        return
    kind = document_kind(root)
    if kind is None:
        report.problems.append(
            Problem(
                name,
                root.sourceline,
                root.get("id"),
                f"not a BPMN 2.0 or DMN document: the root element is {root.tag}",
            )
        )
        return
    errors = schema_errors(root)
    if errors:
        lines = _ids_by_line(root)
        for error in errors:
            element = lines.get(error.line) if error.line is not None else None
            report.problems.append(Problem(name, error.line, element, error.message))
        return
    report.documents[name] = root


def _ids_by_line(root: etree._Element) -> dict[int, str]:
    lines: dict[int, str] = {}
    for element in root.iter(etree.Element):
        if element.get("id") and element.sourceline:
            lines.setdefault(element.sourceline, element.get("id"))
    return lines


def _inspect_dmn(report: Report, name: str, root: etree._Element) -> None:
    ns = etree.QName(root).namespace
    for decision in root.iter(f"{{{ns}}}decision"):
        report.decisions.append(
            DecisionInfo(decision.get("id"), decision.get("name") or decision.get("id"), name)
        )


def _properties(element: etree._Element) -> dict[str, str]:
    return {
        p.get("name"): p.get("value")
        for p in element.xpath(
            "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
            namespaces=NSMAP,
        )
    }


def _inspect_bpmn(report: Report, name: str, root: etree._Element, catalog: Catalog) -> None:
    def problem(element: etree._Element | None, message: str) -> None:
        report.problems.append(
            Problem(
                name,
                element.sourceline if element is not None else None,
                element.get("id") if element is not None else None,
                message,
            )
        )

    processes = root.findall(bpmn("process"))
    executable = [p for p in processes if p.get("isExecutable", "true") == "true"]
    if not executable:
        first = processes[0] if processes else root
        problem(
            first,
            "no executable process: nothing here can run (isExecutable is false "
            "or there is no bpmn:process)",
        )
        return
    lane_roles: dict[str, str] = {}
    for lane in root.iter(bpmn("lane")):
        role = catalog.role_for_lane(lane.get("name"))
        if role is None and not lane.get("name"):
            problem(lane, "a lane without a name names no role")
        elif role is None:
            problem(lane, f"lane {lane.get('name')!r} names no known role")
        else:
            lane_roles[lane.get("name")] = role
    node_lane = {
        ref.text.strip(): ref.getparent().get("name")
        for ref in root.iter(bpmn("flowNodeRef"))
        if ref.text
    }
    for process in executable:
        info = ProcessInfo(process.get("id"), process.get("name") or process.get("id"), name)
        info.lanes = {lane: role for lane, role in lane_roles.items()}
        report.processes.append(info)
        if _too_large(process, problem):
            continue
        _inspect_process(process, info, node_lane, lane_roles, report, catalog, problem)


# Size limits of one process: the engine builds a process by following its flows
# recursively, so a long chain of steps, not only many of them, is what it cannot take.
MAX_FLOW_NODES = 5_000
MAX_CHAIN = 300


def _too_large(process: etree._Element, problem) -> bool:
    """Refuse a process larger than the limits, with the numbers (before the engine sees it)."""
    nodes: dict[str, list[str]] = {}
    for element in process.iter(etree.Element):
        if element.find(bpmn("outgoing")) is not None or element.find(bpmn("incoming")) is not None:
            nodes[element.get("id") or ""] = []
    if len(nodes) > MAX_FLOW_NODES:
        problem(
            process,
            f"流程有 {len(nodes):,} 个流程元素，超过上限 {MAX_FLOW_NODES:,}"
            f" (a process may have at most {MAX_FLOW_NODES:,} flow elements; split it into"
            " called processes)",
        )
        return True
    for flow in process.iter(bpmn("sequenceFlow")):
        source = flow.get("sourceRef")
        if source in nodes:
            nodes[source].append(flow.get("targetRef") or "")
    starts = [e.get("id") or "" for e in process.iter(bpmn("startEvent"))]
    longest = _longest_walk(nodes, starts)
    if longest > MAX_CHAIN:
        problem(
            process,
            f"流程中有一条 {longest:,} 步的连续路径，超过上限 {MAX_CHAIN:,}"
            f" (a chain of more than {MAX_CHAIN:,} steps in one process; split it into"
            " called processes)",
        )
        return True
    return False


def _longest_walk(nodes: dict[str, list[str]], starts: list[str]) -> int:
    """How deep a depth-first walk along the flows goes (without recursion of our own)."""
    deepest, seen = 0, set()
    for start in starts:
        stack = [(start, 1)]
        while stack:
            node, depth = stack.pop()
            if node in seen or node not in nodes:
                continue
            seen.add(node)
            deepest = max(deepest, depth)
            stack.extend((target, depth + 1) for target in nodes[node])
    return deepest


def _inspect_process(process, info, node_lane, lane_roles, report, catalog, problem) -> None:
    has_lanes = process.find(f"{bpmn('laneSet')}/{bpmn('lane')}") is not None
    for element in process.iter(etree.Element):
        tag = etree.QName(element).localname
        element_id = element.get("id")
        if tag in FORM_BEARERS:
            if tag == "startEvent" and element.getparent() is not process:
                continue
            lane = node_lane.get(element_id)
            if tag == "startEvent":
                info.start_role = lane_roles.get(lane)
            elif tag in ("userTask", "manualTask") and has_lanes and lane is None:
                problem(element, "this task is in no lane, so no role can work on it")
            # Without any lanes, tasks are offered to administrators only (diagrams from
            # elsewhere often have none); with lanes, every task must be in one.
            props = _properties(element)
            for prop in (FORM_PROPERTY, UI_FORM_PROPERTY):
                form_name = props.get(prop)
                if form_name is None:
                    continue
                info.forms.add(form_name)
                if form_name not in report.forms and form_name not in catalog.forms:
                    problem(element, f"form {form_name!r} is neither in this upload nor deployed")
            if props.get("dueDate") and (message := rule_problem(props["dueDate"])):
                problem(element, message)
            if tag == "startEvent":
                info.start_form = props.get(FORM_PROPERTY)
                info.start_ui_form = props.get(UI_FORM_PROPERTY)
        elif tag == "script" and etree.QName(element.getparent()).localname == "scriptTask":
            for message in check_script(element.text or "", "exec"):
                problem(element.getparent(), f"script: {message}")
        elif tag in ("preScript", "postScript") and etree.QName(element).namespace == SPIFF:
            owner = element.getparent().getparent()
            for message in check_script(element.text or "", "exec"):
                problem(owner, f"{tag}: {message}")
        elif tag == "conditionExpression":
            for message in check_script(element.text or "", "eval"):
                problem(element.getparent(), f"condition: {message}")
        elif tag in ("exclusiveGateway", "inclusiveGateway"):
            _check_gateway(process, element, problem)
        elif tag == "callActivity":
            called = element.get("calledElement")
            info.called_processes.add(called)
            known = {p.key for p in report.processes} | set(catalog.processes)
            in_upload = any(
                d.find(f".//{bpmn('process')}[@id='{called}']") is not None
                for d in report.documents.values()
                if called
            )
            if not called:
                problem(element, "names no process to call (calledElement)")
            elif not (in_upload or called in known):
                problem(element, f"calls process {called!r}, which is not deployed")
        elif tag == "businessRuleTask":
            decision = element.findtext(f"{bpmn('extensionElements')}/{{{SPIFF}}}calledDecisionId")
            info.called_decisions.add(decision)
            known = {d.key for d in report.decisions} | set(catalog.decisions)
            if not decision:
                problem(element, "names no decision (spiffworkflow:calledDecisionId)")
            elif decision not in known:
                problem(element, f"uses decision {decision!r}, which is not deployed")
        elif tag == "serviceTask":
            operator = element.find(f"{bpmn('extensionElements')}/{{{SPIFF}}}serviceTaskOperator")
            operation = operator.get("id") if operator is not None else None
            services = ", ".join(sorted(catalog.services)) or "none"
            if operation is None:
                problem(
                    element,
                    "names no spiffworkflow:serviceTaskOperator; xueji runs only "
                    f"its own services ({services})",
                )
            elif operation == element_id:
                # SpiffWorkflow's parser then fails with a misleading "no support" error.
                problem(
                    element,
                    f"the element id {element_id!r} must differ from its service operator's name",
                )
            elif operation not in catalog.services:
                problem(element, f"service {operation!r} is not one of xueji's ({services})")


def _check_gateway(process, gateway, problem) -> None:
    gateway_id = gateway.get("id")
    outgoing = process.findall(f"{bpmn('sequenceFlow')}[@sourceRef='{gateway_id}']")
    if len(outgoing) < 2:
        return
    default = gateway.get("default")
    for flow in outgoing:
        if flow.get("id") == default:
            continue
        if flow.find(bpmn("conditionExpression")) is None:
            problem(
                gateway,
                f"outgoing flow {flow.get('id')!r} has no condition and is not "
                "the gateway's default",
            )


def _parse_with_engine(report: Report, catalog: Catalog) -> None:
    """Let SpiffWorkflow build every process; what it refuses is a problem too."""
    parser = XuejiParser()
    lines: dict[str, dict[str, int]] = {}
    try:
        for name, root in report.documents.items():
            parser.add_document(root, name)
            lines[name] = {
                e.get("id"): e.sourceline for e in root.iter(etree.Element) if e.get("id")
            }
        needed = set().union(*(p.called_processes | p.called_decisions for p in report.processes))
        for key, (file_name, xml) in {**catalog.processes, **catalog.decisions}.items():
            if key in needed and file_name not in report.documents:
                parser.add_document(parse_xml(xml), file_name)
    except ValidationException as exc:
        report.problems.append(_from_validation(exc, lines))
        return
    for info in report.processes:
        try:
            parser.get_spec(info.key)
            parser.get_subprocess_specs(info.key)
        except ValidationException as exc:
            report.problems.append(_from_validation(exc, lines, info.file_name))
        except SpiffWorkflowException as exc:
            report.problems.append(Problem(info.file_name, None, info.key, str(exc)))


def _from_validation(exc: ValidationException, lines, file_name: str | None = None) -> Problem:
    file_name = exc.file_name or file_name or ""
    element_id = exc.id or None
    line = lines.get(file_name, {}).get(element_id) if element_id else None
    return Problem(
        file_name, line, element_id, str(exc).split("\n")[0] if str(exc) else type(exc).__name__
    )
