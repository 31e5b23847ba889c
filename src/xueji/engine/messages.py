"""Messages: which elements of a process catch which message, and catching one in a workflow.

A catching element is a message start event, an intermediate message catch event (also after
an event-based gateway), a message boundary event or a receive task. Beside its message it
may declare, as spiffworkflow properties:

- `correlation`: the comma-separated values a message must carry to reach an instance waiting
  here, e.g. "student" or "business_key,student". Recognised: `business_key`, `student` (the
  student id), `station` (the station code); any other name (e.g. `batch`) is a process
  variable. Matching is done by the service (xueji.instances.correlation), never by SpiffWorkflow,
  which lets any message through when no correlation properties are modelled.
- `formJsonSchemaFilename`: a JSON Schema the payload must satisfy, as a start form would.

The payload lands in the task data under the element's spiffworkflow:messageVariable (inside
its bpmn:messageEventDefinition), or under the message's name when it names none.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import Task, TaskState

from xueji.engine.namespaces import NSMAP, bpmn
from xueji.engine.runner import Runner, StepError, StepOutcome
from xueji.engine.scripting import SCRIPT_ERRORS

CORRELATION_PROPERTY = "correlation"
FORM_PROPERTY = "formJsonSchemaFilename"
_CATCHING = ("startEvent", "intermediateCatchEvent", "boundaryEvent", "receiveTask")


@dataclass(frozen=True)
class MessageCatch:
    """One element of a process that catches a message."""

    element_id: str
    element_name: str | None
    message: str
    start: bool  # a start event of the process: the message starts a new instance
    correlation: tuple[str, ...]
    variable: str | None
    form: str | None
    lane: str | None  # the lane's name (the definition maps it to a role)


def message_catches(root: etree._Element, process_id: str) -> list[MessageCatch]:
    """Every element of process `process_id` in a BPMN document that catches a message.

    Message start events count as `start` only when every start event of the process is a
    message start event: a process with a plain start as well would run that path too.
    """
    process = root.find(f"{bpmn('process')}[@id='{process_id}']")
    if process is None:
        return []
    messages = {m.get("id"): m for m in root.iter(bpmn("message"))}
    lanes = {
        ref.text.strip(): ref.getparent().get("name")
        for ref in process.iter(bpmn("flowNodeRef"))
        if ref.text
    }
    top_starts = process.findall(bpmn("startEvent"))
    message_starts = all(s.find(bpmn("messageEventDefinition")) is not None for s in top_starts)
    result = []
    for element in process.iter(*(bpmn(tag) for tag in _CATCHING)):
        definition = element.find(bpmn("messageEventDefinition"))
        ref = definition.get("messageRef") if definition is not None else None
        if etree.QName(element).localname == "receiveTask":
            ref = element.get("messageRef") or ref
        elif definition is None:
            continue
        message = messages.get(ref)
        name = message.get("name") if message is not None else None
        properties = _properties(element)
        is_top_start = element.getparent() is process and element.tag == bpmn("startEvent")
        if is_top_start and not message_starts:
            continue
        result.append(
            MessageCatch(
                element_id=element.get("id"),
                element_name=element.get("name"),
                message=name or element.get("name") or "",
                start=is_top_start,
                correlation=tuple(
                    key.strip()
                    for key in properties.get(CORRELATION_PROPERTY, "").split(",")
                    if key.strip()
                ),
                variable=_message_variable(
                    definition if definition is not None else element, message
                ),
                form=properties.get(FORM_PROPERTY),
                lane=lanes.get(element.get("id")),
            )
        )
    return result


def _properties(element: etree._Element) -> dict[str, str]:
    return {
        p.get("name"): p.get("value")
        for p in element.xpath(
            "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
            namespaces=NSMAP,
        )
    }


def _message_variable(holder: etree._Element, message: etree._Element | None) -> str | None:
    for node in (holder, message):
        if node is None:
            continue
        found = node.xpath(".//spiffworkflow:messageVariable", namespaces=NSMAP)
        if found and (found[0].text or "").strip():
            return found[0].text.strip()
    return None


def _event(name: str, payload: dict[str, Any]) -> BpmnEvent:
    return BpmnEvent(MessageEventDefinition(name), payload=deepcopy(payload))


def _caught_by(task: Task, event: BpmnEvent) -> tuple[str | None, MessageEventDefinition] | None:
    """(element id, event definition) where a waiting task catches the event, else None."""
    spec = task.task_spec
    definition = getattr(spec, "event_definition", None)
    if definition is None or not spec.catches(task, event):
        return None
    if isinstance(definition, MultipleEventDefinition):  # an event-based gateway
        index = definition.event_definitions.index(event.event_definition)
        return spec.outputs[index].bpmn_id, definition.event_definitions[index]
    return spec.bpmn_id, definition


def waiting_elements(workflow: BpmnWorkflow, name: str) -> list[str]:
    """Ids of the elements at which the workflow now waits for message `name`."""
    event = _event(name, {})
    found = (_caught_by(t, event) for t in workflow.get_tasks(state=TaskState.WAITING))
    return [element_id for element_id, _ in filter(None, found) if element_id is not None]


def catch_message(
    runner: Runner, workflow: BpmnWorkflow, name: str, payload: dict[str, Any]
) -> StepOutcome:
    """Let the workflow catch message `name` with its payload, and run on."""
    event = _event(name, payload)
    for task in workflow.get_tasks(state=TaskState.WAITING):
        caught = _caught_by(task, event)
        if caught is not None and getattr(caught[1], "message_var", None) is None:
            # SpiffWorkflow drops the payload when no variable is named; keep it by name.
            task.data[name] = deepcopy(payload)
    try:
        workflow.catch(event)
    except (SpiffWorkflowException, *SCRIPT_ERRORS) as exc:
        raise StepError(str(exc)) from exc
    # The runner's own advance: run engine steps and report what happened.
    return runner.advance(workflow)
