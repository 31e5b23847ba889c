"""A business rule's refusal reaches the person as the sentence the service wrote, in an
error's style; the start list names processes, not keys and versions."""

from __future__ import annotations

from tests.helpers import auth
from tests.web.ui import login


def test_a_refused_application_says_why_in_chinese_in_red(page, deployed):
    response = deployed.post(
        "/api/v1/process-definitions/status_change/start",
        json={"variables": {"kind": "休学", "reason": "工作调动", "effective_term": "2027-春"}},
        headers=auth(deployed, "stu1001"),
    )
    assert response.status_code == 201, response.text
    login(page, "stu1001")
    page.click("text=发起流程")
    start = page.locator("[data-testid=start-status_change]")
    assert start.inner_text().strip() == "学籍异动"  # not "status_change · v1"
    start.click()
    page.wait_for_selector("#root_kind")
    page.select_option("#root_kind", "休学")
    page.select_option("#root_effective_term", label="2027 年春季学期")
    page.fill("#root_reason", "再次申请休学")
    page.click("button:has-text('发起')")
    error = page.locator(
        ".error[role=alert]", has_text="张伟已有一份未办结的休学申请，不能重复申请"
    )
    error.wait_for()
    text = error.inner_text()
    assert "ServiceError" not in text and "Service call" not in text and "流程 " not in text
    assert error.evaluate("e => getComputedStyle(e).color") == "rgb(198, 40, 40)"  # --red
