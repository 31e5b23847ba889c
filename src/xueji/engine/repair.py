"""Repairing a running workflow (Camunda's process instance modification, spiff-arena's
"reset to task"): move it back to an element it has passed, set a variable in the data of
its active tasks, or run on past a failing element without running it (skip)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task, TaskState

from xueji.engine.migration import ACTIVE
from xueji.engine.runner import Runner, StepOutcome, step_error
from xueji.engine.scripting import SCRIPT_ERRORS


class ElementNotReached(Exception):
    """The case never finished this element, so it cannot be started again from there."""


def _element_id(task: Task) -> str | None:
    return getattr(task.task_spec, "bpmn_id", None)


def active_element_ids(workflow: BpmnWorkflow) -> list[str]:
    return sorted(
        {e for t in workflow.get_tasks(state=ACTIVE) if (e := _element_id(t)) is not None}
    )


def _rekey(workflow: BpmnWorkflow, task: Task) -> None:
    """Give a task a new id: a restarted person's task is a new inbox row, and the finished
    one keeps its id (and row) as history."""
    old, new = task.id, uuid4()
    # In its place: the serializer restores tasks in this order, each from its parent's data.
    workflow.tasks = {(new if key == old else key): value for key, value in workflow.tasks.items()}
    task.id = new
    task.parent._children = [new if child == old else child for child in task.parent._children]
    for child in task.children:
        child._parent = new


def reset_to(runner: Runner, workflow: BpmnWorkflow, element_id: str) -> StepOutcome:
    """Start the element again from its latest finished run: the tasks after it (the case's
    active steps among them) are cancelled, its data is what it had then, and the engine
    runs on from it (a script runs again; a person's task waits in the inbox)."""
    done = [
        t
        for t in workflow.get_tasks(state=TaskState.COMPLETED)
        if _element_id(t) == element_id and t.parent is not None
    ]
    if not done:
        raise ElementNotReached(element_id)
    task = max(done, key=lambda t: t.last_state_change)
    last = workflow.last_task
    workflow.reset_from_task_id(task.id)
    # The library points last_task at the reset task's parent, and never moves it again: the
    # case's data at its end would be that old step's.
    workflow.last_task = last if last is None or last.id in workflow.tasks else None
    _rekey(workflow, task)
    return runner.advance(workflow)


def set_variable(workflow: BpmnWorkflow, name: str, value: Any) -> int:
    """Set a variable in the data of every active task (what the case's next steps read);
    how many tasks there were."""
    active = workflow.get_tasks(state=ACTIVE)
    for task in active:
        task.data[name] = value
    return len(active)


def skip(
    runner: Runner,
    workflow: BpmnWorkflow,
    element_id: str,
    task_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> StepOutcome:
    """Redo the action that failed (complete the person's task `task_id` with `data`, or fire
    the timers that are due), but complete `element_id` without running it when the engine
    reaches it, and run on."""
    try:
        if task_id is not None:
            task = runner.ready_task(workflow, task_id)
            task.data.update(data or {})
            task.run()
        else:
            workflow.refresh_timers()
        while True:
            ready = [t for t in workflow.get_tasks(state=TaskState.READY) if not t.task_spec.manual]
            target = next((t for t in ready if _element_id(t) == element_id), None)
            if target is not None:
                target.complete()
                break
            if not ready:
                raise ElementNotReached(element_id)
            for task in ready:
                task.run()
    except (SpiffWorkflowException, *SCRIPT_ERRORS) as exc:
        raise step_error(exc) from exc
    return runner.advance(workflow)
