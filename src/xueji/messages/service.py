"""Sending a message from outside (an integration, a person): see xueji.instances.correlation
for who it reaches, and xueji.instances.flows for how it is delivered."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from xueji.auth.principal import Principal
from xueji.instances.flows import send_message
from xueji.instances.schemas import MessageResult
from xueji.runtime import Runtime


def send(
    session: Session,
    runtime: Runtime,
    principal: Principal,
    name: str,
    correlation: dict[str, Any],
    payload: dict[str, Any],
) -> MessageResult:
    """Deliver message `name` to the matching waiting instances, or start processes with it."""
    return send_message(session, runtime, principal, name, correlation, payload)
