"""Instance queries, scoped to what a caller may read."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from xueji.auth.principal import Principal, scope_filter
from xueji.errors import NotFound
from xueji.models import ProcessInstance


def readable_by(principal: Principal, query: Select | None = None) -> Select:
    """Instances the caller may see: everything for college-wide roles, else own station/self."""
    query = query if query is not None else select(ProcessInstance)
    clause = scope_filter(principal, ProcessInstance.station_id, ProcessInstance.student_id)
    return query if clause is None else query.where(clause)


def get_readable(session: Session, principal: Principal, instance_id: str) -> ProcessInstance:
    instance = session.scalar(readable_by(principal).where(ProcessInstance.id == instance_id))
    if instance is None:
        raise NotFound(f"no process instance {instance_id!r}")
    return instance


def lock(session: Session, instance_id: str) -> ProcessInstance:
    """The instance row, locked for this transaction (PostgreSQL; SQLite has one writer)."""
    instance = session.scalar(
        select(ProcessInstance)
        .where(ProcessInstance.id == instance_id)
        .with_for_update(of=ProcessInstance)
        .execution_options(populate_existing=True)
    )
    if instance is None:
        raise NotFound(f"no process instance {instance_id!r}")
    return instance
