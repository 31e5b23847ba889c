"""Migrating running instances to another version of their definition: a plan (the target
version, element pairs, which instances), a dry run that says per instance what would move
and what blocks it, and execution that moves each instance in its own transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from fastapi import Request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.principal import Principal
from xueji.db.session import session_scope
from xueji.definitions.repository import form_content, get_definition
from xueji.engine import migration, serializer
from xueji.errors import XuejiError
from xueji.history.service import record_event
from xueji.instances.repository import lock
from xueji.instances.steps import load_workflow, specs_for, sync_timers
from xueji.models import ProcessDefinition, ProcessInstance, Timer, UserTask
from xueji.models.states import UNFINISHED, TimerState, UserTaskState
from xueji.operations.audit_hooks import audited
from xueji.operations.schemas import (
    MAX_LISTED_INSTANCES,
    BlockerItem,
    InstanceMigration,
    MigrationPlan,
    MigrationReport,
    MoveItem,
)
from xueji.runtime import Runtime

log = logging.getLogger(__name__)


def _pairs(plan: MigrationPlan) -> dict[str, str]:
    return {pair.source: pair.target for pair in plan.pairs}


def _matching(plan: MigrationPlan, target: ProcessDefinition) -> Select:
    """The instances the plan moves: unfinished, of the key, not on the target yet."""
    query = (
        select(ProcessInstance)
        .join(ProcessDefinition)
        .where(
            ProcessInstance.definition_key == plan.key,
            ProcessInstance.definition_id != target.id,
            ProcessInstance.state.in_([plan.filter.state] if plan.filter.state else UNFINISHED),
        )
    )
    if plan.filter.version is not None:
        query = query.where(ProcessDefinition.version == plan.filter.version)
    if plan.filter.business_key:
        query = query.where(
            ProcessInstance.business_key.startswith(plan.filter.business_key, autoescape=True)
        )
    if plan.filter.instance_ids is not None:
        query = query.where(ProcessInstance.id.in_(plan.filter.instance_ids))
    return query.order_by(ProcessInstance.id)


def _form_blockers(
    session: Session,
    target: ProcessDefinition,
    move: migration.Move,
    data: dict[str, Any],
) -> list[BlockerItem]:
    """A target form's required read-only fields (shown from the case's data, filled by an
    earlier step) that the data lacks: the person could not complete the task."""
    schema = form_content(session, target, move.form) or {}
    properties = schema.get("properties") or {}
    missing = [
        name
        for name in schema.get("required") or []
        if (properties.get(name) or {}).get("readOnly") and name not in data
    ]
    return [
        BlockerItem(
            element_id=move.source,
            code="FormDataMissing",
            message=f"新版本“{move.target_name or move.target}”的表单需要流程数据“{name}”，"
            f"本案件没有 (the target form {move.form!r} requires the read-only field"
            f" {name!r}, which the case's data lacks)",
        )
        for name in missing
    ]


def inspect(
    session: Session,
    runtime: Runtime,
    instance: ProcessInstance,
    target: ProcessDefinition,
    pairs: dict[str, str],
) -> tuple[InstanceMigration, Any, migration.MigrationCheck]:
    """What moving one instance would do (and its workflow, for the caller that moves it)."""
    workflow = load_workflow(runtime, session, instance)
    spec, _ = specs_for(runtime, session, target)
    check = migration.check(workflow, spec, pairs)
    blockers = [BlockerItem(**vars(b)) for b in check.blockers]
    for move in check.moves:
        if move.form is not None:
            data = runtime.runner.task_data(workflow, move.task_id)
            blockers += _form_blockers(session, target, move, data)
    report = InstanceMigration(
        id=instance.id,
        business_key=instance.business_key,
        version=instance.definition.version,
        state=instance.state,
        moves=[MoveItem(**{k: v for k, v in vars(m).items() if k != "form"}) for m in check.moves],
        blockers=blockers,
    )
    return report, workflow, check


def dry_run(session: Session, runtime: Runtime, plan: MigrationPlan) -> MigrationReport:
    """Per instance, what would move where and what blocks it; nothing is changed."""
    target = get_definition(session, plan.key, plan.target_version)
    pairs = _pairs(plan)
    reports = [
        inspect(session, runtime, instance, target, pairs)[0]
        for instance in session.scalars(_matching(plan, target).limit(MAX_LISTED_INSTANCES))
    ]
    return _summary(session, plan, target, reports)


def _summary(
    session: Session, plan: MigrationPlan, target: ProcessDefinition, reports
) -> MigrationReport:
    total = session.scalar(select(_count(_matching(plan, target)))) or 0
    blocked = sum(1 for r in reports if r.blockers)
    return MigrationReport(
        key=plan.key,
        source_versions=sorted({r.version for r in reports}),
        target_version=target.version,
        total=total + sum(1 for r in reports if r.outcome == "migrated"),
        movable=len(reports) - blocked,
        blocked=blocked,
        migrated=sum(1 for r in reports if r.outcome == "migrated"),
        failed=sum(1 for r in reports if r.outcome == "failed"),
        instances=reports[:MAX_LISTED_INSTANCES],
    )


def _count(query: Select):
    return select(func.count()).select_from(query.order_by(None).subquery()).scalar_subquery()


def migrate_one(
    session: Session,
    runtime: Runtime,
    principal: Principal,
    request: Request | None,
    instance: ProcessInstance,
    target: ProcessDefinition,
    pairs: dict[str, str],
) -> InstanceMigration:
    """Move one locked instance, or report what blocks it (and change nothing)."""
    report, workflow, check = inspect(session, runtime, instance, target, pairs)
    if report.blockers:
        report.outcome = "blocked"
        return report
    spec, subprocess_specs = specs_for(runtime, session, target)
    moved = runtime.runner.attach(
        migration.migrate(workflow, spec, subprocess_specs, pairs, target.id)
    )
    source = instance.definition
    now = clock.now()
    instance.definition_id, instance.definition = target.id, target
    instance.engine_state = serializer.dumps(moved, target.id)
    instance.updated_at = now
    # Inbox rows keep their id, assignee and claim; they point to the new element.
    ready = {task.id: task for task in runtime.runner.ready_tasks(moved)}
    for row in session.scalars(
        select(UserTask).where(
            UserTask.instance_id == instance.id, UserTask.state == UserTaskState.READY
        )
    ):
        task = ready.get(row.id)
        if task is not None:
            row.element_id, row.name = task.element_id, task.name
            row.form, row.ui_form = task.form, task.ui_form
            row.role = target.lanes.get(task.lane) if task.lane else row.role
    targets = {move.task_id: move.target for move in check.moves}
    for timer in session.scalars(
        select(Timer).where(Timer.instance_id == instance.id, Timer.state == TimerState.PENDING)
    ):
        timer.element_id = targets.get(timer.task_id) or timer.element_id
    sync_timers(session, instance, moved, now)
    before = {"definition_id": source.id, "version": source.version}
    after = {"definition_id": target.id, "version": target.version}
    moves = [m.model_dump() for m in report.moves]
    record_event(
        session,
        instance.id,
        principal.username,
        "instance_migrated",
        data={"from_version": source.version, "to_version": target.version, "moves": moves},
        at=now,
    )
    audited(
        session,
        principal,
        request,
        "instance.migrate",
        f"instance:{instance.id}",
        before,
        {**after, "moves": moves},
        instance_id=instance.id,
    )
    session.flush()
    report.version, report.outcome = target.version, "migrated"
    return report


def _batches(runtime: Runtime, plan: MigrationPlan, target_id: int, size: int) -> Iterator[list]:
    """Ids of the matching instances, `size` at a time, read afresh for each batch."""
    after = ""
    while True:
        with runtime.db.reader() as session:
            target = session.get(ProcessDefinition, target_id)
            assert target is not None
            ids = list(
                session.scalars(
                    _matching(plan, target)
                    .with_only_columns(ProcessInstance.id)
                    .where(ProcessInstance.id > after)
                    .limit(size)
                )
            )
        if not ids:
            return
        yield ids
        after = ids[-1]


def execute(
    runtime: Runtime,
    principal: Principal,
    request: Request | None,
    plan: MigrationPlan,
    batch_size: int,
) -> MigrationReport:
    """Move every instance the plan matches, each in its own transaction: one that is blocked
    or fails is reported and the others move on."""
    with runtime.db.reader() as session:
        target = get_definition(session, plan.key, plan.target_version)
    pairs = _pairs(plan)
    reports: list[InstanceMigration] = []
    for ids in _batches(runtime, plan, target.id, batch_size):
        for instance_id in ids:
            try:
                with session_scope(runtime.db.writer) as session:
                    instance = lock(session, instance_id)
                    if instance.state not in UNFINISHED or instance.definition_id == target.id:
                        continue  # ended or moved meanwhile
                    wanted = session.get(ProcessDefinition, target.id)
                    assert wanted is not None
                    report = migrate_one(
                        session, runtime, principal, request, instance, wanted, pairs
                    )
            except XuejiError as exc:
                report = _failed(runtime, instance_id, {"error": exc.error, "detail": exc.detail})
            except Exception as exc:  # one instance's bug must not stop the others
                log.exception("migrating instance %s failed", instance_id)
                report = _failed(runtime, instance_id, {"error": type(exc).__name__})
            reports.append(report)
    with runtime.db.reader() as session:
        target = get_definition(session, plan.key, plan.target_version)
        return _summary(session, plan, target, reports)


def _failed(runtime: Runtime, instance_id: str, error: dict[str, Any]) -> InstanceMigration:
    with runtime.db.reader() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance is not None
        return InstanceMigration(
            id=instance.id,
            business_key=instance.business_key,
            version=instance.definition.version,
            state=instance.state,
            outcome="failed",
            error=error,
        )
