"""The instance diagram, the modeler, scoping of records, the session and the language toggle."""

from __future__ import annotations

from tests.helpers import auth
from tests.web.ui import login, logout, screenshot


def _start(client, username="stu1001"):
    response = client.post(
        "/api/v1/process-definitions/status_change/start",
        json={"variables": {"kind": "休学", "reason": "工作调动", "effective_term": "2027-春"}},
        headers=auth(client, username),
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_instance_page_marks_the_active_task_on_the_diagram(page, deployed):
    instance = _start(deployed)
    login(page, "admin")
    page.goto(page.base + f"/instances/{instance['id']}")
    page.wait_for_selector(".djs-element.active[data-element-id=fill_form]")
    page.wait_for_selector(".djs-element.done[data-element-id=apply]")
    page.wait_for_selector(".djs-element.pending[data-element-id=station_review]")
    assert page.locator("[data-testid=active-task]").inner_text().startswith("填写学籍异动审批表")
    history = page.locator("[data-testid=history]").inner_text()
    assert "发起流程 · 张伟" in history and "stu1001" not in history  # a name, not a username
    page.wait_for_selector("button:has-text('挂起')")
    screenshot(page, "instance_diagram")
    page.click("button:has-text('挂起')")
    page.wait_for_selector("text=已挂起")
    assert (
        deployed.get(
            f"/api/v1/process-instances/{instance['id']}", headers=auth(deployed, "admin")
        ).json()["state"]
        == "suspended"
    )


def test_admin_renames_a_task_and_deploys_version_2(page, deployed):
    login(page, "admin")
    page.click("nav >> text=系统管理")
    row = page.locator("[data-testid=definition-row][data-key=status_change]")
    assert row.locator("[data-testid=latest-version]").inner_text() == "v1"
    row.locator("text=打开建模器").click()
    element = page.locator(".djs-element[data-element-id=station_review]")
    element.wait_for()
    _palette_leaves_the_start_event_free(page)
    element.click()
    page.locator(".bio-properties-panel-header-label", has_text="函授站签署审核意见").wait_for()
    name = page.locator("#bio-properties-panel-name")
    if not name.is_visible():
        page.click(".bio-properties-panel-group-header:has-text('常规')")
    name.wait_for()
    assert name.input_value() == "函授站签署审核意见"
    assert (
        page.locator("[data-testid=prop-formJsonSchemaFilename]").input_value()
        == "review.schema.json"
    )
    # the deadline in words beside its rule, as the diff says it
    page.locator("[data-testid=due-words]", has_text="7 天").wait_for()
    due = page.locator("[data-testid=prop-dueDate]")
    due.fill("P14D")
    due.press("Tab")
    page.locator("[data-testid=due-words]", has_text="14 天").wait_for()
    name.fill("函授站审核并签署意见")
    name.press("Tab")
    page.wait_for_selector("text=有未部署的修改")
    page.click("[data-testid=btn-validate]")
    page.wait_for_selector("text=校验通过，可以部署")
    page.click("[data-testid=btn-deploy]")
    page.wait_for_selector("text=已部署：学籍异动 版本 2")
    page.locator("[data-testid=loaded]", has_text="v2").wait_for()

    # what changed from v1, as a list and on the diagram
    page.click("[data-testid=btn-diff]")
    items = page.locator("[data-testid=diff-item]")
    items.first.wait_for()
    assert items.all_inner_texts() == [
        "重命名 重命名任务「函授站签署审核意见」→「函授站审核并签署意见」",
        "修改 任务「函授站审核并签署意见」办理期限 7 天 → 14 天",
    ]
    page.wait_for_selector(".djs-element.diff-changed[data-element-id=station_review]")
    assert page.locator(".djs-element.diff-changed").count() == 1
    page.locator("[data-testid=diff-item] button").first.click()
    page.locator(".bio-properties-panel-header-label", has_text="函授站审核并签署意见").wait_for()
    screenshot(page, "modeler_diff")

    detail = deployed.get(
        "/api/v1/process-definitions/status_change", headers=auth(deployed, "admin")
    ).json()
    assert detail["version"] == 2 and detail["versions"] == [1, 2]
    xml = deployed.get(
        "/api/v1/process-definitions/status_change/xml", headers=auth(deployed, "admin")
    ).text
    assert 'name="函授站审核并签署意见"' in xml
    assert 'value="review.schema.json"' in xml and "apply_status_change" in xml

    page.click("nav >> text=系统管理")
    row = page.locator("[data-testid=definition-row][data-key=status_change]")
    row.locator("[data-testid=latest-version]", has_text="v2").wait_for()
    assert "v1" in row.inner_text() and "v2" in row.inner_text()


def test_a_deleted_element_is_marked_removed_on_the_earlier_version(page, deployed):
    login(page, "admin")
    page.goto(page.base + "/admin/modeler/status_change")
    timer = page.locator(".djs-element[data-element-id=station_review_deadline]")
    timer.wait_for()
    timer.click()
    page.click(".djs-context-pad .entry[data-action=delete]")
    page.wait_for_selector("text=有未部署的修改")
    page.click("[data-testid=btn-deploy]")
    page.wait_for_selector("text=已部署：学籍异动 版本 2")
    page.locator("[data-testid=loaded]", has_text="v2").wait_for()
    page.click("[data-testid=btn-diff]")
    items = page.locator("[data-testid=diff-item]")
    items.first.wait_for()
    assert items.all_inner_texts() == [
        "删除 删除事件「7 天内」",
        "删除 删除顺序流「7 天内 → 逾期提醒」",
    ]
    page.wait_for_selector(
        "[data-testid=removed-view] .djs-element.diff-removed"
        "[data-element-id=station_review_deadline]"
    )
    screenshot(page, "modeler_removed")


def _palette_leaves_the_start_event_free(page):
    start = page.locator(".djs-element[data-element-id=apply]").bounding_box()
    palette = page.locator(".djs-palette").bounding_box()
    assert start["x"] > palette["x"] + palette["width"], (start, palette)


def test_modeler_shows_validation_problems_on_their_elements(page, deployed):
    login(page, "admin")
    page.goto(page.base + "/admin/modeler/status_change")
    element = page.locator(".djs-element[data-element-id=leader_sign]")
    element.wait_for()
    element.click()
    link = page.locator("[data-testid=prop-formJsonSchemaFilename]")
    link.fill("missing_form.schema.json")
    link.press("Tab")
    page.click(".djs-element[data-element-id=apply]")  # another element selected
    page.wait_for_selector(".djs-element.selected[data-element-id=apply]")
    page.click("[data-testid=btn-validate]")
    problems = page.locator("[data-testid=problems]")
    problems.wait_for()
    # in Chinese, naming the element by its name
    assert "学籍主管领导签批" in problems.locator("[data-testid=problem-element]").inner_text()
    assert (
        "「学籍主管领导签批」的表单 missing_form.schema.json 既不在本次上传中，也尚未部署"
        in problems.inner_text()
    ), problems.inner_text()
    page.wait_for_selector(".djs-element.has-problem[data-element-id=leader_sign]")
    # clicking the problem selects its element
    page.click("[data-testid=problem-element]:has-text('学籍主管领导签批')")
    page.wait_for_selector(".djs-element.selected[data-element-id=leader_sign]")
    page.locator(".bio-properties-panel-header-label", has_text="学籍主管领导签批").wait_for()
    screenshot(page, "modeler_problems")
    page.click("[data-testid=btn-deploy]")
    page.wait_for_selector("text=部署失败")
    detail = deployed.get(
        "/api/v1/process-definitions/status_change", headers=auth(deployed, "admin")
    ).json()
    assert detail["versions"] == [1]


def test_station_cannot_open_another_stations_student(page, deployed):
    others = deployed.get(
        "/api/v1/students", params={"station": "S02"}, headers=auth(deployed, "admin")
    ).json()
    own = deployed.get(
        "/api/v1/students", params={"station": "S01"}, headers=auth(deployed, "admin")
    ).json()
    login(page, "station1")
    page.goto(page.base + f"/students/{own['items'][0]['id']}")
    page.wait_for_selector(f"[data-testid=student-name]:has-text('{own['items'][0]['name']}')")
    page.goto(page.base + f"/students/{others['items'][0]['id']}")
    page.wait_for_selector("[data-testid=not-found]")
    assert others["items"][0]["name"] not in page.content()
    page.click("nav >> text=学生学籍")
    page.wait_for_selector("[data-testid=student-row]")
    names = page.locator("[data-testid=student-row]").all_inner_texts()
    assert names and all("郑州函授站" in row for row in names)


def test_session_survives_reload_and_language_toggles(page, deployed):
    login(page, "registrar")
    page.reload()
    page.wait_for_selector("[data-testid=whoami]:has-text('学院学籍管理')")
    page.click("nav >> text=学籍统计")
    page.wait_for_selector("[data-testid=chart-station] .bar")
    assert page.locator("[data-testid=chart-level] .bar").count() == 3
    page.click("text=English")
    page.wait_for_selector("nav >> text=Inbox")
    page.wait_for_selector("text=Student statistics")
    page.click("text=中文")
    page.wait_for_selector("nav >> text=待办任务")
    logout(page)
    page.goto(page.base + "/inbox")
    page.wait_for_selector("input[name=username]")
