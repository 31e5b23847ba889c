"""The inbox's line per task, written on the task's row when it is created: the process's own
description of the case (Runtime.summaries, from xueji.process_logic.summaries) completed
with the case's student and station."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xueji.models import ProcessInstance, Student, UserTask
from xueji.models.states import UserTaskState
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


def describe_open_tasks(session: Session, summaries: Mapping[str, Describe]) -> int:
    """Give the open tasks made before tasks carried summaries (migration 0018) theirs, from
    their case's newest data; returns how many were described. The rows' versions stay as
    they are (nothing a client read has changed)."""
    undescribed = session.execute(
        select(UserTask.instance_id, UserTask.id).where(
            UserTask.state == UserTaskState.READY, UserTask.summary.is_(None)
        )
    ).all()
    by_instance: dict[str, list[str]] = {}
    for instance_id, task_id in undescribed:
        by_instance.setdefault(instance_id, []).append(task_id)
    described = 0
    for instance_id, task_ids in by_instance.items():
        instance = session.get(ProcessInstance, instance_id)
        if instance is None:
            continue
        describe = summaries.get(instance.definition.key)
        values = task_summary(session, describe, instance, instance.variables or {})
        if values["summary"] is None:
            continue
        session.execute(
            update(UserTask)
            .where(UserTask.id.in_(task_ids))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        described += len(task_ids)
    return described
