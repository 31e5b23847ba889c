"""Call activities that run as separate persisted instances (Camunda's semantics).

SpiffWorkflow runs a called process inside the caller's own state; a multi-instance call over a
batch of 2,000 students would then keep 2,000 task trees in one row, rewritten on every step.
Here the call activity only waits (its task stays STARTED); the service starts one child
instance per call (or per item of a parallel multi-instance), each with its own row, inbox
and history, and completes the waiting task with the children's outputs when the last ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from SpiffWorkflow.bpmn.parser.util import first
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser
from SpiffWorkflow.task import TaskState

CALLED = "xueji_children_started"


class ExternalCallActivity(BpmnSpecMixin):
    """A call activity whose called process runs as child instances; the task waits for them."""

    def __init__(
        self,
        wf_spec,
        bpmn_id,
        called_element: str,
        collection: str | None = None,
        element_variable: str | None = None,
        output_collection: str | None = None,
        output_element: str | None = None,
        **kwargs,
    ):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.called_element = called_element
        self.collection = collection
        self.element_variable = element_variable
        self.output_collection = output_collection
        self.output_element = output_element

    def _run_hook(self, my_task):
        return None  # STARTED: the service starts the children and completes this task later


class ExternalCallActivityParser(SpiffTaskParser):
    def create_task(self):
        mi = first(self.xpath("./bpmn:multiInstanceLoopCharacteristics"))
        options: dict[str, Any] = {}
        if mi is not None:
            options = {
                "collection": _text(
                    self.xpath("./bpmn:multiInstanceLoopCharacteristics/bpmn:loopDataInputRef")
                ),
                "element_variable": _name(
                    self.xpath("./bpmn:multiInstanceLoopCharacteristics/bpmn:inputDataItem")
                ),
                "output_collection": _text(
                    self.xpath("./bpmn:multiInstanceLoopCharacteristics/bpmn:loopDataOutputRef")
                ),
                "output_element": _name(
                    self.xpath("./bpmn:multiInstanceLoopCharacteristics/bpmn:outputDataItem")
                ),
            }
            if mi.get("isSequential") == "true":
                self.raise_validation_exception(
                    "sequential multi-instance call activities are not supported; make it parallel"
                )
            if not options["collection"]:
                self.raise_validation_exception(
                    "a multi-instance call activity needs loopDataInputRef (the collection)"
                )
            # We run the items as child instances; SpiffWorkflow must not wrap the task.
            mi.getparent().remove(mi)
        return ExternalCallActivity(
            self.spec,
            self.bpmn_id,
            called_element=self.node.get("calledElement"),
            **options,
            **self.bpmn_attributes,
        )


def _text(nodes) -> str | None:
    return nodes[0].text.strip() if nodes and nodes[0].text else None


def _name(nodes) -> str | None:
    return (nodes[0].get("name") or nodes[0].get("id")) if nodes else None


@dataclass(frozen=True)
class CallRequest:
    """Children to start for one waiting call activity."""

    task_id: str
    element_id: str
    called_element: str
    inputs: list[dict[str, Any]]  # one start-data dict per child, in order


def pending_calls(workflow) -> list[CallRequest]:
    """Call activities that wait and have no children yet; marks them as called."""
    requests = []
    for task in workflow.get_tasks(state=TaskState.STARTED):
        spec = task.task_spec
        if not isinstance(spec, ExternalCallActivity) or task._get_internal_data(CALLED):
            continue
        data = dict(task.data)
        if spec.collection is None:
            inputs = [data]
        else:
            items = data.get(spec.collection) or []
            base = {
                k: v
                for k, v in data.items()
                if k not in (spec.collection, spec.output_collection) and _scalar(v)
            }
            variable = spec.element_variable or "item"
            inputs = [{**base, variable: item} for item in items]
        task._set_internal_data(**{CALLED: True})
        requests.append(CallRequest(str(task.id), spec.bpmn_id, spec.called_element, inputs))
    return requests


def _scalar(value: Any) -> bool:
    """Children of a batch inherit the caller's plain values (year, season, station…), not its
    lists and tables: a roster copied into each of n children would cost n² to store."""
    return isinstance(value, str | int | float | bool | date | type(None))


def call_outputs(spec: ExternalCallActivity, children: list[dict[str, Any]]) -> dict[str, Any]:
    """What flows back into the caller from its finished children's data, in child order."""
    if spec.collection is None:
        return dict(children[0]) if children else {}
    if spec.output_collection is None:
        return {}
    element = spec.output_element or spec.element_variable or "item"
    return {spec.output_collection: [child.get(element) for child in children]}


def has_call_activities(spec, subprocess_specs: dict) -> bool:
    """Whether a process's diagrams hold a call activity (if not, its instances have no
    children)."""
    return any(
        isinstance(task_spec, ExternalCallActivity)
        for process in (spec, *subprocess_specs.values())
        for task_spec in process.task_specs.values()
    )
