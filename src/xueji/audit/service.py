"""Appending to the audit log, and reading it back with filters.

`record()` is the one way in: it adds the row to the caller's session, so the entry commits
with the action it describes, or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fastapi import Request
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.principal import Principal
from xueji.models import AuditEntry

# Keys whose values never go into the log (passwords, secrets, token texts).
SECRET_KEYS = frozenset(
    {"password", "current_password", "new_password", "secret", "token", "access_token"}
)


def redact(value: Any) -> Any:
    """The value as JSON with every secret-looking key's value replaced by "***"."""
    if isinstance(value, dict):
        return {
            str(k): "***" if str(k).lower() in SECRET_KEYS else redact(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def client_address(request: Request | None) -> str | None:
    """The client's address as the server saw it (behind a proxy: uvicorn --proxy-headers)."""
    if request is None or request.client is None:
        return None
    return request.client.host[:64]


def record(
    session: Session,
    principal: Principal | str,
    request: Request | None,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    """Append one entry for `action` on `target` by `principal` (or a name, e.g. "cli")."""
    actor = principal if isinstance(principal, str) else principal.username
    entry = AuditEntry(
        at=clock.now(),
        actor=actor[:120],
        address=client_address(request),
        action=action,
        target=target[:200],
        before=redact(before),
        after=redact(after),
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass
class AuditFilters:
    actor: str | None = None
    action: str | None = None
    target: str | None = None  # a prefix: "user:" finds every user's entries
    since: datetime | None = None
    until: datetime | None = None


def filtered(filters: AuditFilters) -> Select:
    """Entries matching the filters, newest first."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if filters.actor:
        query = query.where(AuditEntry.actor == filters.actor)
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.target:
        query = query.where(AuditEntry.target.startswith(filters.target, autoescape=True))
    if filters.since:
        query = query.where(AuditEntry.at >= filters.since)
    if filters.until:
        query = query.where(AuditEntry.at < filters.until)
    return query
