"""GET /audit: the audit log (admins only), filtered and paged; its XLSX is
GET /exports/audit (xueji.exports)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel

from xueji.audit.service import AuditFilters, filtered
from xueji.auth.dependencies import AdminUser
from xueji.db.dependencies import DbSession
from xueji.paging import Paging

router = APIRouter(tags=["audit"])


def audit_filters(
    actor: Annotated[str | None, Query(max_length=120, description="Who (username)")] = None,
    action: Annotated[str | None, Query(max_length=60, description="e.g. user.update")] = None,
    target: Annotated[
        str | None, Query(max_length=200, description="Target prefix, e.g. user:stu1001")
    ] = None,
    since: Annotated[AwareDatetime | None, Query(alias="from", description="From (ISO)")] = None,
    until: Annotated[AwareDatetime | None, Query(alias="to", description="Before (ISO)")] = None,
) -> AuditFilters:
    return AuditFilters(actor, action, target, since, until)


Filters = Annotated[AuditFilters, Depends(audit_filters)]


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: str
    address: str | None
    action: str
    target: str
    before: Any
    after: Any


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    total: int
    page: int
    per_page: int


@router.get("/audit", response_model=AuditPage)
def list_audit(
    principal: AdminUser, session: DbSession, filters: Filters, paging: Paging
) -> AuditPage:
    """Administrative actions, newest first, by actor, action, target prefix and time."""
    rows, total = paging.fetch(session, filtered(filters))
    return AuditPage(
        items=[AuditEntryOut.model_validate(r, from_attributes=True) for r in rows],
        total=total,
        page=paging.page,
        per_page=paging.per_page,
    )
