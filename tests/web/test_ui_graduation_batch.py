"""Process 7 (毕业生学历电子注册) for a station's 300 graduates in the browser: the proposed
预毕业生名单 as a paged, sortable table (not one select per student), a student the check
refuses shown first and highlighted at the correction, taken off the list with a reason, and
on to 上报 with the generated 毕业生学历注册标准库 listed with the case's files."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, insert, select

from tests.helpers import auth, deploy_processes, only_task
from tests.web.ui import login, screenshot
from xueji import clock
from xueji.db.session import session_scope
from xueji.models import Station, StatusChange, Student
from xueji.students.id_numbers import check_digit

GRADUATES = 300


def _student(station_id: int, index: int, status: str = "已注册") -> dict:
    digits = f"4101021999{index % 12 + 1:02d}{index % 28 + 1:02d}{index % 1000:03d}"
    return {
        "station_id": station_id,
        "name": f"毕业生{index:03d}",
        "gender": "男" if index % 2 else "女",
        "id_number": digits + check_digit(digits),
        "level": "专科",
        "major": "会计",
        "intake_year": 2025,
        "student_number": f"T12G{index:05d}",
        "expected_graduation": date(2028, 1, 10),
        "photo_status": "已校对",
        "status": status,
        "created_at": clock.now(),
    }


@pytest.fixture
def graduates(client, db):
    """300 registered students of S01 due to graduate in 2028 春季, and one still 在籍."""
    deploy_processes(client, "graduation_deferral", "graduation_registration")
    with session_scope(db.db.writer) as session:
        station = session.scalar(select(Station).where(Station.code == "S01"))
        rows = [_student(station.id, i) for i in range(1, GRADUATES + 1)]
        rows.append(_student(station.id, 999, status="在籍"))
        session.execute(insert(Student), rows)
        ids = list(session.scalars(select(Student.id).where(Student.student_number.like("T12G%"))))
    yield ids
    with session_scope(db.db.writer) as session:
        session.execute(delete(StatusChange).where(StatusChange.student_id.in_(ids)))
        session.execute(delete(Student).where(Student.id.in_(ids)))


def _inputs(page) -> int:
    return page.locator("input, textarea, select").count()


def test_a_300_student_graduation_list_is_paged_and_corrected(page, client, db, graduates):
    with session_scope(db.db.writer) as session:
        unready = session.scalar(select(Student.id).where(Student.student_number == "T12G00999"))
    response = client.post(
        "/api/v1/process-definitions/graduation_registration/start",
        json={"variables": {"year": 2028, "season": "春季"}},
        headers=auth(client, "station1"),
    )
    assert response.status_code == 201, response.text
    login(page, "station1")

    page.click(
        "[data-testid=task-row] >> text=函授站按照学院提供的毕业生学历注册标准库录入预毕业生数据"
    )
    listing = page.locator("[data-testid=student-list]")
    summary = page.locator("[data-testid=student-list-summary]")
    summary.wait_for()
    proposed = int(summary.inner_text().split("共 ")[1].split(" 名")[0])
    assert proposed >= GRADUATES
    assert listing.locator("tbody tr").count() == 20  # one page, not 300 selects
    assert _inputs(page) < 200
    listing.locator("th button:has-text('序号')").click()  # the sorted column again: descending
    assert listing.locator("tbody tr td").first.inner_text() == str(proposed)
    listing.locator(".pager button:has-text('下一页')").click()
    assert listing.locator(".pager", has_text=f"第 2 / {-(-proposed // 20)} 页").count() == 1
    screenshot(page, "graduation_list_300")
    # the station adds a student who is not ready: the check will refuse them
    page.select_option("#root_students__add", str(unready))
    summary.filter(has_text=f"共 {proposed + 1} 名学生").wait_for()
    page.click("button:has-text('提交')")
    page.wait_for_selector("text=已提交：函授站按照学院提供的毕业生学历注册标准库录入预毕业生数据")

    page.click("[data-testid=task-row] >> text=自行校验毕业生学历电子注册数据")
    page.locator("[data-testid=batch-summary]", has_text="其中 1 行有问题").wait_for()
    assert "学籍状态为在籍" in page.locator(".batch-rows tr.problem-row").first.inner_text()
    page.locator(".documents a", has_text="毕业生学历注册标准库").wait_for()
    assert _inputs(page) < 200
    page.get_by_role("radio", name="有误", exact=True).check()
    page.fill("#root_reason", "毕业生999 学籍状态为在籍")
    page.click("button:has-text('提交')")
    page.wait_for_selector("text=已提交：自行校验毕业生学历电子注册数据")

    # the correction: the refused student first and highlighted, taken off with a reason
    page.click("[data-testid=task-row] >> text=补充学籍电子注册信息")
    first = listing.locator("tbody tr").first
    first.wait_for()
    assert "problem-row" in (first.get_attribute("class") or "")
    assert "毕业生999" in first.inner_text() and "学籍状态为在籍" in first.inner_text()
    assert "problem-row" not in (listing.locator("tbody tr").nth(1).get_attribute("class") or "")
    assert _inputs(page) < 200
    screenshot(page, "graduation_list_correction")
    first.locator("button:has-text('移出')").click()
    summary.filter(has_text=f"共 {proposed} 名学生").wait_for()
    page.click("#root_removed__add")
    page.select_option("#root_removed_0_student", str(unready))
    page.fill("#root_removed_0_reason", "学籍尚未电子注册，本季不能毕业")
    page.click("button:has-text('提交')")
    page.wait_for_selector("text=已提交：补充学籍电子注册信息")

    page.click("[data-testid=task-row] >> text=自行校验毕业生学历电子注册数据")
    page.get_by_role("radio", name="正确", exact=True).check()
    page.click("button:has-text('提交')")
    page.wait_for_selector("text=已提交：自行校验毕业生学历电子注册数据")
    assert only_task(client, "station1")["name"] == "上报预毕业生学历注册信息"
