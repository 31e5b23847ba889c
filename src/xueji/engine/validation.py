"""Deploy-time validation: every problem of an upload at once, each with file, line and element.

The checks: well-formed and safe XML, the BPMN/DMN XSD, what SpiffWorkflow's parser refuses,
references to processes, decisions and forms, scripts and conditions compiled under our
restrictions, lanes that name known roles, and exclusive gateways that can always choose.

Each problem has a stable English `code` (what kind of problem) and a Chinese `message` that
names the element by its name (its id only when it has none), as the modeler shows it.
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
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "element_id": self.element_id,
            "code": self.code,
            "message": self.message,
        }


def named(element: etree._Element | None) -> str:
    """「name」 of an element for a message, its id when it has no name."""
    if element is None:
        return ""
    return f"「{' '.join((element.get('name') or '').split()) or element.get('id') or '?'}」"


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
        return f"不是有效的 JSON Schema（位置 {where}）：{exc.message}"
    return None


def _read_form(report: Report, name: str, content: bytes) -> None:
    try:
        form = json.loads(content.decode("utf-8"))
    except UnicodeDecodeError:
        report.problems.append(Problem(name, None, None, "FormNotUtf8", "表单文件须为 UTF-8 编码"))
        return
    except json.JSONDecodeError as exc:
        report.problems.append(
            Problem(name, exc.lineno, None, "FormNotJson", f"不是有效的 JSON：{exc.msg}")
        )
        return
    if not isinstance(form, dict):
        report.problems.append(Problem(name, 1, None, "FormNotObject", "表单须为一个 JSON 对象"))
        return
    if not _is_ui_schema(name):
        invalid = _schema_problem(content)
        if invalid:
            report.problems.append(Problem(name, None, None, "FormSchemaInvalid", invalid))
            return
    report.forms[name] = form


def _is_ui_schema(name: str) -> bool:
    return name.endswith((".uischema.json", ".ui.json", "-uischema.json"))


def _read_document(report: Report, name: str, content: bytes) -> None:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        report.problems.append(
            Problem(name, None, None, "DiagramNotUtf8", "流程图文件须为 UTF-8 编码")
        )
        return
    try:
        root = parse_xml(content)
    except XmlRefused as exc:
        report.problems.append(
            Problem(name, exc.line, None, "XmlRefused", f"XML 无法接受：{exc.message}")
        )
        return
    kind = document_kind(root)
    if kind is None:
        report.problems.append(
            Problem(
                name,
                root.sourceline,
                root.get("id"),
                "NotBpmnOrDmn",
                f"不是 BPMN 2.0 或 DMN 文档：根元素是 {root.tag}",
            )
        )
        return
    errors = schema_errors(root)
    if errors:
        lines = _ids_by_line(root)
        for error in errors:
            element = lines.get(error.line) if error.line is not None else None
            report.problems.append(
                Problem(
                    name,
                    error.line,
                    element,
                    "SchemaInvalid",
                    f"不符合 BPMN/DMN 规范（XSD）：{error.message}",
                )
            )
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
    def problem(element: etree._Element | None, code: str, message: str) -> None:
        report.problems.append(
            Problem(
                name,
                element.sourceline if element is not None else None,
                element.get("id") if element is not None else None,
                code,
                message,
            )
        )

    processes = root.findall(bpmn("process"))
    executable = [p for p in processes if p.get("isExecutable", "true") == "true"]
    if not executable:
        first = processes[0] if processes else root
        problem(
            first,
            "NoExecutableProcess",
            "没有可执行的流程：文件中没有 bpmn:process，或其 isExecutable 为 false",
        )
        return
    lane_roles: dict[str, str] = {}
    for lane in root.iter(bpmn("lane")):
        role = catalog.role_for_lane(lane.get("name"))
        if role is None and not lane.get("name"):
            problem(lane, "LaneWithoutName", f"泳道{named(lane)}没有名称，对应不到角色")
        elif role is None:
            problem(lane, "LaneUnknownRole", f"泳道{named(lane)}不是已知的角色")
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
            "ProcessTooLarge",
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
            "ProcessTooLong",
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
                problem(
                    element,
                    "TaskWithoutLane",
                    f"任务{named(element)}不在任何泳道中，没有角色能办理",
                )
            # Without any lanes, tasks are offered to administrators only (diagrams from
            # elsewhere often have none); with lanes, every task must be in one.
            props = _properties(element)
            for prop in (FORM_PROPERTY, UI_FORM_PROPERTY):
                form_name = props.get(prop)
                if form_name is None:
                    continue
                info.forms.add(form_name)
                if form_name not in report.forms and form_name not in catalog.forms:
                    problem(
                        element,
                        "FormMissing",
                        f"{named(element)}的表单 {form_name} 既不在本次上传中，也尚未部署",
                    )
            if props.get("dueDate") and (message := rule_problem(props["dueDate"])):
                problem(element, "DueDateInvalid", f"{named(element)}的{message}")
            if tag == "startEvent":
                info.start_form = props.get(FORM_PROPERTY)
                info.start_ui_form = props.get(UI_FORM_PROPERTY)
        elif tag == "script" and etree.QName(element.getparent()).localname == "scriptTask":
            for message in check_script(element.text or "", "exec"):
                owner = element.getparent()
                problem(owner, "ScriptRefused", f"{named(owner)}的脚本不能运行：{message}")
        elif tag in ("preScript", "postScript") and etree.QName(element).namespace == SPIFF:
            owner = element.getparent().getparent()
            for message in check_script(element.text or "", "exec"):
                problem(owner, "ScriptRefused", f"{named(owner)}的 {tag} 不能运行：{message}")
        elif tag == "conditionExpression":
            for message in check_script(element.text or "", "eval"):
                flow = element.getparent()
                problem(flow, "ConditionRefused", f"顺序流{named(flow)}的条件不能运行：{message}")
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
                problem(
                    element,
                    "CallWithoutProcess",
                    f"{named(element)}没有指定要调用的流程（calledElement）",
                )
            elif not (in_upload or called in known):
                problem(
                    element, "CalledProcessMissing", f"{named(element)}调用的流程 {called} 尚未部署"
                )
        elif tag == "businessRuleTask":
            decision = element.findtext(f"{bpmn('extensionElements')}/{{{SPIFF}}}calledDecisionId")
            info.called_decisions.add(decision)
            known = {d.key for d in report.decisions} | set(catalog.decisions)
            if not decision:
                problem(
                    element,
                    "RuleWithoutDecision",
                    f"{named(element)}没有指定决策表（spiffworkflow:calledDecisionId）",
                )
            elif decision not in known:
                problem(
                    element, "DecisionMissing", f"{named(element)}使用的决策表 {decision} 尚未部署"
                )
        elif tag == "serviceTask":
            operator = element.find(f"{bpmn('extensionElements')}/{{{SPIFF}}}serviceTaskOperator")
            operation = operator.get("id") if operator is not None else None
            services = "、".join(sorted(catalog.services)) or "无"
            if operation is None:
                problem(
                    element,
                    "ServiceMissing",
                    f"{named(element)}没有指定服务（spiffworkflow:serviceTaskOperator）；"
                    f"只能使用本系统的服务：{services}",
                )
            elif operation == element_id:
                # SpiffWorkflow's parser then fails with a misleading "no support" error.
                problem(
                    element,
                    "ServiceIdClash",
                    f"{named(element)}的编号 {element_id} 不能与其服务名相同",
                )
            elif operation not in catalog.services:
                problem(
                    element,
                    "ServiceUnknown",
                    f"{named(element)}的服务 {operation} 不是本系统的服务（{services}）",
                )


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
                "GatewayFlowWithoutCondition",
                f"网关{named(gateway)}的出口顺序流{named(flow)}没有条件，也不是默认分支",
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
            report.problems.append(
                Problem(
                    info.file_name,
                    None,
                    info.key,
                    "EngineRefused",
                    f"流程引擎无法构建流程「{info.name}」：{exc}",
                )
            )


def _from_validation(exc: ValidationException, lines, file_name: str | None = None) -> Problem:
    file_name = exc.file_name or file_name or ""
    element_id = exc.id or None
    line = lines.get(file_name, {}).get(element_id) if element_id else None
    reason = str(exc).split("\n")[0] if str(exc) else type(exc).__name__
    name = getattr(exc, "name", None) or element_id
    where = f"「{name}」" if name else ""
    return Problem(file_name, line, element_id, "EngineRefused", f"流程引擎不接受{where}：{reason}")
