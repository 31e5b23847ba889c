"""The national registration files of records.md from the records: 新生学籍注册 (one row per
registered student) and 毕业生学历注册 (those columns plus BYRQ … ZP), as XLSX and as DBF.

The DBF is dBase III (the `dbf` package) with the short column names of records.md as its
field names, every field a character field (the national files hold dates as YYYYMMDD text),
encoded GBK (code page cp936), as the national systems read Chinese; widths are in bytes, two
per Chinese character.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import dbf
from sqlalchemy.orm import Session

from xueji.models import Major, SchoolClass, Student
from xueji.students import registration_file as rf

DBF_TYPE = "application/x-dbf"

NEW_STUDENT_COLUMNS: dict[str, str] = dict(rf.COLUMNS)
GRADUATE_COLUMNS: dict[str, str] = {
    **rf.COLUMNS,
    "BYRQ": "毕业日期",
    "ZSBH": "毕（结）业证书编号",
    "BYJL": "毕结业结论",
    "XZXM": "校（院）长姓名",
    "ZP": "照片",
}
# Field widths in bytes (GBK: two per Chinese character).
WIDTHS = {
    "KSH": 18, "XH": 15, "XM": 80, "XB": 4, "CSRQ": 8, "SFZH": 18, "ZZMM": 40, "MZ": 40,
    "ZYDM": 12, "ZYMC": 80, "CC": 10, "XZ": 4, "XXXS": 10, "RXRQ": 8, "FY": 60, "XSH": 80,
    "BH": 20, "YJBYRQ": 8, "BZ": 254, "BYRQ": 8, "ZSBH": 18, "BYJL": 10, "XZXM": 40, "ZP": 30,
}  # fmt: skip
CODEPAGE = "cp936"

TITLES = {"new": "新生学籍注册", "graduates": "毕业生学历注册"}


def new_student_row(session: Session, student: Student) -> dict[str, str]:
    """The student's row of the 新生学籍注册 file, every value as text."""
    major = session.get(Major, student.major_id) if student.major_id else None
    school_class = session.get(SchoolClass, student.class_id) if student.class_id else None
    return rf.normalize_row(
        {
            "KSH": student.exam_number,
            "XH": student.student_number,
            "XM": student.name,
            "XB": student.gender,
            "CSRQ": student.birth_date,
            "SFZH": student.id_number,
            "ZZMM": student.political_status,
            "MZ": student.ethnicity,
            "ZYDM": major.code if major else "",
            "ZYMC": student.major,
            "CC": rf.national_level(student.level),
            "XZ": major.years if major else "",
            "XXXS": student.study_mode,
            "RXRQ": student.enrolled_on,
            "XSH": student.station.name,
            "BH": school_class.code if school_class else "",
            "YJBYRQ": student.expected_graduation,
            "BZ": student.remarks,
        }
    )


def graduate_row(session: Session, student: Student, president: str = "") -> dict[str, str]:
    """The student's row of the 毕业生学历注册 file."""
    return {
        **new_student_row(session, student),
        "BYRQ": rf.yyyymmdd(student.graduated_on),
        "ZSBH": student.certificate_number or "",
        "BYJL": student.conclusion or "",
        "XZXM": president if student.certificate_number else "",
        "ZP": f"{student.id_number}.jpg",
    }


def to_xlsx(title: str, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> bytes:
    """The file as XLSX: one header row of the short column names, then the rows."""
    return rf.table_xlsx(title, list(columns), ([row.get(c, "") for c in columns] for row in rows))


def to_dbf(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> bytes:
    """The file as a dBase III table (see the module's docstring); values longer than their
    field are cut at a character boundary."""
    spec = "; ".join(f"{name} C({WIDTHS[name]})" for name in columns)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "file.dbf"
        table = dbf.Table(str(path), spec, dbf_type="db3", codepage=CODEPAGE)
        table.open(dbf.READ_WRITE)
        try:
            for row in rows:
                table.append(tuple(_fit(str(row.get(c) or ""), WIDTHS[c]) for c in columns))
        finally:
            table.close()
        return path.read_bytes()


def _fit(value: str, width: int) -> str:
    while len(value.encode("gbk", errors="replace")) > width:
        value = value[:-1]
    return value


def read_dbf(content: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """A DBF file's field names and rows (trimmed text): what tests and imports read back."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "file.dbf"
        path.write_bytes(content)
        table = dbf.Table(str(path))
        table.open(dbf.READ_ONLY)
        try:
            names = [name.upper() for name in table.field_names]
            rows = [
                {name: str(value).strip() for name, value in zip(names, record, strict=True)}
                for record in table
            ]
        finally:
            table.close()
    return names, rows
