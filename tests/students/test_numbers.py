"""学号: the format, one counter per intake, station and level, and numbers given only once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from xueji.models import Student
from xueji.students.numbers import (
    assign_student_number,
    counter_name,
    format_student_number,
    station_part,
)


def test_a_number_is_year_station_level_and_sequence():
    assert station_part("S01") == "001" and station_part("123") == "123"
    assert format_student_number(2027, "S01", "专升本", 42) == "202700130042"
    assert format_student_number(2027, "S02", "专科", 1) == "202700210001"
    assert len(format_student_number(2099, "999", "本科", 9999)) == 12 <= 15
    assert counter_name(2027, "S01", "本科") == "学号:2027:001:2"


@pytest.mark.parametrize(
    "call",
    [
        lambda: station_part("ZZ"),
        lambda: station_part("S1234"),
        lambda: counter_name(2027, "S01", "博士"),
        lambda: format_student_number(2027, "S01", "专科", 10_000),
        lambda: format_student_number(2027, "S01", "专科", 0),
    ],
)
def test_what_does_not_fit_the_format_is_refused(call):
    with pytest.raises(ValueError):
        call()


def test_numbers_are_given_once_in_order_and_skip_taken_ones(db):
    with db.db.writer() as session:
        students = list(session.scalars(select(Student).order_by(Student.id)))
        s01 = [s for s in students if s.station.code == "S01" and s.level == "专科"]
        s02 = [s for s in students if s.station.code == "S02"]
        for s in students:  # the registered demo students' numbers aside
            s.student_number = None
        session.flush()
        first = assign_student_number(session, s01[0])
        assert first == f"{s01[0].intake_year}00110001"
        assert assign_student_number(session, s01[0]) == first  # stable
        # a number taken by hand is skipped, never handed out twice
        s02[0].student_number = format_student_number(s01[0].intake_year, "S01", "专科", 2)
        session.flush()
        clone = Student(
            station_id=s01[0].station_id,
            name="测试",
            gender="男",
            id_number="11010519491231002X",
            level="专科",
            major="会计",
            intake_year=s01[0].intake_year,
            created_at=s01[0].created_at,
        )
        session.add(clone)
        session.flush()
        assert assign_student_number(session, clone) == f"{s01[0].intake_year}00110003"
        other = assign_student_number(session, s02[1])
        assert other.startswith(f"{s02[1].intake_year}002")
        numbers = [s.student_number for s in (s01[0], s02[0], clone, s02[1])]
        assert len(set(numbers)) == 4
        session.rollback()
