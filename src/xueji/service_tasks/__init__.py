"""Service tasks: plain Python that diagrams call by name (spiffworkflow:serviceTaskOperator).

Business logic that touches records lives here, not in scripts. A service runs inside the
engine step's transaction: `current_step()` gives it the session, the instance and the actor.
Each module of this package registers its services with `@service("name")`; all modules are
imported below, so adding a module is all it takes.
"""

from __future__ import annotations

import importlib
import pkgutil
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
    # The Runtime (xueji.runtime): for services that start other processes.
    runtime: Any = None


_current: ContextVar[StepContext | None] = ContextVar("current_step", default=None)

SERVICES: dict[str, Callable[..., Any]] = {}


class ServiceError(Exception):
    """A service task could not do its work; the step fails and rolls back with this message."""


def current_step() -> StepContext:
    step = _current.get()
    if step is None:
        raise ServiceError("service tasks run only inside an engine step")
    return step


def service(name: str):
    """Register a function as the service task operator `name`."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        if name in SERVICES:
            raise ValueError(f"service {name!r} is registered twice")
        SERVICES[name] = func
        return func

    return register


@service("echo")
def echo(data: dict[str, Any], **params: Any) -> dict[str, Any]:
    """Returns its parameters; for diagrams that test the service-task path."""
    return params


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
