"""Process 2 (新生学籍电子注册) at volume in the browser: a 300- and a 3,000-row
standard-library file uploaded, checked, shown as a paged table with the problem rows first,
正确 refused while there are problems, corrected by uploading the file again, and on to 上报."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.helpers import auth, deploy_processes, only_task
from tests.web.ui import login, screenshot
from xueji.db.session import session_scope
from xueji.models import Major
from xueji.students import registration_file as rf
from xueji.students.id_numbers import check_digit

YEAR = 2033
ROWS = 300
BAD = (7, 150, 299)  # rows (1-based) whose ID number has a wrong check digit


def _row(index: int, bad: bool = False) -> dict:
    # month, day and sequence number together tell up to 21,000 rows apart
    digits = f"4101022001{index % 12 + 1:02d}{index % 28 + 1:02d}{index % 1000:03d}"
    good = check_digit(digits)
    return {
        "KSH": f"33410102{index:06d}",
        "XH": "",
        "XM": f"学生{index:03d}",
        "XB": "男" if index % 2 else "女",
        "CSRQ": digits[6:14],
        "SFZH": digits + (("1" if good != "1" else "2") if bad else good),
        "ZZMM": "群众",
        "MZ": "汉族",
        "ZYDM": "630302",
        "ZYMC": "会计",
        "CC": rf.national_level("专科"),
        "XZ": "2.5",
        "XXXS": "函授",
        "RXRQ": f"{YEAR}0301",
        "FY": "",
        "XSH": "S01",
        "BH": "",
        "YJBYRQ": "",
        "BZ": "",
    }


@pytest.fixture
def registration(client, db):
    deploy_processes(client, "enrollment_registration")
    with session_scope(db.db.writer) as session:
        if (
            session.scalar(select(Major).where(Major.code == "630302", Major.level == "专科"))
            is None
        ):
            session.add(Major(code="630302", name="会计", level="专科", years="2.5"))
    response = client.post(
        "/api/v1/process-definitions/enrollment_registration/start",
        json={"variables": {"year": YEAR}},
        headers=auth(client, "station1"),
    )
    assert response.status_code == 201, response.text
    return client


def _inputs(page) -> int:
    return page.locator("input, textarea, select").count()


@pytest.mark.parametrize("rows", [ROWS, 3000])
def test_a_large_file_is_checked_shown_paged_and_corrected_by_upload(
    page, registration, tmp_path, rows
):
    with_problems = tmp_path / "新生学籍注册标准库.xlsx"
    with_problems.write_bytes(rf.write_rows([_row(i, i in BAD) for i in range(1, rows + 1)]))
    corrected = tmp_path / "新生学籍注册标准库（修改后）.xlsx"
    corrected.write_bytes(rf.write_rows([_row(i) for i in range(1, rows + 1)]))

    login(page, "station1")
    page.click("[data-testid=task-row] >> text=函授站按照学院提供的新生学籍注册标准库录入新生信息")
    page.get_by_role("radio", name="上传标准库文件").check()
    page.set_input_files("#root_upload", str(with_problems))
    page.wait_for_selector(".uploads a:has-text('新生学籍注册标准库.xlsx')")
    page.click("button:has-text('提交')")
    page.wait_for_selector("text=已提交：函授站按照学院提供的新生学籍注册标准库录入新生信息")
    assert "至少 1 项" not in page.content()

    # 自行校验: all rows paged, the three problem rows first and highlighted
    page.click("[data-testid=task-row] >> text=自行校验新生学籍电子注册信息")
    summary = page.locator("[data-testid=batch-summary]")
    summary.wait_for()
    assert f"共 {rows} 行，其中 3 行有问题" in summary.inner_text()
    lines = page.locator(".batch-rows tbody tr")
    assert lines.count() == 20  # one page of 20, not all rows
    for position, row in enumerate(BAD):
        line = lines.nth(position)
        assert "problem-row" in (line.get_attribute("class") or "")
        assert line.locator("td").first.inner_text() == str(row)
        assert "身份证号校验位不正确" in line.inner_text()
        assert "身份证号" in line.inner_text()  # the field by its title, not SFZH
    assert "problem-row" not in (lines.nth(3).get_attribute("class") or "")
    # sorted by 行号 descending (a second click on the sorted column), problem rows stay first
    page.click(".batch-rows th button:has-text('行号')")
    assert lines.first.locator("td").first.inner_text() == "299"
    assert lines.nth(3).locator("td").first.inner_text() == str(rows)
    page.click(".pager button:has-text('下一页')")
    assert page.locator(".pager", has_text=f"第 2 / {rows // 20} 页").count() == 1
    # the check's result file is listed with the case's files, and no JSON is shown
    page.locator(".documents a", has_text="新生学籍注册信息校验结果").wait_for()
    assert '"KSH"' not in page.locator(".side-column").inner_text()
    assert "check.problems" not in page.content()
    assert _inputs(page) < 200
    # the page holds one page of rows, not the file: its size does not grow with the rows
    assert len(page.content()) < 50_000
    screenshot(page, f"batch_self_check_{rows}_rows")

    # 正确 despite the problems is refused with the reason, nothing is sent
    task = only_task(registration, "station1")
    page.get_by_role("radio", name="正确", exact=True).check()
    page.click("button:has-text('提交')")
    page.locator(".form-card .error", has_text="发现 3 处问题，不能选择“正确”").wait_for()
    assert only_task(registration, "station1")["id"] == task["id"]
    page.get_by_role("radio", name="有误", exact=True).check()
    page.fill("#root_reason", "三名学生的身份证号有误，重新核对后上传")
    page.click("button:has-text('提交')")
    page.wait_for_selector("text=已提交：自行校验新生学籍电子注册信息")

    # the correction: the problem rows shown, the corrected file uploaded again
    page.click("[data-testid=task-row] >> text=函授站核实、补充、修改学籍电子注册信息")
    page.locator("[data-testid=batch-summary]", has_text="其中 3 行有问题").wait_for()
    assert _inputs(page) < 200
    page.locator(".documents a", has_text="新生学籍注册信息校验结果").wait_for()
    page.locator(".earlier-steps li").first.wait_for()
    screenshot(page, f"batch_correction_{rows}_rows")
    page.get_by_role("radio", name="上传标准库文件").check()
    page.set_input_files("#root_upload", str(corrected))
    page.wait_for_selector(".uploads a:has-text('修改后')")
    page.click("button:has-text('提交')")
    page.wait_for_selector("text=已提交：函授站核实、补充、修改学籍电子注册信息")

    page.click("[data-testid=task-row] >> text=自行校验新生学籍电子注册信息")
    page.locator("[data-testid=batch-summary]", has_text=f"共 {rows} 行，未发现问题").wait_for()
    page.get_by_role("radio", name="正确", exact=True).check()
    page.click("button:has-text('提交')")
    page.wait_for_selector("text=已提交：自行校验新生学籍电子注册信息")
    assert only_task(registration, "station1")["name"] == "新生学籍注册信息上报"


def test_a_correction_step_that_comes_back_starts_from_its_own_last_rows(page, registration):
    def complete(name, data):
        task = only_task(registration, "station1")
        assert task["name"] == name
        response = registration.post(
            f"/api/v1/tasks/{task['id']}/complete",
            json={"data": data},
            headers=auth(registration, "station1"),
        )
        assert response.status_code == 200, response.text

    rows = [_row(1), _row(2, bad=True), _row(3)]
    complete("函授站按照学院提供的新生学籍注册标准库录入新生信息", {"source": "rows", "rows": rows})
    complete("自行校验新生学籍电子注册信息", {"outcome": "wrong", "reason": "第 2 行有误"})
    login(page, "station1")
    task = only_task(registration, "station1")
    page.goto(page.base + f"/tasks/{task['id']}")
    page.wait_for_selector("#root_source")
    assert page.locator("#root_rows_0_KSH").count() == 0  # another step's rows: not pre-filled
    fixed = [_row(1), _row(2), _row(3)]
    fixed[2]["XM"] = "改名三"
    complete("函授站核实、补充、修改学籍电子注册信息", {"source": "rows", "rows": fixed})
    complete("自行校验新生学籍电子注册信息", {"outcome": "wrong", "reason": "再核对姓名"})

    # back at the correction: the station's own rows of last time, to edit
    task = only_task(registration, "station1")
    page.goto(page.base + f"/tasks/{task['id']}")
    page.wait_for_selector("#root_rows_2_XM")
    assert page.locator("#root_rows_2_XM").input_value() == "改名三"
    assert page.get_by_role("radio", name="在线录入（提交全部行）").is_checked()
    page.fill("#root_rows_2_XM", "丙三")
    page.click("button:has-text('提交')")
    page.wait_for_selector("text=已提交：函授站核实、补充、修改学籍电子注册信息")
    history = registration.get(
        f"/api/v1/process-instances/{task['instance_id']}/history",
        headers=auth(registration, "station1"),
    ).json()
    sent = [
        h["data"] for h in history if h["task_id"] == task["id"] and h["kind"] == "task_completed"
    ]
    assert [r["XM"] for r in sent[0]["rows"]] == ["学生001", "学生002", "丙三"]


def test_300_rows_entered_online_are_edited_ten_at_a_time(page, registration):
    rows = [_row(i) for i in range(1, ROWS + 1)]
    rows[124]["XM"] = ""
    task = only_task(registration, "station1")
    response = registration.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"data": {"source": "rows", "rows": rows}},
        headers=auth(registration, "station1"),
    )
    assert response.status_code == 200, response.text
    check = only_task(registration, "station1")
    registration.post(
        f"/api/v1/tasks/{check['id']}/complete",
        json={"data": {"outcome": "wrong", "reason": "第 125 行缺姓名"}},
        headers=auth(registration, "station1"),
    )
    correct = only_task(registration, "station1")
    registration.post(
        f"/api/v1/tasks/{correct['id']}/complete",
        json={"data": {"source": "rows", "rows": rows}},
        headers=auth(registration, "station1"),
    )
    check = only_task(registration, "station1")
    registration.post(
        f"/api/v1/tasks/{check['id']}/complete",
        json={"data": {"outcome": "wrong", "reason": "第 125 行缺姓名"}},
        headers=auth(registration, "station1"),
    )
    login(page, "station1")
    correct = only_task(registration, "station1")
    page.goto(page.base + f"/tasks/{correct['id']}")
    table = page.locator("[data-testid=paged-table]")
    table.locator("text=共 300 行，每页 10 行").wait_for()
    assert _inputs(page) <= 200  # ten rows of 19 fields, not 5,700 inputs
    table.locator(".pager button:has-text('下一页')").click()
    page.wait_for_selector("#root_rows_10_XM")
    assert page.locator("#root_rows_0_XM").count() == 0
    screenshot(page, "batch_rows_paged_editor")
