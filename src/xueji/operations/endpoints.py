"""Administrators' operations on running cases: migrations, repairs, incident actions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from xueji.audit.dependencies import Audited
from xueji.auth.dependencies import AdminUser
from xueji.db.dependencies import DbSession
from xueji.instances.schemas import IncidentItem, InstanceDetail, instance_detail
from xueji.operations import migration, repair
from xueji.operations.schemas import (
    IncidentAction,
    MigrationPlan,
    MigrationReport,
    MigrationRun,
    MoveBody,
    VariableBody,
)
from xueji.paging import RowId
from xueji.runtime import AppRuntime

router = APIRouter(tags=["operations"])

ADMINS: dict[int | str, dict[str, Any]] = {403: {"description": "Admins only"}}
REPAIR: dict[int | str, dict[str, Any]] = {
    **ADMINS,
    404: {"description": "No such instance"},
    409: {"description": "The case is finished, or moved on meanwhile"},
    422: {"description": "The element or value does not apply to this case"},
}


@router.post(
    "/migrations/dry-run",
    response_model=MigrationReport,
    responses={**ADMINS, 404: {"description": "No such definition version"}},
)
def dry_run(
    plan: MigrationPlan, session: DbSession, runtime: AppRuntime, principal: AdminUser
) -> MigrationReport:
    """Per instance the plan matches: which active elements would move where, and what
    blocks it (an element without a target, a waiting call or timer that cannot move, a
    target form whose required data the case lacks). Nothing is changed."""
    return migration.dry_run(session, runtime, plan)


@router.post(
    "/migrations",
    dependencies=[Audited("instance.migrate", by_service=True)],
    response_model=MigrationReport,
    responses={**ADMINS, 404: {"description": "No such definition version"}},
)
def run_migration(
    plan: MigrationRun,
    request: Request,
    session: DbSession,
    runtime: AppRuntime,
    principal: AdminUser,
) -> MigrationReport:
    """Move the instances the plan matches to the target version, `batch_size` read at a
    time and each in its own transaction: a blocked or failing one is reported, the others
    move on. Each moved instance gets a history line and an audit entry."""
    # This request writes nothing of its own; ending its transaction (which took SQLite's
    # write lock when it authenticated the caller) lets each instance's transaction begin.
    session.commit()
    return migration.execute(runtime, principal, request, plan, plan.batch_size)


@router.post(
    "/process-instances/{instance_id}/move",
    dependencies=[Audited("instance.repair.move", by_service=True)],
    response_model=InstanceDetail,
    responses=REPAIR,
)
def move_instance(
    instance_id: str,
    body: MoveBody,
    request: Request,
    session: DbSession,
    runtime: AppRuntime,
    principal: AdminUser,
) -> InstanceDetail:
    """Start an element the case has passed again (e.g. move it back one step): the steps
    after it are cancelled and the case goes on from there."""
    instance = repair.move(session, runtime, principal, request, instance_id, body.element_id)
    return instance_detail(session, principal, instance)


@router.put(
    "/process-instances/{instance_id}/variables/{name}",
    dependencies=[Audited("instance.repair.set_variable", by_service=True)],
    response_model=InstanceDetail,
    responses=REPAIR,
)
def set_variable(
    instance_id: str,
    name: str,
    body: VariableBody,
    request: Request,
    session: DbSession,
    runtime: AppRuntime,
    principal: AdminUser,
) -> InstanceDetail:
    """Set or correct a variable of an unfinished case, validated like task data (by every
    form field of the definition with that name)."""
    instance = repair.set_variable(
        session, runtime, principal, request, instance_id, name, body.value
    )
    return instance_detail(session, principal, instance)


@router.post(
    "/incidents/{incident_id}/resolve",
    dependencies=[Audited("incident.resolve", by_service=True)],
    response_model=IncidentItem,
    responses={
        **ADMINS,
        404: {"description": "No such incident"},
        409: {"description": "Resolved already, or the case moved on"},
        422: {"description": "The action does not apply to this incident"},
    },
)
def resolve_incident(
    incident_id: RowId,
    body: IncidentAction,
    request: Request,
    session: DbSession,
    runtime: AppRuntime,
    principal: AdminUser,
) -> IncidentItem:
    """Resolve an incident: retry a failed step (after correcting its data) or skip the
    element that failed; retry a failed timer; for a caller whose child was terminated,
    retry the child, skip it with outputs, or terminate the caller; or dismiss it."""
    incident = repair.resolve(
        session, runtime, principal, request, incident_id, body.action, body.outputs
    )
    return IncidentItem.model_validate(incident, from_attributes=True)
