"""The records pages in the browser: the statistics' cross table with its 年级 filter, printed
and downloaded as XLSX; stations and majors chosen from lists; station names, not codes."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.web.ui import login, screenshot


def test_statistics_cross_table_filtered_printed_and_downloaded(page, deployed):
    from playwright.sync_api import expect  # the browser tests are skipped without playwright

    login(page, "registrar")
    page.click("nav >> text=学籍统计")
    rows = page.locator("[data-testid=cross-row]")
    rows.first.wait_for()
    assert rows.count() == 5
    assert rows.first.inner_text().split("\t") == ["郑州函授站", "专科", "会计", "1", "1", "2"]
    assert page.locator("[data-testid=cross-total]").inner_text().split("\t") == [
        "合计",
        "5",
        "3",
        "8",
    ]
    # the charts name stations, not their codes
    page.wait_for_selector("[data-testid=chart-station] .bar")
    labels = page.locator("[data-testid=chart-station] .bar-label title").all_text_contents()
    assert sorted(labels) == ["洛阳函授站", "郑州函授站"]

    page.select_option("[data-testid=intake-filter]", "2025")
    expect(page.locator("[data-testid=cross-row]")).to_have_count(3)
    assert page.locator("[data-testid=cross-total]").inner_text().split("\t")[-1] == "5"

    with page.expect_download() as download:
        page.click("[data-testid=download-cross]")
    assert download.value.suggested_filename == "学籍数据统计交叉表_2025级.xlsx"
    book = load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    assert [list(r) for r in book.active.iter_rows(values_only=True)][-1] == [
        "合计",
        None,
        None,
        3,
        2,
        5,
    ]
    screenshot(page, "statistics")

    page.emulate_media(media="print")
    assert page.locator(".topbar").is_hidden()
    assert page.locator("[data-testid=intake-filter]").is_hidden()
    assert page.locator("[data-testid=download-cross]").is_hidden()
    assert page.locator("[data-testid=cross-table]").is_visible()
    screenshot(page, "statistics_print")


def test_a_station_sees_its_own_cross_table(page, deployed):
    login(page, "station1")
    page.click("nav >> text=学籍统计")
    rows = page.locator("[data-testid=cross-row]")
    rows.first.wait_for()
    assert rows.count() == 3
    assert all(r.startswith("郑州函授站") for r in rows.all_inner_texts())


def test_students_filtered_by_station_and_major_chosen_from_lists(page, deployed):
    login(page, "registrar")
    page.click("nav >> text=学生学籍")
    page.wait_for_selector("[data-testid=student-row]")
    page.locator("[data-testid=filter-intake] option[value='2026']").wait_for(state="attached")
    page.select_option("[data-testid=filter-intake]", "2026")
    page.click("button[type=submit]")
    page.locator("text=共 2 人").wait_for()
    page.select_option("[data-testid=filter-intake]", "")
    station = page.locator("[data-testid=filter-station]")
    station.locator("option", has_text="洛阳函授站").wait_for(state="attached")
    station.select_option(label="洛阳函授站（S02）")
    page.click("button[type=submit]")
    page.locator("text=共 3 人").wait_for()
    names = page.locator("[data-testid=student-row]").all_inner_texts()
    assert len(names) == 3 and all("洛阳函授站" in row for row in names)
    page.locator("[data-testid=filter-major] option", has_text="护理").wait_for(state="attached")
    page.select_option("[data-testid=filter-major]", "护理")
    page.click("button[type=submit]")
    page.locator("text=共 2 人").wait_for()
    rows = page.locator("[data-testid=student-row]").all_inner_texts()
    assert len(rows) == 2 and all("护理" in row and "洛阳函授站" in row for row in rows)
    screenshot(page, "students_filtered")
