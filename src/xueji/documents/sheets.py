"""The XLSX form of a list, for the offices that edit it further: the college and title on
top, then one header row (frozen, so it stays in view) and the rows, totals last."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter

from xueji.spreadsheets import to_bytes

THIN = Side(style="thin", color="333333")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
SHADE = PatternFill("solid", fgColor="E8E8E8")
# Named styles: set per cell by name, many times cheaper than a Border object per cell.
BOXED = "xueji-boxed"
HEADING = "xueji-heading"


def workbook(
    college: str,
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    subtitle: str | None = None,
    totals: Sequence[Any] | None = None,
    widths: Sequence[int] | None = None,
) -> bytes:
    """The bytes of a one-sheet workbook; the header row is row 4 (rows 1–3: college, title,
    subtitle), so a reader finds the columns at a fixed place."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    book.add_named_style(NamedStyle(BOXED, border=BOX))
    book.add_named_style(NamedStyle(HEADING, font=Font(bold=True), fill=SHADE, border=BOX))
    columns = len(header)
    for row, (text, size) in enumerate(((college, 12), (title, 16), (subtitle or "", 10)), 1):
        sheet.cell(row=row, column=1, value=text).font = Font(size=size, bold=row == 2)
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=columns)
        sheet.cell(row=row, column=1).alignment = Alignment(horizontal="center")
    sheet.append(list(header))
    for cell in _row(sheet, 4, columns):
        cell.style = HEADING
    for number, values in enumerate(rows, start=5):
        sheet.append(list(values))
        for cell in _row(sheet, number, columns):
            cell.style = BOXED
    if totals is not None:
        sheet.append(list(totals))
        for cell in _row(sheet, 5 + len(rows), columns):
            cell.style = HEADING
    sheet.freeze_panes = "A5"
    for index, width in enumerate(widths or [14] * columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    return to_bytes(book)


def _row(sheet: Any, number: int, columns: int) -> tuple[Any, ...]:
    """The row's cells, by number and width: `sheet[number]` and `sheet.max_row` look at every
    cell of the sheet, so asked once per row they make a long list quadratic."""
    return next(sheet.iter_rows(min_row=number, max_row=number, max_col=columns))
