"""Choices in the browser: a form's lists filled by the server render as selects with names,
scoped to the user; a student does not see the student field at all."""

from __future__ import annotations

from tests.helpers import auth, deploy_processes
from tests.web.ui import login, logout, screenshot


def _options(page, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(f"{selector} option").all_inner_texts()]


def test_a_station_chooses_among_its_own_students_by_name(page, deployed):
    deploy_processes(deployed, "daily_records")
    login(page, "station1")
    page.click("text=发起流程")
    page.click("[data-testid=start-daily_records]")
    page.wait_for_selector("#root_student")
    assert page.input_value("#root_student") == ""  # nobody chosen until the user chooses
    students = _options(page, "#root_student")
    # a registered student is shown with the 学号, one not registered yet with 学号 未编
    assert any("杨帆" in o and "学号 2025" in o and "郑州函授站" in o for o in students), students
    assert any("张伟" in o and "学号 未编" in o and "郑州函授站" in o for o in students), students
    assert not any("洛阳函授站" in o or "刘洋" in o for o in students), students  # S02's
    page.select_option("#root_student", label=next(o for o in students if "张伟" in o))
    path = screenshot(page, "choices_daily_records_start")
    assert path.stat().st_size > 10_000


def test_status_change_start_form_offers_students_stations_and_terms_by_name(page, deployed):
    login(page, "admin")
    page.click("text=发起流程")
    page.click("[data-testid=start-status_change]")
    page.wait_for_selector("#root_student")
    page.select_option("#root_kind", "转函授站")
    page.wait_for_selector("#root_target_station")
    students = _options(page, "#root_student")
    assert any("张伟" in o and "郑州函授站" in o for o in students), students
    assert any("刘洋" in o and "洛阳函授站" in o for o in students), students
    assert "洛阳函授站（S02）" in _options(page, "#root_target_station")
    assert any("年春季学期" in o for o in _options(page, "#root_effective_term"))
    assert page.input_value("#root_effective_term") == ""
    page.select_option("#root_effective_term", label="2027 年春季学期")
    page.select_option("#root_student", label=next(o for o in students if "张伟" in o))
    page.select_option("#root_target_station", label="洛阳函授站（S02）")
    screenshot(page, "choices_status_change_start")

    # the choice sent is the record's id, and the case is the chosen student's
    page.fill("#root_reason", "因工作调动，申请转入洛阳函授站")
    page.click("button:has-text('发起')")
    page.wait_for_url("**/instances/*")
    instance_id = page.url.rsplit("/", 1)[-1]
    seen = deployed.get(
        f"/api/v1/process-instances/{instance_id}", headers=auth(deployed, "registrar")
    ).json()
    me = deployed.get("/api/v1/me", headers=auth(deployed, "stu1001")).json()
    assert seen["variables"]["student"] == me["student"]
    assert seen["variables"]["target_station"] == "S02"

    # a student applies for themself: no student field
    logout(page)
    login(page, "stu1002")
    page.click("text=发起流程")
    page.click("[data-testid=start-status_change]")
    page.wait_for_selector("#root_kind")
    assert page.locator("#root_student").count() == 0


def test_a_long_list_is_searched_in_the_lookup_widget(page, deployed, monkeypatch):
    from xueji.forms import choices

    monkeypatch.setattr(choices, "INLINE_LIMIT", 1)  # as if the station had thousands
    deploy_processes(deployed, "daily_records")
    login(page, "station1")
    page.click("text=发起流程")
    page.click("[data-testid=start-daily_records]")
    page.wait_for_selector("#root_student__search")
    # the whole (first) list is shown until the search's answer replaces it: wait for that
    page.locator("#root_student option", has_text="王芳").wait_for(state="attached")
    page.fill("#root_student__search", "张")
    page.locator("#root_student option", has_text="王芳").wait_for(state="detached")
    page.locator("#root_student option", has_text="张伟").wait_for(state="attached")
    found = _options(page, "#root_student")
    assert not any("王芳" in o for o in found) and not any("刘洋" in o for o in found), found
    page.select_option("#root_student", label=next(o for o in found if "张伟" in o))
    screenshot(page, "choices_lookup_widget")
    page.click("button:has-text('发起')")
    page.wait_for_url("**/instances/*")
    instance_id = page.url.rsplit("/", 1)[-1]
    seen = deployed.get(
        f"/api/v1/process-instances/{instance_id}", headers=auth(deployed, "registrar")
    ).json()
    me = deployed.get("/api/v1/me", headers=auth(deployed, "stu1001")).json()
    assert seen["variables"]["student"] == me["student"]


def test_check_in_offers_the_stations_admitted_candidates_and_hides_its_station(page, deployed):
    deploy_processes(deployed, "enrollment_checkin")
    form = deployed.get(
        "/api/v1/process-definitions/enrollment_checkin", headers=auth(deployed, "station1")
    ).json()["start_form"]["schema"]
    [first, *_] = form["properties"]["exam_number"]["x-suggestions"]
    login(page, "station1")
    page.click("text=发起流程")
    page.click("[data-testid=start-enrollment_checkin]")
    page.wait_for_selector("#root_exam_number")
    assert page.locator("#root_station").count() == 0  # the station comes from the session
    listed = page.locator("#root_exam_number__list option")
    assert listed.count() == len(form["properties"]["exam_number"]["x-suggestions"])
    assert listed.first.get_attribute("value") == first["value"]
    page.fill("#root_exam_number", first["value"])
    chosen = page.locator("[data-testid=root_exam_number__chosen]")
    assert chosen.inner_text() == first["title"]  # the candidate's name, year, major
    screenshot(page, "choices_checkin_candidates")
    page.fill("#root_exam_number", "99999999999999")
    page.locator("[data-testid=root_exam_number__chosen]", has_text="名单中没有此项").wait_for()
