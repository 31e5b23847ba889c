"""Every XLSX we write keeps a formula-looking value (a name typed as `=HYPERLINK(…)`) as
text: the registration files and rosters, an import's marked report, the offices' sheets."""

import io

import pytest
from openpyxl import Workbook, load_workbook

from xueji.documents import sheets
from xueji.imports import files as import_files
from xueji.spreadsheets import to_bytes
from xueji.students import registration_file as rf
from xueji.students.row_checks import Column

NAME = '=HYPERLINK("http://example.com","点我")'
VALUES = [NAME, "+86 371", "-1+2", "@SUM(A1)"]


def _xlsx_writers():
    yield "table_xlsx", lambda: rf.table_xlsx("名单", ["姓名"], [[v] for v in VALUES])
    yield (
        "import report",
        lambda: import_files.report(
            "招生录取库",
            [Column("XM", "姓名")],
            [(line, {"XM": v}) for line, v in enumerate(VALUES, 2)],
            [{"row": 2, "column": "XM", "message": "姓名不合规"}],
        ),
    )
    yield "office sheet", lambda: sheets.workbook("学院", "名单", ["姓名"], [[v] for v in VALUES])

    def generated():
        book = Workbook()
        for value in VALUES:
            book.active.append([value])
        return to_bytes(book)

    yield "generated step document", generated


@pytest.mark.parametrize(
    "write", [w for _, w in _xlsx_writers()], ids=[n for n, _ in _xlsx_writers()]
)
def test_formula_looking_values_are_text(write):
    sheet = load_workbook(io.BytesIO(write())).active
    cells = {c.value: c for row in sheet.iter_rows() for c in row if c.value in VALUES}
    assert set(cells) == set(VALUES)
    assert {c.data_type for c in cells.values()} == {"s"}
