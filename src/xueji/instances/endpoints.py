"""Process instances: start, list, detail, history, suspend/resume/terminate."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select

from xueji.auth.dependencies import AdminUser, CurrentUser, require_roles
from xueji.auth.principal import Principal
from xueji.db.dependencies import DbSession
from xueji.definitions.repository import get_definition
from xueji.instances import service
from xueji.instances.repository import get_readable, readable_by
from xueji.instances.schemas import (
    HistoryItem,
    IncidentItem,
    InstanceDetail,
    InstanceItem,
    InstancePage,
    StartBody,
)
from xueji.models import (
    HistoryEvent,
    Incident,
    ProcessDefinition,
    ProcessInstance,
    Station,
    UserTask,
)
from xueji.paging import Paging
from xueji.runtime_dep import AppRuntime
from xueji.tasks.repository import readable_by as tasks_readable_by
from xueji.tasks.schemas import task_item

router = APIRouter(tags=["instances"])

NOT_FOUND = {404: {"description": "No such instance, or not yours to see"}}


def instance_item(instance: ProcessInstance) -> InstanceItem:
    return InstanceItem(
        id=instance.id,
        key=instance.definition.key,
        version=instance.definition.version,
        name=instance.definition.name,
        state=instance.state,
        business_key=instance.business_key,
        station=instance.station.code if instance.station else None,
        student=instance.student_id,
        parent_id=instance.parent_id,
        started_by=instance.started_by,
        started_at=instance.started_at,
        updated_at=instance.updated_at,
        ended_at=instance.ended_at,
    )


def instance_detail(session, principal: Principal, instance: ProcessInstance) -> InstanceDetail:
    tasks = session.scalars(
        tasks_readable_by(principal)
        .where(UserTask.instance_id == instance.id, UserTask.state == "ready")
        .order_by(UserTask.created_at)
    )
    children = session.scalars(
        select(ProcessInstance.id).where(ProcessInstance.parent_id == instance.id)
    )
    incidents = []
    if principal.is_admin:
        incidents = [
            {
                "id": i.id,
                "element_id": i.element_id,
                "message": i.message,
                "created_at": i.created_at.isoformat(),
            }
            for i in session.scalars(select(Incident).where(Incident.instance_id == instance.id))
        ]
    return InstanceDetail(
        **instance_item(instance).model_dump(),
        variables=instance.variables,
        active_tasks=[task_item(t) for t in tasks],
        pending_timers=[],
        children=list(children),
        incidents=incidents,
    )


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
def start_process(
    key: str, body: StartBody, session: DbSession, principal: CurrentUser, runtime: AppRuntime
) -> InstanceDetail:
    """Start the latest version of a process with the start form's variables."""
    definition = get_definition(session, key)
    instance = service.start_instance(
        session, runtime, principal, definition, body.business_key, body.variables
    )
    return instance_detail(session, principal, instance)


@router.get("/process-instances", response_model=InstancePage)
def list_instances(
    session: DbSession,
    principal: CurrentUser,
    paging: Paging,
    key: str | None = None,
    state: str | None = None,
    business_key: str | None = None,
    student: int | None = None,
    station: str | None = None,
    parent: str | None = None,
) -> InstancePage:
    """Instances the caller may see, oldest first, with filters."""
    query = readable_by(principal).join(ProcessDefinition)
    if key:
        query = query.where(ProcessDefinition.key == key)
    if state:
        query = query.where(ProcessInstance.state == state)
    if business_key:
        query = query.where(ProcessInstance.business_key == business_key)
    if student is not None:
        query = query.where(ProcessInstance.student_id == student)
    if station:
        query = query.where(
            ProcessInstance.station_id
            == select(Station.id).where(Station.code == station).scalar_subquery()
        )
    if parent:
        query = query.where(ProcessInstance.parent_id == parent)
    rows, total = paging.fetch(
        session, query.order_by(ProcessInstance.started_at, ProcessInstance.id)
    )
    return InstancePage(
        items=[instance_item(r) for r in rows],
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
    events = session.scalars(
        select(HistoryEvent)
        .where(HistoryEvent.instance_id == instance_id)
        .order_by(HistoryEvent.id)
    )
    return [HistoryItem.model_validate(e, from_attributes=True) for e in events]


Manager = Depends(require_roles("registrar"))
LIFECYCLE = {
    **NOT_FOUND,
    403: {"description": "Registrars and admins only"},
    409: {"description": "Not in a state that allows it"},
}


@router.post(
    "/process-instances/{instance_id}/suspend", response_model=InstanceDetail, responses=LIFECYCLE
)
def suspend_instance(instance_id: str, session: DbSession, principal: Principal = Manager):
    """Suspend a running instance: its tasks leave the inbox until it is resumed."""
    get_readable(session, principal, instance_id)
    return instance_detail(session, principal, service.suspend(session, principal, instance_id))


@router.post(
    "/process-instances/{instance_id}/resume", response_model=InstanceDetail, responses=LIFECYCLE
)
def resume_instance(instance_id: str, session: DbSession, principal: Principal = Manager):
    """Resume a suspended instance."""
    get_readable(session, principal, instance_id)
    return instance_detail(session, principal, service.resume(session, principal, instance_id))


@router.post(
    "/process-instances/{instance_id}/terminate", response_model=InstanceDetail, responses=LIFECYCLE
)
def terminate_instance(
    instance_id: str, session: DbSession, runtime: AppRuntime, principal: Principal = Manager
):
    """Terminate an instance: open tasks are cancelled; it cannot be resumed."""
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
    """Failed engine steps (rolled back), newest last."""
    query = select(Incident).order_by(Incident.id)
    if open_only:
        query = query.where(Incident.resolved_at.is_(None))
    return [IncidentItem.model_validate(i, from_attributes=True) for i in session.scalars(query)]
