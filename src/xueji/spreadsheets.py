"""XLSX cells that stay text: a value a spreadsheet would run as a formula (a name typed as
`=HYPERLINK(…)`, or starting with + - @) is written as a string, in every workbook we write.

`text_cell` is for streamed (write-only) sheets, `to_bytes` saves any other workbook after
turning every formula-looking cell into text. No code of ours writes a real formula."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def text_cell(sheet: Any, value: Any) -> Any:
    """The value for `sheet.append` in a write-only sheet: numbers stay numbers, True/False
    are 是/否, anything else is a text cell (never a formula)."""
    if value is None or isinstance(value, bool):
        return "是" if value is True else "否" if value is False else None
    if isinstance(value, int | float):
        return value
    cell = WriteOnlyCell(sheet, value=str(value))
    cell.data_type = "s"
    cell.number_format = "@"
    return cell


def to_bytes(book: Workbook) -> bytes:
    """The workbook's XLSX bytes, every formula-looking string kept as text."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if looks_like_formula(cell.value):
                    cell.data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
