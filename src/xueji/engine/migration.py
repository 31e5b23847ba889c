"""Moving a running workflow onto another version of its spec (Camunda's migration plan,
spiff-arena's "migrate process instance").

Every task of the tree is re-pointed to the spec of the same name in the new version, or to
the one an explicit pair names (`pairs`: old element id -> new element id). Tasks keep their
ids, states and data, so inbox rows, timers and a call's children still refer to them; only
what the engine had predicted beyond the active tasks is predicted again from the new spec.
What cannot be moved is a blocker, reported before anything changes: an active element
without a target, a target of another kind, a waiting call that would call another process,
and a finished element the new version lacks (pair it with one that takes its place).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task, TaskState

from xueji.engine import serializer
from xueji.engine.runner import form_of

# Tasks a case is at: a person's task, a timer or message it waits for, a call in progress.
ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
# What the engine expects to come: predicted again from the new spec.
AHEAD = TaskState.PREDICTED_MASK | TaskState.FUTURE


@dataclass(frozen=True)
class Move:
    """One active task and the element it would be at in the new version."""

    task_id: str
    source: str
    source_name: str | None
    target: str | None
    target_name: str | None
    kind: str
    state: str
    # The target's form (JSON Schema file name) for a person's task.
    form: str | None = None


@dataclass(frozen=True)
class Blocker:
    element_id: str
    code: str  # NoTarget, KindChanged, CalledElementChanged, FinishedElementRemoved, …
    message: str


@dataclass
class MigrationCheck:
    moves: list[Move] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)


def _element_id(task: Task) -> str:
    return getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name


def _target_name(name: str, pairs: dict[str, str]) -> str:
    """The new spec name: a paired element, or a derived spec ("review.BoundaryEventSplit")
    of a paired element, or the same name."""
    if name in pairs:
        return pairs[name]
    head, dot, tail = name.partition(".")
    return f"{pairs[head]}.{tail}" if dot and head in pairs else name


def _called(spec: Any) -> str | None:
    """The process a call activity calls (ours: child instances; the library's: `spec`)."""
    return getattr(spec, "called_element", None) or getattr(spec, "spec", None)


def check(workflow: BpmnWorkflow, new_spec: Any, pairs: dict[str, str]) -> MigrationCheck:
    """What moving `workflow` onto `new_spec` would do, and what blocks it."""
    result = MigrationCheck()
    if workflow.subprocesses:
        result.blockers.append(
            Blocker(
                workflow.spec.name,
                "SubprocessRunning",
                "流程中有运行中的内嵌子流程，无法迁移 (embedded subprocesses are not migrated)",
            )
        )
        return result
    for task in workflow.get_tasks():
        if task.has_state(AHEAD):
            continue
        spec = task.task_spec
        element = _element_id(task)
        target = new_spec.task_specs.get(_target_name(spec.name, pairs))
        active = task.has_state(ACTIVE)
        if target is None:
            if active:
                result.blockers.append(
                    Blocker(
                        element,
                        "NoTarget",
                        f"活动环节“{spec.bpmn_name or element}”在新版本中没有对应的环节"
                        f" (active element {element!r} has no target; pair it with one)",
                    )
                )
            elif getattr(spec, "bpmn_id", None) is not None:
                result.blockers.append(
                    Blocker(
                        element,
                        "FinishedElementRemoved",
                        f"已办环节“{spec.bpmn_name or element}”在新版本中不存在"
                        f" (finished element {element!r} is not in the new version;"
                        " pair it with the element that replaces it)",
                    )
                )
            continue
        if not active:
            continue
        if type(target) is not type(spec):
            result.blockers.append(
                Blocker(
                    element,
                    "KindChanged",
                    f"环节“{spec.bpmn_name or element}”在新版本中类型不同"
                    f" ({type(spec).__name__} -> {type(target).__name__}: a waiting"
                    " element moves only to one of its own kind)",
                )
            )
            continue
        if _called(spec) != _called(target):
            result.blockers.append(
                Blocker(
                    element,
                    "CalledElementChanged",
                    f"调用活动“{spec.bpmn_name or element}”在新版本中调用其他流程"
                    f" (it waits for {_called(spec)!r}; the target calls {_called(target)!r})",
                )
            )
            continue
        if getattr(spec, "bpmn_id", None) is None:
            continue  # an internal spec (a join, a boundary split) moves with its element
        result.moves.append(
            Move(
                task_id=str(task.id),
                source=element,
                source_name=spec.bpmn_name,
                target=target.bpmn_id,
                target_name=target.bpmn_name,
                kind=type(spec).__name__,
                state=TaskState.get_name(task.state).lower(),
                form=form_of(target)[0] if target.manual else None,
            )
        )
    return result


def migrate(
    workflow: BpmnWorkflow,
    new_spec: Any,
    new_subprocess_specs: dict[str, Any],
    pairs: dict[str, str],
    definition_id: int,
) -> BpmnWorkflow:
    """The workflow moved onto `new_spec` (call `check` first: blockers raise ValueError),
    serialized for definition version `definition_id` and restored from it, so that what is
    returned is exactly what the database will hold."""
    problems = check(workflow, new_spec, pairs).blockers
    if problems:
        raise ValueError("; ".join(p.message for p in problems))
    active = [t for t in workflow.get_tasks(state=ACTIVE)]
    for task in active:
        task._drop_children()  # predicted from the old spec
    for task in list(workflow.tasks.values()):
        if task.id not in workflow.tasks:
            continue
        target = new_spec.task_specs.get(_target_name(task.task_spec.name, pairs))
        if target is None:  # ahead of the case, and gone from the new version
            workflow._remove_task(task.id)
            continue
        task.task_spec = target
    workflow.spec = new_spec
    workflow.subprocess_specs = new_subprocess_specs
    for task in active:
        task.task_spec._predict(task, mask=AHEAD | ACTIVE)
    state = serializer.dumps(workflow, definition_id)
    restored = serializer.loads(state, definition_id, new_spec, new_subprocess_specs)
    restored.script_engine = workflow.script_engine
    return restored
