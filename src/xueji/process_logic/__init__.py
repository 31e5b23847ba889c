"""Process logic: the Python that diagrams call by name (spiffworkflow:serviceTaskOperator),
one module per process (or family of processes), each calling the record domains only.

The modules register their operators with `@service` (registry.py); `registered_services()`
imports them all and is called once, when the runtime is built (xueji.wiring).
"""

from __future__ import annotations

import importlib

from xueji.process_logic.registry import SERVICES, Service

MODULES = (
    "daily_records",
    "enrollment",
    "grade_management",
    "graduation_registration",
    "overdue",
    "photos",
    "status_change",
    "teaching_management",
)


def registered_services() -> dict[str, Service]:
    """Every service task operator by name."""
    for module in MODULES:
        importlib.import_module(f"{__name__}.{module}")
    return dict(SERVICES)
