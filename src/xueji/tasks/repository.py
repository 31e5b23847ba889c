"""Task queries, scoped to the tasks a caller may work on."""

from __future__ import annotations

from sqlalchemy import Select, and_, false, or_, select
from sqlalchemy.orm import Session

from xueji.auth.principal import Principal
from xueji.auth.roles import COLLEGE_WIDE
from xueji.errors import NotFound
from xueji.models import ProcessInstance, UserTask


def readable_by(principal: Principal, query: Select | None = None) -> Select:
    """Tasks offered to a role the caller holds, within that role's scope (admins: all)."""
    query = query if query is not None else select(UserTask)
    if principal.is_admin:
        return query
    scopes = []
    wide = sorted(principal.roles & COLLEGE_WIDE)
    if wide:
        scopes.append(UserTask.role.in_(wide))
    for role in sorted(principal.roles & {"station", "advisor"}):
        if principal.station_id is not None:
            scopes.append(and_(UserTask.role == role, UserTask.station_id == principal.station_id))
    if "student" in principal.roles and principal.student_id is not None:
        scopes.append(and_(UserTask.role == "student", UserTask.student_id == principal.student_id))
    return query.where(or_(*scopes) if scopes else false())


def get_readable(session: Session, principal: Principal, task_id: str) -> UserTask:
    task = session.scalar(readable_by(principal).where(UserTask.id == task_id))
    if task is None:
        raise NotFound(f"no task {task_id!r}")
    return task


def inbox_query(principal: Principal) -> Select:
    """READY tasks of running instances the caller may work on, oldest first."""
    query = (
        select(UserTask)
        .join(ProcessInstance, ProcessInstance.id == UserTask.instance_id)
        .where(UserTask.state == "ready", ProcessInstance.state == "running")
    )
    return readable_by(principal, query)
