"""Student numbers (学号, XH): assigned once by the college in process 2, never changed.

Format, 12 digits (XH allows 15):

    YYYY  SSS  L  NNNN
    2027  001  3  0042

- `YYYY` the intake year (入学年份);
- `SSS`  the station number: the digits of the station code, zero-padded (`S01` → `001`);
- `L`    the level: 1 专科, 2 本科, 3 专升本;
- `NNNN` a sequence per intake year, station number and level, handed out by the
  `Sequence` counter `学号:YYYY:SSS:L`, so two registrations never get the same value.

A number that is taken already (entered by hand, or imported) is skipped, not reused.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from xueji.models import Station, Student
from xueji.students.records import next_number

LEVEL_DIGITS = {"专科": "1", "本科": "2", "专升本": "3"}
SEQUENCE_DIGITS = 4


def station_part(station_code: str) -> str:
    """The three-digit station number of a station code (`S01` → `001`)."""
    digits = "".join(c for c in station_code if c.isdigit())
    if not digits or len(digits) > 3:
        raise ValueError(f"station code {station_code!r} needs one to three digits for 学号")
    return digits.zfill(3)


def counter_name(intake_year: int, station_code: str, level: str) -> str:
    """The name of the counter that numbers one intake, station and level."""
    if level not in LEVEL_DIGITS:
        raise ValueError(f"unknown level {level!r}")
    return f"学号:{intake_year}:{station_part(station_code)}:{LEVEL_DIGITS[level]}"


def format_student_number(intake_year: int, station_code: str, level: str, sequence: int) -> str:
    """The 学号 of the `sequence`-th student of an intake, station and level."""
    if not 1 <= sequence < 10**SEQUENCE_DIGITS:
        raise ValueError(f"sequence {sequence} does not fit {SEQUENCE_DIGITS} digits")
    prefix = counter_name(intake_year, station_code, level).split(":", 1)[1].replace(":", "")
    return f"{prefix}{sequence:0{SEQUENCE_DIGITS}d}"


def assign_student_number(session: Session, student: Student) -> str:
    """The student's 学号: the one it has, else the next free one of its intake, station, level."""
    if student.student_number:
        return student.student_number
    station_code = session.get(Station, student.station_id).code
    name = counter_name(student.intake_year, station_code, student.level)
    while True:
        number = format_student_number(
            student.intake_year, station_code, student.level, next_number(session, name)
        )
        taken = session.scalar(select(Student.id).where(Student.student_number == number))
        if taken is None:
            student.student_number = number
            return number
