"""The student list and the statistics download as the service exports them (issue 11)."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.web.ui import login


def test_the_student_list_and_the_statistics_export_with_their_filters(page):
    login(page, "registrar")
    page.goto(page.base + "/students")
    page.fill("form.filters input >> nth=0", "张伟")
    page.click("form.filters button[type=submit]")
    page.locator("table", has_text="张伟").wait_for()
    with page.expect_download() as download:
        page.click("[data-testid=export-buttons] button:has-text('导出 XLSX')")
    assert download.value.suggested_filename.startswith("学生名单")
    sheet = load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active
    rows = list(sheet.iter_rows(values_only=True))
    names = [row[1] for row in rows]
    assert "张伟" in names and "王芳" not in names  # the page's filter went with it

    page.goto(page.base + "/statistics")
    with page.expect_download() as download:
        page.click("[data-testid=export-buttons] button:has-text('导出 CSV')")
    assert download.value.suggested_filename.endswith(".csv")
    text = open(download.value.path(), encoding="utf-8-sig").read()
    assert "郑州函授站" in text and "合计" in text
