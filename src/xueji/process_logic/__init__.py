"""Process logic: the Python that diagrams call by name (spiffworkflow:serviceTaskOperator),
one module per process, named by its key (overdue.py: the deadline reminders every process
shares; documents.py: storing generated documents; check_results.py: 正确 refused while a
batch's checks found problems), each calling the record domains only.

The modules register their operators with `@service` (registry.py); `registered_services()`
imports them all and is called once, when the runtime is built (xueji.wiring).
"""

from __future__ import annotations

import importlib

from xueji.process_logic.registry import SERVICES, Service

MODULES = (
    "enrollment_checkin",
    "enrollment_registration",
    "daily_records",
    "status_change",
    "photo_collection",
    "photo_verification",
    "graduation_registration",
    "grade_management",
    "thesis",
    "teaching_management",
    "overdue",
    "check_results",
)


def registered_services() -> dict[str, Service]:
    """Every service task operator by name."""
    for module in MODULES:
        importlib.import_module(f"{__name__}.{module}")
    return dict(SERVICES)
