"""The administrator's operations pages in the browser: the incidents page lists a failed step
with its cause, a variable is corrected and the step retried from there; the migration page
shows a dry run's blocker and moves cases once the element is paired."""

from __future__ import annotations

import shutil

from tests.helpers import ROOT, auth
from tests.operations.cases import active, call, deploy_version, start
from tests.web.ui import login, screenshot

ARTIFACTS = ROOT / "var" / "artifacts"


def keep(page, name: str) -> None:
    """The screenshot, also under var/artifacts/ (not committed)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(screenshot(page, name), ARTIFACTS / f"{name}.png")


def test_admin_corrects_a_failed_step_on_the_incidents_page_and_retries_it(page, deployed):
    deploy_version(deployed)
    case = start(deployed)["id"]
    [check] = active(deployed, case)
    response = deployed.post(
        f"/api/v1/tasks/{check['id']}/complete",
        json={"data": {"mode": "boom", "count": 2}},
        headers=auth(deployed, "registrar"),
    )
    assert response.status_code == 422, response.text

    login(page, "admin")
    page.click("nav >> text=故障处理")
    page.wait_for_selector("[data-testid=incident-row]")
    assert "division by zero" in page.inner_text("[data-testid=incident-cause]")
    page.fill("[data-testid=variable-name]", "mode")
    page.fill("[data-testid=variable-value]", '"normal"')
    page.click("[data-testid=variable-set]")
    page.wait_for_selector("text=已修改变量 mode")
    keep(page, "incidents_page")
    page.click("[data-testid=incident-retry]")
    page.wait_for_selector("[data-testid=no-incidents]")

    assert [t["element_id"] for t in active(deployed, case)] == ["approve"]
    assert call(deployed, "GET", f"/process-instances/{case}")["variables"]["total"] == 4


def test_admin_dry_runs_a_migration_sees_the_blocker_then_pairs_and_executes(page, deployed):
    deploy_version(deployed)
    cases = [start(deployed, f"2027-S01-{n}")["id"] for n in range(3)]
    changed = deploy_version(deployed, check_id="first_check", check_name="初审")

    login(page, "admin")
    page.click("nav >> text=实例迁移")
    page.select_option("[data-testid=migration-key]", "case_review")
    page.wait_for_selector(
        f"[data-testid=migration-target] >> option[value='{changed}']", state="attached"
    )
    page.click("[data-testid=migration-dry-run]")
    page.wait_for_selector("[data-testid=migration-row]")
    assert page.locator("[data-testid=migration-row]").count() == 3
    assert "NoTarget" in page.inner_text("[data-testid=blockers] >> nth=0")
    keep(page, "migration_dry_run_blocked")

    page.fill("[data-testid=migration-pairs]", "check=first_check")
    page.click("[data-testid=migration-dry-run]")
    page.wait_for_selector("text=可迁移 3，受阻 0")
    page.click("[data-testid=migration-execute]")
    page.wait_for_selector("text=已迁移 3")
    keep(page, "migration_executed")

    for case in cases:
        [task] = active(deployed, case)
        assert (task["element_id"], task["name"]) == ("first_check", "初审")
