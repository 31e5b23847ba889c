"""Changing the record: status with its dated history, numbers handed out once.

Service tasks call these inside the engine step's transaction; nothing here commits.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xueji import clock
from xueji.models import Major, Sequence, StatusChange, Student

STATUSES = ("在籍", "已注册", "休学", "退学", "毕业", "结业", "肄业", "留级", "入学资格取消")


def set_status(
    session: Session,
    student: Student,
    to_status: str,
    *,
    actor: str,
    instance_id: str | None = None,
    kind: str | None = None,
    reason: str | None = None,
    effective_on: date | None = None,
    details: dict[str, Any] | None = None,
) -> StatusChange:
    """Change a student's status (or record a change of other fields with the same status)."""
    if to_status not in STATUSES:
        raise ValueError(f"unknown status {to_status!r}")
    now = clock.now()
    change = StatusChange(
        student_id=student.id,
        from_status=student.status,
        to_status=to_status,
        kind=kind,
        reason=reason,
        effective_on=effective_on,
        details=details,
        instance_id=instance_id,
        changed_by=actor,
        changed_at=now,
    )
    student.status = to_status
    student.updated_at = now
    session.add(change)
    return change


def next_number(session: Session, name: str) -> int:
    """The next value of a named counter; each value is handed out once, even under races."""
    if session.get(Sequence, name) is None:
        try:
            with session.begin_nested():  # another transaction may create it at the same time
                session.add(Sequence(name=name, value=0))
        except IntegrityError:
            pass
    # The UPDATE takes the row lock on PostgreSQL (SQLite writers are serialised already).
    session.execute(update(Sequence).where(Sequence.name == name).values(value=Sequence.value + 1))
    return session.scalar(
        select(Sequence.value)
        .where(Sequence.name == name)
        .execution_options(populate_existing=True)
    )


def student_in_step(session: Session, student_id: int | None) -> Student:
    if student_id is None:
        raise LookupError("this process instance is about no student")
    student = session.get(Student, student_id)
    if student is None:
        raise LookupError(f"no student {student_id}")
    return student


def find_major(
    session: Session, level: str, *, code: str | None = None, name: str | None = None
) -> Major | None:
    """The major of a level (专科, 本科, 专升本) by its code, or else by its name."""
    query = select(Major).where(Major.level == level)
    query = query.where(Major.code == code) if code else query.where(Major.name == name)
    return session.scalar(query)
