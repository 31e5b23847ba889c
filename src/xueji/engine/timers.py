"""SpiffWorkflow's timer events read `datetime.now`; route that through xueji's clock.

Imported by the runner, so every workflow xueji runs sees the same "now" as the service.
"""

from __future__ import annotations

from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _timer_module
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import TaskState

from xueji import clock


class _ClockDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        moment = clock.now()
        return moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)


_timer_module.datetime = _ClockDatetime


def pending_timers(workflow: BpmnWorkflow) -> list[tuple[str, str | None, datetime]]:
    """(engine task id, element id, due instant) of every timer the workflow waits for."""
    result = []
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(definition, TimerEventDefinition):
            continue
        value = definition.details(task).value
        if isinstance(value, dict):  # a cycle timer that has not started counting
            value = value.get("next")
        if not value:
            continue
        due = TimerEventDefinition.get_datetime(value) if isinstance(value, str) else value
        result.append((str(task.id), getattr(task.task_spec, "bpmn_id", None), due))
    return result


def has_timer_events(workflow: BpmnWorkflow) -> bool:
    """Whether the workflow's diagrams hold a timer event at all (if not, it never waits on
    one, and a step need not look for its timer rows)."""
    return any(
        isinstance(getattr(task_spec, "event_definition", None), TimerEventDefinition)
        for spec in (workflow.spec, *workflow.subprocess_specs.values())
        for task_spec in spec.task_specs.values()
    )
