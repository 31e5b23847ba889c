"""Process instances: start, list, detail, history, suspend/resume/terminate."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response

from xueji.audit.dependencies import Audited
from xueji.auth.dependencies import AdminUser, CurrentUser, require_roles
from xueji.auth.principal import Principal
from xueji.auth.roles import Role
from xueji.db.dependencies import DbSession, committed
from xueji.definitions.repository import get_definition
from xueji.events.outcomes import latest_outcomes
from xueji.instances import repository, service
from xueji.instances.repository import get_readable
from xueji.instances.schemas import (
    HistoryItem,
    IncidentItem,
    InstanceDetail,
    InstancePage,
    StartBody,
    instance_detail,
    instance_item,
)
from xueji.instances.steps import children_of
from xueji.paging import IdFilter, Paging
from xueji.runtime import AppRuntime

router = APIRouter(tags=["instances"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such instance, or not yours to see"}
}


@router.post(
    "/process-definitions/{key}/start",
    status_code=201,
    response_model=InstanceDetail,
    responses={
        403: {"description": "Your roles may not start it"},
        404: {"description": "No such definition"},
        422: {"description": "Start form invalid, or the first step failed"},
    },
)
async def start_process(
    key: str, body: StartBody, session: DbSession, principal: CurrentUser, runtime: AppRuntime
) -> InstanceDetail:
    """Start the latest version of a process with the start form's variables."""

    def work() -> InstanceDetail:
        definition = get_definition(session, key)
        instance, attached = service.start_instance(
            session, runtime, principal, definition, body.business_key, body.variables
        )
        return instance_detail(
            session,
            principal,
            instance,
            children=children_of(session, runtime, instance),
            attachments=None if attached else [],
        )

    return await committed(session, work)


@router.get("/process-instances", response_model=InstancePage)
def list_instances(
    session: DbSession,
    principal: CurrentUser,
    paging: Paging,
    key: str | None = None,
    state: str | None = None,
    business_key: str | None = None,
    student: IdFilter = None,
    station: str | None = None,
    parent: str | None = None,
) -> InstancePage:
    """Instances the caller may see, oldest first, with filters (`business_key` is a prefix);
    each with the outcome of its newest review (审批结果 and reason)."""
    query = repository.filtered_instances(
        principal,
        key=key,
        state=state,
        business_key=business_key,
        student=student,
        station=station,
        parent=parent,
    )
    rows, total = paging.fetch(session, query)
    found = latest_outcomes(session, [r.id for r in rows])
    return InstancePage(
        items=[instance_item(r, found.get(r.id)) for r in rows],
        total=total,
        page=paging.page,
        per_page=paging.per_page,
    )


@router.get("/process-instances/{instance_id}", response_model=InstanceDetail, responses=NOT_FOUND)
def get_instance(instance_id: str, session: DbSession, principal: CurrentUser) -> InstanceDetail:
    """An instance: state, variables, active tasks, children."""
    return instance_detail(session, principal, get_readable(session, principal, instance_id))


@router.get(
    "/process-instances/{instance_id}/history",
    response_model=list[HistoryItem],
    responses=NOT_FOUND,
)
def get_history(instance_id: str, session: DbSession, principal: CurrentUser) -> list[HistoryItem]:
    """Every step of an instance: who, what, when, with what data."""
    get_readable(session, principal, instance_id)
    events = repository.history_of(session, instance_id)
    names = repository.display_names(session, {e.actor for e in events})
    return [
        HistoryItem.model_validate(e, from_attributes=True).model_copy(
            update={"actor_name": names.get(e.actor)}
        )
        for e in events
    ]


Manager = Depends(require_roles(Role.REGISTRAR))
LIFECYCLE: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    403: {"description": "Registrars and admins only"},
    409: {"description": "Not in a state that allows it"},
}


@router.post(
    "/process-instances/{instance_id}/suspend",
    dependencies=[Audited("instance.suspend")],
    response_model=InstanceDetail,
    responses=LIFECYCLE,
)
def suspend_instance(instance_id: str, session: DbSession, principal: Principal = Manager):
    """Suspend a running instance: its tasks leave the inbox until it is resumed."""
    get_readable(session, principal, instance_id)
    return instance_detail(session, principal, service.suspend(session, principal, instance_id))


@router.post(
    "/process-instances/{instance_id}/resume",
    dependencies=[Audited("instance.resume")],
    response_model=InstanceDetail,
    responses=LIFECYCLE,
)
def resume_instance(instance_id: str, session: DbSession, principal: Principal = Manager):
    """Resume a suspended instance."""
    get_readable(session, principal, instance_id)
    return instance_detail(session, principal, service.resume(session, principal, instance_id))


@router.post(
    "/process-instances/{instance_id}/terminate",
    dependencies=[Audited("instance.terminate")],
    response_model=InstanceDetail,
    responses=LIFECYCLE,
)
def terminate_instance(
    instance_id: str, session: DbSession, runtime: AppRuntime, principal: Principal = Manager
):
    """Terminate an instance and its running children: open tasks are cancelled; it cannot be
    resumed. A terminated child's caller gets an incident (see POST /incidents/{id}/resolve)."""
    get_readable(session, principal, instance_id)
    instance = service.terminate(session, runtime, principal, instance_id)
    return instance_detail(session, principal, instance)


@router.get(
    "/process-instances/{instance_id}/xml",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}, **NOT_FOUND},
)
def get_instance_xml(instance_id: str, session: DbSession, principal: CurrentUser) -> Response:
    """The diagram of the definition version this instance runs on."""
    instance = get_readable(session, principal, instance_id)
    return Response(instance.definition.xml.encode("utf-8"), media_type="application/xml")


@router.get(
    "/incidents", response_model=list[IncidentItem], responses={403: {"description": "Admins only"}}
)
def list_incidents(
    session: DbSession, principal: AdminUser, open_only: bool = True
) -> list[IncidentItem]:
    """Failed engine steps (rolled back) and callers waiting on ended children, oldest first."""
    return [
        IncidentItem.model_validate(i, from_attributes=True)
        for i in repository.incidents(session, open_only=open_only)
    ]
