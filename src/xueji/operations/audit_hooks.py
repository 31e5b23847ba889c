"""The one door every administrative action of operations/ goes through: an entry of the
audit log (xueji.audit), and a history line of the instance it touched (kind
`admin_action`), so that the case's own history shows it too."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from xueji.audit.service import record
from xueji.auth.principal import Principal
from xueji.history.service import record_event


def audited(
    session: Session,
    principal: Principal,
    request: Request | None,
    action: str,
    target: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    *,
    instance_id: str | None = None,
) -> None:
    """Record who did `action` (instance.migrate, instance.repair.move, …) to `target`, from
    where, with the state before and after, in the caller's transaction."""
    record(session, principal, request, action, target, before, after)
    if instance_id is None:
        return
    record_event(
        session,
        instance_id,
        principal.username,
        "admin_action",
        data={
            "action": action,
            "target": target,
            "from": request.client.host if request is not None and request.client else None,
            "before": before,
            "after": after,
        },
    )
