"""The demo's login page lists its accounts; an accessibility pass with axe-core (npm, web/
node_modules) over the main pages finds no serious or critical violation."""

from __future__ import annotations

import pytest

from tests.helpers import ROOT, auth, complete, only_task
from tests.web.conftest import serve
from tests.web.ui import login, logout, screenshot

AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def server(db, deployed, web_dist):
    """The app in demo mode (GET /demo/accounts routed), on the test database."""
    yield from serve(db, db.settings.model_copy(update={"demo": True}), web_dist)


def serious_violations(page) -> list[str]:
    if not AXE.exists():
        pytest.skip("axe-core is not installed (cd web && npm ci)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}) at {node['target']}: {node['failureSummary']}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
        for node in v["nodes"]
    ]


def test_the_demo_login_page_lists_the_accounts_to_log_in_with(page):
    page.goto(page.base + "/login")
    accounts = page.locator("[data-testid=demo-accounts]")
    accounts.locator("text=密码均为 demo").wait_for()
    row = accounts.locator("tr", has_text="stu1001")
    assert "张伟" in row.inner_text() and "学生" in row.inner_text()
    assert accounts.locator("tr", has_text="学籍主管领导").count() >= 1
    screenshot(page, "login_demo_accounts")
    assert serious_violations(page) == []
    row.locator("button", has_text="stu1001").click()
    page.click("button[type=submit]")
    page.locator("[data-testid=whoami]", has_text="张伟").wait_for()


def test_the_main_pages_have_no_serious_accessibility_violations(page, deployed):
    response = deployed.post(
        "/api/v1/process-definitions/status_change/start",
        json={"variables": {"kind": "休学", "reason": "工作调动", "effective_term": "2027-春"}},
        headers=auth(deployed, "stu1001"),
    )
    instance_id = response.json()["id"]
    complete(
        deployed,
        "stu1001",
        only_task(deployed, "stu1001"),
        {"phone": "13800000000", "statement": "申请休学"},
    )
    task = only_task(deployed, "station1")
    found: dict[str, list[str]] = {}
    login(page, "station1")
    page.wait_for_selector("[data-testid=task-row]")
    found["inbox"] = serious_violations(page)
    page.goto(page.base + f"/tasks/{task['id']}")
    page.wait_for_selector("#root_comment")
    found["task"] = serious_violations(page)
    page.goto(page.base + f"/instances/{instance_id}")
    page.wait_for_selector("[data-testid=history] li")
    found["case"] = serious_violations(page)
    logout(page)
    login(page, "admin")
    page.goto(page.base + "/students")
    page.wait_for_selector("table")
    found["students"] = serious_violations(page)
    page.goto(page.base + "/admin/modeler/status_change")
    page.wait_for_selector(".djs-container")
    found["modeler"] = serious_violations(page)
    assert found == {name: [] for name in found}, "\n".join(
        f"{name}: {problem}" for name, problems in found.items() for problem in problems
    )
