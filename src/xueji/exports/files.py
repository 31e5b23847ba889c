"""A table as a download: XLSX (openpyxl), CSV (UTF-8 with a BOM, so that Excel reads the
Chinese), with a stable Chinese file name sent as RFC 5987 `filename*` (and an ASCII
`filename` for old clients).

Text that a spreadsheet would run as a formula (a name typed as `=HYPERLINK(…)`) stays text:
an XLSX cell is written as a string, a CSV value starting with = + - @ gets a leading `'`."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from fastapi import Response
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from xueji.spreadsheets import XLSX_TYPE, looks_like_formula, text_cell


class ListFormat(StrEnum):
    xlsx = "xlsx"
    csv = "csv"


@dataclass
class Table:
    title: str  # the sheet's name and the file's stem
    header: Sequence[str]
    rows: Sequence[Sequence[Any]]


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if looks_like_formula(value):
        return "'" + value
    return value


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.header)
    writer.writerows([_csv_value(v) for v in row] for row in table.rows)
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(table: Table) -> bytes:
    """One sheet: the header, then the rows; numbers stay numbers, everything else is text
    (written as strings, so never a formula). Streamed (openpyxl's write-only mode)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(table.title[:31])
    widths = [len(str(h)) for h in table.header]
    for values in table.rows:
        for index, value in enumerate(values[: len(widths)]):
            widths[index] = max(widths[index], len(str(value or "")))
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width * 1.6, 8), 60)
    sheet.append(list(table.header))
    for values in table.rows:
        sheet.append([text_cell(sheet, value) for value in values])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def download(content: bytes, media_type: str, file_name: str) -> Response:
    """The bytes as an attachment named `file_name` (Chinese kept via filename*)."""
    fallback = file_name.encode("ascii", "ignore").decode().strip("_ ") or "export"
    if "." not in fallback:
        fallback = "export." + file_name.rsplit(".", 1)[-1]
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name)}"
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"},
    )


def table_download(table: Table, fmt: ListFormat, stem: str) -> Response:
    if fmt is ListFormat.csv:
        return download(to_csv(table), "text/csv; charset=utf-8", f"{stem}.csv")
    return download(to_xlsx(table), XLSX_TYPE, f"{stem}.xlsx")


def file_stem(what: str, *parts: Any) -> str:
    """`学生名单_S01_2026级`: the list's name and the filters given, in a fixed order."""
    given = [str(p) for p in parts if p not in (None, "", False)]
    return "_".join([what, *given]).replace("/", "_")
