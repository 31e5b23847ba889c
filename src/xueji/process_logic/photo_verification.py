"""6 电子图像校对: each student checks their published photo and record; a wrong photo is
taken again, other wrong information goes back to the station.
"""

from __future__ import annotations

from typing import Any

from xueji.instances.context import StepContext
from xueji.process_logic.photo_collection import VERIFIED, photo_student, set_photo
from xueji.process_logic.registry import service


@service("photo_student_info")
def photo_student_info(step: StepContext, data: dict[str, Any], student: int) -> dict[str, Any]:
    """The record fields a student checks before signing (学生核实个人信息)."""
    row = photo_student(step.session, student)
    return {
        "student_number": row.student_number,
        "name": row.name,
        "gender": row.gender,
        "id_number": row.id_number,
        "level": row.level,
        "major": row.major,
        "station": row.station.name,
    }


@service("photo_retaken")
def photo_retaken(step: StepContext, data: dict[str, Any], student: int) -> int | None:
    """Replace the student's photo with the one the agency re-took or fixed, if it sent one."""
    session = step.session
    row = photo_student(session, student)
    set_photo(session, row, row.photo_status, data.get("photo_upload"))
    return row.photo_upload_id


@service("photo_verified")
def photo_verified(step: StepContext, data: dict[str, Any], student: int) -> dict[str, Any]:
    """Mark the student's photo 已校对: usable for the graduates' registration (process 7)."""
    session = step.session
    row = photo_student(session, student)
    set_photo(session, row, VERIFIED, None)
    return {"student": row.id, "photo_status": row.photo_status}
