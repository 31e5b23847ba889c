"""The checks of a row of the college's flat files (招生录取库, 标准库, grade sheets), shared by
the imports and the process steps that take these files (2, 7, 8): columns described once,
each row checked by itself (required, lengths, code tables, dates, ID numbers with their
birth date), values unique in the file, and what the records know (stations, majors, courses)
looked up once per file, not once per row.

A problem names the row (the caller's numbering: the student's index in process 2, the sheet
line in an import), the column and the reason in Chinese.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from xueji.models import Admission, Course, Major, Station
from xueji.students.id_numbers import birth_date, id_number_problem


@dataclass(frozen=True)
class Column:
    """One column of a file: its national short name, its Chinese name and what it holds."""

    key: str
    label: str
    required: bool = False
    max_length: int | None = None
    codes: tuple[str, ...] | None = None
    # text | date (YYYYMMDD) | id_number | years (学制, e.g. 2.5) | year | score (0–100) |
    # certificate (18 digits) | term (2027-春)
    kind: str = "text"


def yyyymmdd(day: date | None) -> str:
    return day.strftime("%Y%m%d") if day else ""


def parse_yyyymmdd(text: str) -> date | None:
    """The date of a `YYYYMMDD` value, or None when it is not one."""
    if not re.fullmatch(r"\d{8}", text or ""):
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def problem(index: int, row: Mapping[str, str], column: str | None, message: str) -> dict:
    """One problem of a row, as the person who sent the file reads it."""
    return {
        "row": index,
        "KSH": row.get("KSH", ""),
        "XM": row.get("XM", ""),
        "column": column,
        "message": message,
    }


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _value_problem(column: Column, value: str) -> str | None:
    if column.max_length is not None and len(value) > column.max_length:
        return f"超过 {column.max_length} 个字符"
    if column.codes is not None and value not in column.codes:
        return f"“{value}”不在代码表中"
    if column.kind == "date" and parse_yyyymmdd(value) is None:
        return "日期应为 YYYYMMDD"
    if column.kind == "years" and not ((_number(value) or 0) > 0):
        return "学制应为年数，如 2.5"
    if column.kind == "year" and not re.fullmatch(r"(19|20)\d\d", value):
        return "应为四位年份，如 2027"
    if column.kind == "certificate" and not re.fullmatch(r"\d{18}", value):
        return "证书编号应为 18 位数字"
    if column.kind == "term" and not re.fullmatch(r"(19|20)\d\d-[春秋]", value):
        return "学期应写作如 2027-春"
    if column.kind == "score":
        score = _number(value)
        if score is None or not 0 <= score <= 100:
            return "成绩应为 0 到 100 之间的数"
    if column.kind == "id_number" and (reason := id_number_problem(value)):
        return reason
    return None


def check_row(columns: Sequence[Column], index: int, row: Mapping[str, str]) -> list[dict]:
    """What is wrong with one row by itself; CSRQ must be the birth date in SFZH."""
    found = []
    for column in columns:
        value = row.get(column.key, "")
        if not value:
            if column.required:
                found.append(problem(index, row, column.key, "必填项为空"))
        elif message := _value_problem(column, value):
            found.append(problem(index, row, column.key, message))
    id_number, born = row.get("SFZH", ""), row.get("CSRQ", "")
    if id_number and born and not id_number_problem(id_number):
        if born != yyyymmdd(birth_date(id_number)):
            found.append(problem(index, row, "CSRQ", "出生日期与身份证号中的不一致"))
    return found


def duplicates(
    rows: Sequence[Mapping[str, str]], keys: Iterable[str], lines: Sequence[int] | None = None
) -> list[dict]:
    """Values of the `keys` columns that occur more than once in the file (a key may be a
    tuple of columns, e.g. a grade's 学号, course, term and attempt: reported on its first)."""
    found = []
    numbers = lines if lines is not None else range(1, len(rows) + 1)
    for key in keys:
        parts = key.split("+")
        first: dict[tuple[str, ...], int] = {}
        for index, row in zip(numbers, rows, strict=True):
            value = tuple(row.get(part, "") for part in parts)
            if not all(value):
                continue
            if value in first:
                found.append(problem(index, row, parts[0], f"与第 {first[value]} 行重复"))
            else:
                first[value] = index
    return found


def check_rows(
    columns: Sequence[Column],
    rows: Sequence[Mapping[str, str]],
    unique: Iterable[str] = (),
    lines: Sequence[int] | None = None,
) -> list[dict]:
    """Every row checked by itself, and the `unique` columns unique in the file; by row."""
    numbers = lines if lines is not None else range(1, len(rows) + 1)
    found = [
        p for index, row in zip(numbers, rows, strict=True) for p in check_row(columns, index, row)
    ]
    found += duplicates(rows, unique, lines)
    return sorted(found, key=lambda p: p["row"])


# The columns a registration row must share with its admission (招生录取库), and the fields.
AUDITED = {"XM": "name", "XB": "gender", "SFZH": "id_number", "ZYMC": "major"}


def admission_problems(
    index: int, row: Mapping[str, str], admission: Admission, level: str
) -> list[dict]:
    """A row against its admission: the same name, gender, ID number, major and level."""
    found = []
    for column, field in AUDITED.items():
        if row.get(column, "") != getattr(admission, field):
            recorded = getattr(admission, field)
            found.append(problem(index, row, column, f"与招生录取库不一致（录取库：{recorded}）"))
    if level != admission.level:
        found.append(problem(index, row, "CC", f"与招生录取库不一致（录取库：{admission.level}）"))
    return found


class References:
    """What the records know that rows name — stations, majors, courses — read once."""

    def __init__(self, session: Session):
        self.stations: dict[str, Station] = {}
        for station in session.scalars(select(Station)):
            self.stations[station.code] = station
            self.stations.setdefault(station.name, station)
        self._majors_by_code: dict[tuple[str, str], Major] = {}
        self._majors_by_name: dict[tuple[str, str], Major] = {}
        for major in session.scalars(select(Major)):
            self._majors_by_code[(major.level, major.code)] = major
            self._majors_by_name.setdefault((major.level, major.name), major)
        self.courses: dict[str, Course] = {c.code: c for c in session.scalars(select(Course))}

    def station(self, code_or_name: str) -> Station | None:
        return self.stations.get(code_or_name)

    def major(self, level: str, *, code: str = "", name: str = "") -> Major | None:
        """The major of a level by its code, or else by its name."""
        if code:
            return self._majors_by_code.get((level, code))
        return self._majors_by_name.get((level, name))

    def major_problems(self, index: int, row: Mapping[str, str], level: str) -> list[dict]:
        """ZYDM (when given) and ZYMC must name one major of the level in the major table."""
        code, name = row.get("ZYDM", ""), row.get("ZYMC", "")
        if code:
            major = self.major(level, code=code)
            if major is None:
                hint = ""
                if level == "本科" and self.major("专升本", code=code):
                    hint = "；专升本须在备注（BZ）填写原专科院校和专科毕业证书编号"
                return [problem(index, row, "ZYDM", f"专业库中没有{level}专业 {code}{hint}")]
            if name and name != major.name:
                return [problem(index, row, "ZYMC", f"专业代码 {major.code} 是“{major.name}”")]
            return []
        if name and level and self.major(level, name=name) is None:
            return [problem(index, row, "ZYMC", f"专业库中没有{level}专业“{name}”")]
        return []

    def station_problems(
        self, index: int, row: Mapping[str, str], column: str = "XSH"
    ) -> list[dict]:
        value = row.get(column, "")
        if value and self.station(value) is None:
            return [problem(index, row, column, f"没有函授站“{value}”")]
        return []

    def course_problems(self, index: int, row: Mapping[str, str], column: str) -> list[dict]:
        value = row.get(column, "")
        if value and value not in self.courses:
            return [problem(index, row, column, f"课程库中没有课程 {value}")]
        return []
