"""`Audited(action)`: the mark of an administrative endpoint, and its audit trail.

Declared as a parameter (`audit: Annotated[AuditTrail, Audited("user.update")]`) or in the
route's `dependencies`. When the endpoint succeeds, one entry is appended in the request's
own transaction (before it commits): with the target, before and after the endpoint set on
the trail, or else the request's path as the target. A failed request leaves no entry, as
it leaves no change. With `by_service=True` the mark only declares it: the service the
endpoint calls appends its own entries (operations/ through audit_hooks.audited, one per
instance a migration moves). tests/audit/ finds every endpoint by this mark."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import Depends, Request

from xueji.audit.service import record
from xueji.auth.dependencies import CurrentUser
from xueji.db.dependencies import DbSession

API_PREFIX = "/api/v1"


class AuditTrail:
    def __init__(self, action: str, default_target: str) -> None:
        self.action = action
        self.target = default_target
        self.before: Any = None
        self.after: Any = None

    def set(self, target: str | None = None, before: Any = None, after: Any = None) -> None:
        if target is not None:
            self.target = target
        self.before, self.after = before, after


def Audited(action: str, by_service: bool = False) -> Any:  # noqa: N802 - a declaration
    def audit_trail(
        request: Request, session: DbSession, principal: CurrentUser
    ) -> Iterator[AuditTrail]:
        path = request.url.path.removeprefix(API_PREFIX)
        trail = AuditTrail(action, path)
        yield trail
        if not by_service:
            record(session, principal, request, action, trail.target, trail.before, trail.after)

    audit_trail.audit_action = action  # type: ignore[attr-defined]
    return Depends(audit_trail, scope="function")


def audit_action(call: Any) -> str | None:
    """The action a dependency callable audits, if it is an `Audited` one."""
    return getattr(call, "audit_action", None)
