"""Service tasks: plain Python that diagrams call by name (spiffworkflow:serviceTaskOperator).

Business logic that touches records lives here, not in scripts. A service runs inside the
engine step's transaction: `current_step` gives it the session and the instance.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class StepContext:
    session: Session
    instance_id: str
    actor: str


current_step: ContextVar[StepContext | None] = ContextVar("current_step", default=None)

SERVICES: dict[str, Callable[..., Any]] = {}


def service(name: str):
    """Register a function as the service task operator `name`."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        SERVICES[name] = func
        return func

    return register


@service("echo")
def echo(data: dict[str, Any], **params: Any) -> dict[str, Any]:
    """Returns its parameters; for diagrams that test the service-task path."""
    return params
