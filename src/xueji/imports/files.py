"""The files of an import: the empty template, the size of a file sent back (its reading is
xueji.students.sheet_reading), and the report — the file's rows again with every bad cell
filled red and commented with the reason.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from xueji.spreadsheets import to_bytes
from xueji.students.row_checks import Column
from xueji.students.sheet_reading import is_csv

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BAD = PatternFill("solid", fgColor="FFC7CE")


def header_cell(column: Column) -> str:
    return f"{column.key} {column.label}"


def template(title: str, columns: Sequence[Column]) -> bytes:
    """An empty workbook: the header row, every column as text, required ones in bold."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append([header_cell(c) for c in columns])
    for cell, column in zip(sheet[1], columns, strict=True):
        cell.font = Font(bold=column.required)
        note = "必填" if column.required else "选填"
        if column.codes:
            note += "；可选值：" + "、".join(column.codes[:20])
        cell.comment = Comment(f"{column.label}（{note}）", "xueji")
        letter = cell.column_letter
        dimension = sheet.column_dimensions[letter]
        dimension.width = max(len(header_cell(column)) * 1.8, 10)
        dimension.number_format = "@"  # the column is text: ID numbers and dates stay as typed
    return to_bytes(workbook)


def csv_template(columns: Sequence[Column]) -> bytes:
    """The header line as CSV in UTF-8 with a BOM (so that Excel reads the Chinese)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([header_cell(c) for c in columns])
    return buffer.getvalue().encode("utf-8-sig")


_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>]")


def row_estimate(content: bytes, file_name: str) -> int:
    """How many rows the file has below its header, without parsing them: the line breaks
    of a CSV, the row elements of an XLSX's first sheet (counted in its decompressed XML)."""
    if is_csv(content, file_name):
        return max(content.count(b"\n") - 1, 0)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            sheets = sorted(n for n in archive.namelist() if _SHEET.fullmatch(n))
            if not sheets:
                return 0
            count, tail = 0, b""
            with archive.open(sheets[0]) as stream:
                while chunk := stream.read(1 << 20):
                    data = tail + chunk
                    cut = max(len(data) - 32, 0)  # a tag from here on is counted next time
                    count += sum(1 for m in _ROW_TAG.finditer(data) if m.start() < cut)
                    tail = data[cut:]
            count += len(_ROW_TAG.findall(tail))
    except (zipfile.BadZipFile, KeyError):
        return 0  # not readable: reading it says why
    return max(count - 1, 0)


_SHEET = re.compile(r"xl/worksheets/sheet(\d+)\.xml")


def report(
    title: str,
    columns: Sequence[Column],
    rows: Sequence[tuple[int, dict[str, str]]],
    problems: Sequence[dict],
) -> bytes:
    """The rows at their original lines, each bad cell red with the reasons as its comment, and
    a last column 问题 with every reason of the row."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append([header_cell(c) for c in columns] + ["问题"])
    position = {c.key: i for i, c in enumerate(columns, 1)}
    by_cell: dict[tuple[int, int], list[str]] = {}
    by_line: dict[int, list[str]] = {}
    for p in problems:
        column = position.get(p["column"] or "", 1)
        by_cell.setdefault((p["row"], column), []).append(p["message"])
        label = next((c.label for c in columns if c.key == p["column"]), "")
        by_line.setdefault(p["row"], []).append(
            f"{label}：{p['message']}" if label else p["message"]
        )
    for line, row in rows:
        for index, column in enumerate(columns, 1):
            cell = sheet.cell(row=line, column=index, value=row.get(column.key, ""))
            cell.number_format = "@"
            if messages := by_cell.get((line, index)):
                cell.fill = BAD
                cell.comment = Comment("；".join(messages), "xueji")
        if line in by_line:
            sheet.cell(row=line, column=len(columns) + 1, value="；".join(by_line[line]))
    return to_bytes(workbook)
