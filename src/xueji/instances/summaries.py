"""The inbox's line per task, written on the task's row when it is created: the process's own
description of the case (Runtime.summaries, from xueji.process_logic.summaries) completed
with the case's student and station."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from xueji.models import ProcessInstance, Student
from xueji.runtime import Describe

# The widths of the row's columns.
SUMMARY_LENGTH, KIND_LENGTH, NAME_LENGTH = 300, 40, 80


def task_summary(
    session: Session,
    describe: Describe | None,
    instance: ProcessInstance,
    variables: dict[str, Any],
) -> dict[str, str | None]:
    """The `summary`, `kind` and `subject_name` columns of the instance's new tasks."""
    kind, parts, name = describe(variables) if describe else (None, [], None)
    student = session.get(Student, instance.student_id) if instance.student_id else None
    if student is not None:
        name = student.name
    station = instance.station
    who = name or ""
    if station is not None:
        who = f"{who} ({station.code} {station.name})".strip()
    line = " · ".join(text for text in [kind, *parts, who] if text)
    return {
        "summary": line[:SUMMARY_LENGTH] or None,
        "kind": kind[:KIND_LENGTH] if kind else None,
        "subject_name": name[:NAME_LENGTH] if name else None,
    }
