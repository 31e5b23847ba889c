"""Running workflows: start, complete a user task, advance; what happened, as plain data."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.task import Task, TaskState

from xueji.engine import sandbox, serializer
from xueji.engine import timers as _timers  # noqa: F401  (routes timer events to our clock)
from xueji.engine.calls import CallRequest, ExternalCallActivity, call_outputs, pending_calls
from xueji.engine.scripting import SCRIPT_ERRORS, bound_step, make_script_engine
from xueji.errors import XuejiError

# The engine's workflow object, for the layers above that hold one without using the library.
Workflow = BpmnWorkflow


@dataclass(frozen=True)
class ReadyTask:
    """A user or manual task waiting for a person."""

    id: str
    element_id: str
    name: str
    lane: str | None
    form: str | None
    ui_form: str | None
    documentation: str | None
    due: str | None = None  # the dueDate rule (xueji.deadlines)


@dataclass(frozen=True)
class CompletedElement:
    task_id: str
    element_id: str
    name: str | None
    kind: str


@dataclass(frozen=True)
class ThrownMessage:
    """A message the step threw (throw or end event) for other instances to catch."""

    name: str
    payload: Any


@dataclass
class StepOutcome:
    completed: list[CompletedElement] = field(default_factory=list)
    ready: list[ReadyTask] = field(default_factory=list)
    finished: bool = False
    # Call activities that started waiting in this step (already marked as called).
    calls: list[CallRequest] = field(default_factory=list)
    thrown: list[ThrownMessage] = field(default_factory=list)
    # The workflow's data after the step (the current task's, as plain JSON).
    data: dict[str, Any] = field(default_factory=dict)


class StepError(Exception):
    """An engine step failed; the caller must throw the workflow object away.

    `refusal` is the business error a service raised (its sentence is `reason`); otherwise
    the diagram failed (a script, a condition, a gateway)."""

    def __init__(
        self,
        reason: str,
        element_id: str | None = None,
        element_name: str | None = None,
        refusal: XuejiError | None = None,
    ):
        super().__init__(reason)
        self.reason = reason
        self.element_id = element_id
        self.element_name = element_name
        self.refusal = refusal


class TaskNotReady(Exception):
    """The task is not (or no longer) READY in this workflow."""


def _element(task_spec) -> tuple[str | None, str | None]:
    return getattr(task_spec, "bpmn_id", None), getattr(task_spec, "bpmn_name", None)


def step_error(exc: Exception) -> StepError:
    task = getattr(exc, "task", None)
    spec = task.task_spec if task is not None else getattr(exc, "task_spec", None)
    element_id, element_name = _element(spec) if spec is not None else (None, None)
    refusal = exc.__cause__
    if isinstance(refusal, XuejiError):
        return StepError(str(refusal.detail), element_id, element_name, refusal)
    reason = str(exc)
    cause = getattr(exc, "exception", None) or exc.__cause__ or exc.__context__
    # A limit or a refused value: its sentence names it ("the script ran longer than its time
    # limit of 1.0 s and was stopped"); SpiffWorkflow's text for an expression lacks it.
    if isinstance(cause, SCRIPT_ERRORS) and str(cause) not in reason:
        reason = f"{reason.rstrip(' .')}: {cause}"
    return StepError(reason, element_id, element_name)


def instance_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The data of the task a person works on next (or of the last one), as plain JSON."""
    ready = workflow.get_tasks(state=TaskState.READY)
    task = ready[0] if ready else workflow.last_task
    data = dict(task.data) if task is not None else dict(workflow.task_tree.data)
    return serializer.plain(data)


def properties_of(task_spec) -> dict[str, str]:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {})


def form_of(task_spec) -> tuple[str | None, str | None]:
    """The JSON Schema and UI schema file names a task or start event names, SpiffWorkflow-style."""
    properties = properties_of(task_spec)
    return properties.get("formJsonSchemaFilename"), properties.get("formUiSchemaFilename")


class Runner:
    """Runs workflows with our restricted script environment and registered services."""

    def __init__(
        self,
        services=None,
        time_limit: float = 1.0,
        functions=None,
        *,
        script_workers: int = sandbox.DEFAULT_WORKERS,
        script_memory_limit: int = sandbox.DEFAULT_MEMORY_LIMIT,
        script_result_limit: int = sandbox.DEFAULT_RESULT_LIMIT,
    ):
        """`time_limit` (seconds) is per script or expression; scripts run in the process's
        shared pool of `script_workers` worker processes, each with `script_memory_limit`
        bytes of address space, each result at most `script_result_limit` bytes of JSON."""
        self.script_engine = make_script_engine(
            services=services,
            time_limit=time_limit,
            functions=functions,
            workers=script_workers,
            memory_limit=script_memory_limit,
            result_limit=script_result_limit,
        )

    def bound(self, step: Any) -> AbstractContextManager[None]:
        """Service tasks run inside this block get `step` as their first argument."""
        return bound_step(step)

    def new_workflow(self, spec, subprocess_specs) -> BpmnWorkflow:
        return BpmnWorkflow(spec, subprocess_specs, script_engine=self.script_engine)

    def attach(self, workflow: BpmnWorkflow) -> BpmnWorkflow:
        """Give a restored workflow our script engine."""
        workflow.script_engine = self.script_engine
        return workflow

    def start(self, workflow: BpmnWorkflow, data: dict[str, Any]) -> StepOutcome:
        """Put the start data in and run until people or timers must act."""
        workflow.task_tree.data.update(data)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)
        return self._advance(workflow, [])

    def complete(self, workflow: BpmnWorkflow, task_id: str, data: dict[str, Any]) -> StepOutcome:
        """Complete a READY user task with the form's data and run on."""
        task = self.ready_task(workflow, task_id)
        task.data.update(data)
        completed: list[CompletedElement] = []
        try:
            task.run()
        except (SpiffWorkflowException, *SCRIPT_ERRORS) as exc:
            raise step_error(exc) from exc
        return self._advance(workflow, completed)

    def fire_timers(self, workflow: BpmnWorkflow) -> StepOutcome:
        """Let timer events that are due (by xueji's clock) fire, and run on."""
        try:
            workflow.refresh_timers()
        except (SpiffWorkflowException, *SCRIPT_ERRORS) as exc:
            raise step_error(exc) from exc
        return self._advance(workflow, [])

    def complete_call(
        self, workflow: BpmnWorkflow, task_id: str, children: list[dict[str, Any]]
    ) -> StepOutcome:
        """Finish a waiting call activity with its children's final data, and run on."""
        task = self._find(workflow, task_id)
        if task.state != TaskState.STARTED or not isinstance(task.task_spec, ExternalCallActivity):
            raise TaskNotReady(task_id)
        task.data.update(call_outputs(task.task_spec, children))
        try:
            task.complete()
        except (SpiffWorkflowException, *SCRIPT_ERRORS) as exc:
            raise step_error(exc) from exc
        element_id, name = _element(task.task_spec)
        done = CompletedElement(
            task_id, element_id or task.task_spec.name, name, type(task.task_spec).__name__
        )
        return self._advance(workflow, [done])

    def advance(self, workflow: BpmnWorkflow) -> StepOutcome:
        """Run engine steps after the workflow was changed from outside (e.g. a message)."""
        return self._advance(workflow, [])

    def cancel(self, workflow: BpmnWorkflow) -> None:
        workflow.cancel()

    def ready_tasks(self, workflow: BpmnWorkflow) -> list[ReadyTask]:
        result = []
        for task in workflow.get_tasks(state=TaskState.READY, manual=True):
            spec = task.task_spec
            form, ui_form = form_of(spec)
            element_id, name = _element(spec)
            result.append(
                ReadyTask(
                    id=str(task.id),
                    element_id=element_id or spec.name,
                    name=name or spec.name,
                    lane=getattr(spec, "lane", None),
                    form=form,
                    ui_form=ui_form,
                    documentation=getattr(spec, "documentation", None),
                    due=properties_of(spec).get("dueDate"),
                )
            )
        return result

    def task_data(self, workflow: BpmnWorkflow, task_id: str) -> dict[str, Any]:
        return dict(self._find(workflow, task_id).data)

    def _find(self, workflow: BpmnWorkflow, task_id: str) -> Task:
        try:
            task = workflow.get_task_from_id(UUID(task_id))
        except (ValueError, WorkflowException):
            task = None
        if task is None:
            raise TaskNotReady(task_id)
        return task

    def ready_task(self, workflow: BpmnWorkflow, task_id: str) -> Task:
        task = self._find(workflow, task_id)
        if task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskNotReady(task_id)
        return task

    def _advance(self, workflow: BpmnWorkflow, completed: list[CompletedElement]) -> StepOutcome:
        def record(task: Task) -> None:
            element_id, name = _element(task.task_spec)
            if element_id is not None and task.state == TaskState.COMPLETED:
                completed.append(
                    CompletedElement(str(task.id), element_id, name, type(task.task_spec).__name__)
                )

        try:
            workflow.do_engine_steps(did_complete_task=record)
        except (SpiffWorkflowException, *SCRIPT_ERRORS) as exc:
            raise step_error(exc) from exc
        thrown = [
            ThrownMessage(event.event_definition.name, event.payload)
            for event in workflow.get_events()
            if isinstance(event.event_definition, MessageEventDefinition)
        ]
        return StepOutcome(
            completed=completed,
            ready=self.ready_tasks(workflow),
            finished=workflow.completed,
            calls=pending_calls(workflow),
            thrown=thrown,
            data=instance_data(workflow),
        )
