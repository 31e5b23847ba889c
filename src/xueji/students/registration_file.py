"""The new-student registration file (新生学籍注册标准库) as XLSX, in the national column layout
of records.md: one header row of the short column names, then one row per student.

Values are kept as text, as the national files hold them: dates `YYYYMMDD`, 学制 `2.5`,
ID numbers with an upper-case `X`. The code tables the checks use are here too.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment

from xueji.spreadsheets import XLSX_TYPE as XLSX_TYPE
from xueji.spreadsheets import to_bytes
from xueji.students import row_checks as rc

# Re-exported: process steps name them through this module.
from xueji.students.row_checks import parse_yyyymmdd as parse_yyyymmdd
from xueji.students.row_checks import problem as problem
from xueji.students.row_checks import yyyymmdd

COLUMNS = {
    "KSH": "考生号",
    "XH": "学号",
    "XM": "姓名",
    "XB": "性别",
    "CSRQ": "出生日期",
    "SFZH": "身份证号",
    "ZZMM": "政治面貌",
    "MZ": "民族",
    "ZYDM": "专业代码",
    "ZYMC": "专业名称",
    "CC": "层次",
    "XZ": "学制",
    "XXXS": "学习形式",
    "RXRQ": "入学日期",
    "FY": "分院",
    "XSH": "系所函授站",
    "BH": "班号",
    "YJBYRQ": "预计毕业日期",
    "BZ": "备注",
}
REQUIRED = (
    "KSH", "XM", "XB", "CSRQ", "SFZH", "ZZMM", "MZ", "ZYDM", "ZYMC", "CC", "XZ", "XXXS", "RXRQ",
    "XSH",
)  # fmt: skip
DATE_COLUMNS = ("CSRQ", "RXRQ", "YJBYRQ")
MAX_LENGTHS = {"KSH": 18, "XH": 15, "XM": 40, "SFZH": 18, "BZ": 200}
GENDERS = ("男", "女")
LEVELS = ("专科", "本科", "专升本")
STUDY_MODES = ("函授", "业余", "脱产")
# GB/T 4762 政治面貌
POLITICAL_STATUSES = (
    "中共党员", "中共预备党员", "共青团员", "民革党员", "民盟盟员", "民建会员", "民进会员",
    "农工党党员", "致公党党员", "九三学社社员", "台盟盟员", "无党派人士", "群众",
)  # fmt: skip
# GB 3304 民族
ETHNICITIES = (
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族",
    "满族", "侗族", "瑶族", "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族",
    "佤族", "畲族", "高山族", "拉祜族", "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族",
    "土族", "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族",
    "阿昌族", "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族",
    "保安族", "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族",
    "基诺族", "其他", "外国血统中国籍人士",
)  # fmt: skip

_HEADER = re.compile(r"[A-Za-z]+")


class RegistrationFileError(ValueError):
    """The file is not a registration file in the national layout."""


def national_level(level: str) -> str:
    """CC as the national files write it: 专升本 is 本科 (with the former college in BZ)."""
    return "本科" if level == "专升本" else level


def level_of(row: Mapping[str, str]) -> str:
    """The level of a row: CC, where 本科 with BZ filled (former college, diploma) is 专升本."""
    level = row.get("CC", "")
    return "专升本" if level == "本科" and row.get("BZ") else level


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return yyyymmdd(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).strip()


def normalize_row(row: Mapping[str, Any]) -> dict[str, str]:
    """A row with every national column, as trimmed text (dates as YYYYMMDD)."""
    values = {str(k).strip().upper(): v for k, v in row.items()}
    out = {column: _text(values.get(column)) for column in COLUMNS}
    out["SFZH"] = out["SFZH"].upper()
    return out


def read_rows(content: bytes) -> list[dict[str, str]]:
    """The rows of the first sheet of an XLSX file whose first row names the columns."""
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not XLSX
        raise RegistrationFileError(f"not a readable XLSX file: {exc}") from None
    sheet = workbook.worksheets[0]
    lines = sheet.iter_rows(values_only=True)
    header = next(lines, None) or ()
    names = []
    for cell in header:
        match = _HEADER.match(_text(cell))
        names.append(match[0].upper() if match else "")
    missing = [column for column in REQUIRED if column not in names]
    if missing:
        raise RegistrationFileError(
            "the first row must name the columns; missing: " + ", ".join(missing)
        )
    rows = []
    for line in lines:
        if all(_text(value) == "" for value in line):
            continue
        rows.append(
            normalize_row(
                {name: value for name, value in zip(names, line, strict=False) if name in COLUMNS}
            )
        )
    workbook.close()
    return rows


_CODES = {
    "XB": GENDERS,
    "CC": LEVELS,
    "XXXS": STUDY_MODES,
    "ZZMM": POLITICAL_STATUSES,
    "MZ": ETHNICITIES,
}
SPEC = tuple(
    rc.Column(
        key,
        label,
        required=key in REQUIRED,
        max_length=MAX_LENGTHS.get(key),
        codes=_CODES.get(key),
        kind="date"
        if key in DATE_COLUMNS
        else {"SFZH": "id_number", "XZ": "years"}.get(key, "text"),
    )
    for key, label in COLUMNS.items()
)
UNIQUE = ("KSH", "SFZH", "XH")


def row_problems(rows: Sequence[Mapping[str, str]]) -> list[dict]:
    """What is wrong with the rows by themselves: required columns, code tables, dates, ID
    numbers (check digit, birth date) and values that must be unique in the file."""
    return rc.check_rows(SPEC, rows, UNIQUE)


def _workbook(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Workbook:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append(list(header))
    for row in rows:
        sheet.append([_text(value) for value in row])
    for column in sheet.columns:
        width = max(len(str(cell.value or "")) for cell in column)
        sheet.column_dimensions[column[0].column_letter].width = min(max(width * 1.6, 8), 60)
        for cell in column:
            cell.number_format = "@"  # text: ID numbers and dates stay as written
    return workbook


def table_xlsx(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A one-sheet workbook: a header row, then the rows, every cell as text."""
    return to_bytes(_workbook(title, header, rows))


def write_rows(
    rows: Sequence[Mapping[str, Any]],
    title: str = "新生学籍注册",
    notes: Sequence[str] | None = None,
) -> bytes:
    """A registration file of these rows, with the Chinese meaning of each column as a note;
    `notes` (one per row) become a last column 问题, which reading ignores."""
    header = [*COLUMNS, *(["问题"] if notes is not None else [])]
    lines = (
        [normalize_row(row)[c] for c in COLUMNS] + ([notes[i]] if notes is not None else [])
        for i, row in enumerate(rows)
    )
    workbook = _workbook(title, header, lines)
    for cell in workbook.active[1]:
        cell.comment = Comment(COLUMNS.get(cell.value, "校验发现的问题"), "xueji")
    return to_bytes(workbook)
