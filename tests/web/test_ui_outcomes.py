"""Point 5 of issue 12 in the browser: after submitting, the student is told where the case
goes and by when; the station's refusal and its reason reach the student's notification
area and case list."""

from __future__ import annotations

from tests.helpers import auth, complete, only_task
from tests.processes.test_status_change import PAST_TERM
from tests.web.test_ui_inbox import shot
from tests.web.ui import login


def test_the_student_is_told_the_next_step_and_then_the_outcome(page, deployed):
    body = {"variables": {"kind": "退学", "reason": "工作调动", "effective_term": PAST_TERM}}
    started = deployed.post(
        "/api/v1/process-definitions/status_change/start",
        json=body,
        headers=auth(deployed, "stu1001"),
    )
    assert started.status_code == 201, started.text
    login(page, "stu1001")
    page.goto(page.base + "/inbox")
    page.click("[data-testid=task-row] >> text=填写学籍异动审批表")
    page.fill("#root_phone", "13800000000")
    page.fill("#root_statement", "因工作调动申请退学。")
    page.click("button:has-text('提交')")
    flash = page.locator("[data-testid=flash]")
    flash.wait_for()
    text = flash.inner_text()
    assert text.startswith(
        "已提交：填写学籍异动审批表。下一步：函授站签署审核意见（函授站 · 郑州函授站），期限 "
    )
    shot(page, "submitted_next_step")

    complete(
        deployed,
        "station1",
        only_task(deployed, "station1"),
        {"outcome": "rejected", "reason": "证明材料不全"},
    )
    page.reload()
    page.locator("[data-testid=unread]", has_text="2").wait_for()  # the outcome and the end
    page.click("[data-testid=notifications]")
    notices = page.locator("[data-testid=notification]")
    notices.nth(1).wait_for()
    assert "未通过" in notices.nth(1).inner_text()
    assert "原因：证明材料不全" in notices.nth(1).inner_text()
    assert "已办结" in notices.nth(0).inner_text()
    assert "学籍异动" in notices.nth(1).inner_text()
    shot(page, "notifications")
    assert page.locator("[data-testid=unread]").count() == 0  # opened: read

    page.click("nav >> text=流程实例")
    outcome = page.locator("[data-testid=instance-row] [data-testid=outcome]")
    outcome.wait_for()
    assert "未通过" in outcome.inner_text() and "证明材料不全" in outcome.inner_text()
    assert "郑州函授站" in page.locator("[data-testid=instance-row]").inner_text()
    shot(page, "case_list_outcome")
