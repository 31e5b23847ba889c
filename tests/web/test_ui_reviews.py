"""A 休学 through its four reviewers in the browser: each opens an empty opinion (not the one
before), signs as themself, and the case's history shows each one's name with their own
opinion; the case panel shows the application as labelled fields, no technical data."""

from __future__ import annotations

from tests.helpers import auth, complete, only_task
from tests.web.ui import login, logout, screenshot

NAMES = {"station1": "郑州函授站", "registrar": "学籍管理员", "leader": "学籍主管领导"}
OPINIONS = {
    "station1": "情况属实，同意休学。",
    "registrar": "材料齐全，同意。",
    "leader": "同意休学一年。",
}


def _open(page, username: str, name: str) -> None:
    login(page, username)
    page.click(f"[data-testid=task-row] >> text={name}")
    page.wait_for_selector("[data-testid=task-title]")


def _review(page, username: str, name: str, decide: bool = True) -> None:
    _open(page, username, name)
    assert page.locator("#root_comment").input_value() == ""  # not the previous opinion
    signing = page.locator("[data-testid=signing-as]").inner_text()
    assert f"提交即由 {NAMES[username]} 签署" in signing
    if decide:
        page.get_by_role("radio", name="通过", exact=True).check()
    page.fill("#root_comment", OPINIONS[username])
    page.click("button:has-text('提交')")
    page.wait_for_selector(f"text=已提交：{name}")
    logout(page)


def test_four_reviewers_each_sign_their_own_opinion(page, deployed):
    response = deployed.post(
        "/api/v1/process-definitions/status_change/start",
        json={
            "variables": {
                "kind": "休学",
                "reason": "因工作调动，申请休学一年",
                "effective_term": "2027-春",
            }
        },
        headers=auth(deployed, "stu1001"),
    )
    assert response.status_code == 201, response.text
    instance_id = response.json()["id"]
    complete(
        deployed,
        "stu1001",
        only_task(deployed, "stu1001"),
        {"phone": "13800000000", "statement": "因工作调动到外地，无法参加面授。"},
    )

    _review(page, "station1", "函授站签署审核意见")
    _review(page, "registrar", "学院审核")

    # the leader's form opens empty; the case panel shows the application by its titles
    _open(page, "leader", "学籍主管领导签批")
    page.locator(".page-head .meta", has_text="函授站：郑州函授站").wait_for()  # not S01
    panel = page.locator(".side-column .variables").first
    assert "异动类别" in panel.inner_text() and "休学" in panel.inner_text()
    assert "联系电话" in panel.inner_text() and "13800000000" in panel.inner_text()
    side = page.locator(".side-column").inner_text()
    for technical in ("spiff", "signed_by", '{"', "application"):
        assert technical not in side, technical
    page.locator(".documents [data-testid=document-link]", has_text="学籍异动审批表").wait_for()
    screenshot(page, "review_case_panel")
    logout(page)
    _review(page, "leader", "学籍主管领导签批", decide=False)

    # the fourth: 报教育厅审核备案, its 备注 empty too
    _open(page, "registrar", "报教育厅审核备案")
    assert page.locator("#root_comment").input_value() == ""
    page.fill("#root_filing_number", "豫教备〔2027〕12 号")
    page.fill("#root_comment", "已报教育厅备案。")
    page.click("button:has-text('提交')")
    page.wait_for_selector("text=已提交：报教育厅审核备案")
    task = only_task(deployed, "registrar")
    complete(deployed, "registrar", task, {"result_notice": "同意休学，自 2027 年春季学期起。"})

    # 修改学籍: the changes shown to confirm, the confirmation not ticked
    page.goto(page.base + "/inbox")
    page.click("[data-testid=task-row] >> text=修改学院学籍管理信息系统中学生个人信息")
    page.wait_for_selector("#root_confirmed")
    assert not page.locator("#root_confirmed").is_checked()
    shown = page.locator(".form-card input[type=text]").evaluate_all("els => els.map(e => e.value)")
    assert "休学" in shown, shown  # the preview's 修改后, from the case

    # the case's history: each reviewer by name, with their own opinion
    page.goto(page.base + f"/instances/{instance_id}")
    history = page.locator("[data-testid=history]")
    history.locator("[data-testid=history-opinion]").first.wait_for()
    completed = history.locator("[data-testid=history-task_completed]")
    lines = [completed.nth(i).inner_text() for i in range(completed.count())]
    by_step = {
        "函授站签署审核意见": ("郑州函授站", OPINIONS["station1"]),
        "学院审核": ("学籍管理员", OPINIONS["registrar"]),
        "学籍主管领导签批": ("学籍主管领导", OPINIONS["leader"]),
        "报教育厅审核备案": ("学籍管理员", "已报教育厅备案。"),
    }
    for step, (name, opinion) in by_step.items():
        [line] = [text for text in lines if step in text]
        assert name in line and opinion in line, line
    text = history.inner_text()
    for username in ("stu1001", "station1", "registrar", "leader"):
        assert username not in text, username  # names, never usernames
    # a task made by the student's step is not credited to the student
    created = history.locator("[data-testid=history-task_created]", has_text="函授站签署审核意见")
    assert "张伟" not in created.inner_text() and "待函授站办理" in created.inner_text()
    side = page.locator(".side-column").inner_text()
    assert "result_notice" not in side and "反馈内容" in side  # by its title
    assert page.locator("[data-testid=technical-data]").count() == 0
    screenshot(page, "case_history_four_reviewers")

    logout(page)
    login(page, "admin")
    page.goto(page.base + f"/instances/{instance_id}")
    technical = page.locator("[data-testid=technical-data]")
    technical.locator("summary").click()
    assert "change_preview" in technical.inner_text()  # an admin may look at everything
