"""The registry of service task operators: `@service("name")` on a function of process logic.

A service runs inside the engine step's transaction and receives the step explicitly:
`def open_checkin(step: StepContext, data: dict, **params)`; it changes records through the
record domains' services and raises `xueji.errors.ServiceError` with a sentence for the user
when a business rule refuses the step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

Service = Callable[..., Any]
F = TypeVar("F", bound=Service)

SERVICES: dict[str, Service] = {}


def service(name: str) -> Callable[[F], F]:
    """Register a function as the service task operator `name`."""

    def register(func: F) -> F:
        if name in SERVICES:
            raise ValueError(f"service {name!r} is registered twice")
        SERVICES[name] = func
        return func

    return register


@service("echo")
def echo(_step: Any, data: dict[str, Any], **params: Any) -> dict[str, Any]:
    """Returns its parameters; for diagrams that test the service-task path."""
    return params
