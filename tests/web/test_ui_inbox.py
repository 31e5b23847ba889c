"""The inbox at volume in the browser (issue 12, points 4 and 5): 500 open tasks made by the
real service, searched by 学号, sorted by due date, paged past the first page, and the batch
screen listing what it will complete; a student's own task has no 认领 button."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from tests.helpers import ROOT, add_open_tasks, auth, deploy_bench, deploy_processes
from tests.processes.test_status_change import PAST_TERM
from tests.web.ui import login
from xueji import clock
from xueji.auth.principal import Principal
from xueji.auth.roles import Role
from xueji.db.session import session_scope
from xueji.definitions.repository import get_definition
from xueji.instances.service import start_instance
from xueji.models import Station, Student
from xueji.tasks.endpoints import TOTAL_CAP

ARTIFACTS = ROOT / "var" / "artifacts"
COUNT = 500
KINDS = ["休学", "退学"]


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def seed(runtime) -> tuple[list[str], float]:
    """COUNT students of S01 (学号 2026001xxxx), each with a 学籍异动 application started one
    hour apart, so that their tasks' due dates (7 days after) differ; through the service's
    own start, in one transaction. Returns the 学号 in order and the seconds it took."""
    began = time.monotonic()
    now = clock.now()
    numbers = [f"2026001{i:05d}" for i in range(COUNT)]
    with session_scope(runtime.db.writer) as session:
        station = session.scalar(select(Station).where(Station.code == "S01"))
        students = [
            Student(
                station_id=station.id,
                student_number=number,
                name=f"测试{i:03d}",
                gender="男",
                id_number=f"41010419990101{i:04d}",
                level="专科",
                major="会计",
                intake_year=2026,
                status="在籍",
                created_at=now,
            )
            for i, number in enumerate(numbers)
        ]
        session.add_all(students)
        session.flush()
        definition = get_definition(session, "status_change")
        for i, student in enumerate(students):
            principal = Principal(
                username=f"seed{i}",
                display_name=student.name,
                roles=frozenset({Role.STUDENT}),
                station_id=station.id,
                station_code="S01",
                student_id=student.id,
                user_id=None,
            )
            variables = {
                "kind": KINDS[i % 2],
                "reason": "工作调动",
                "effective_term": PAST_TERM,
            }
            with clock.at(now - timedelta(hours=i)):
                start_instance(session, runtime, principal, definition, f"YD-{i:04d}", variables)
    return numbers, time.monotonic() - began


def test_an_inbox_of_500_tasks_searched_sorted_paged_and_batched(page, db, deployed):
    numbers, seconds = seed(db)
    print(f"seeded {COUNT} tasks in {seconds:.1f} s")
    counts = deployed.get("/api/v1/tasks/counts", headers=auth(deployed, "admin")).json()
    assert counts["all"] == COUNT

    login(page, "admin")
    page.goto(page.base + "/inbox")
    page.locator("[data-testid=count-all]", has_text=str(COUNT)).wait_for()
    rows = page.locator("[data-testid=task-row]")
    rows.nth(49).wait_for()
    assert rows.count() == 50
    # sorted by due date (the default here): the oldest application is due first
    first = rows.first.locator("[data-testid=task-summary]").inner_text()
    assert first.startswith("退学 · " if (COUNT - 1) % 2 else "休学 · ") and "测试499" in first
    page.locator("[data-testid=page-info]", has_text="共 500 项").wait_for()
    shot(page, "inbox_500")

    # descending by clicking 期限 (▲ becomes ▼): the newest application first
    page.click("[data-testid=sort-due]")
    page.locator("th[aria-sort=descending] [data-testid=sort-due]").wait_for()
    rows.first.locator("[data-testid=task-summary]", has_text="测试000").wait_for()

    # paging past the first page (keyset cursors), and back
    for expected in ("测试050", "测试100", "测试150"):
        page.click("[data-testid=page-next]")
        page.locator("[data-testid=task-row]", has_text=expected).first.wait_for()
        assert expected in rows.first.inner_text()
    page.locator("[data-testid=page-info]", has_text="第 4 / 10 页").wait_for()
    shot(page, "inbox_500_page4")
    page.click("[data-testid=page-prev]")
    page.locator("[data-testid=task-row]", has_text="测试100").first.wait_for()

    # search by 学号: one row, whatever page one was on
    page.fill("[data-testid=inbox-search]", numbers[321])
    page.keyboard.press("Enter")
    page.locator("[data-testid=count-all]", has_text="1").wait_for()
    rows.first.locator("[data-testid=task-summary]", has_text="测试321").wait_for()
    assert rows.count() == 1 and numbers[321] in rows.first.inner_text()
    page.locator("[data-testid=page-info]", has_text="第 1 / 1 页").wait_for()
    shot(page, "inbox_search_student_number")

    # the same step, narrowed to 退学 on the server, selected together and listed on the batch
    # screen with their summaries
    page.fill("[data-testid=inbox-search]", "")
    page.keyboard.press("Enter")
    page.select_option("[data-testid=filter-kind]", "退学")
    page.locator("[data-testid=count-all]", has_text="250").wait_for()
    page.locator("[data-testid=task-row] >> text=同步骤").first.click()
    page.locator(".batch-bar", has_text="已选 50 项").wait_for()
    page.click("[data-testid=batch-complete]")
    page.wait_for_url("**/tasks/batch?ids=*")
    batch = page.locator("[data-testid=batch-row]")
    batch.nth(49).wait_for()
    assert batch.count() == 50
    summaries = page.locator("[data-testid=batch-summary]").all_inner_texts()
    assert all(s.startswith(f"退学 · {PAST_TERM} · 测试") for s in summaries)
    assert len(set(summaries)) == 50  # fifty different applications, each shown
    shot(page, "batch_50")


def test_a_student_sees_no_claim_button_on_their_own_task(page, deployed):
    deploy_processes(deployed, "thesis")
    body = {"variables": {"kind": "休学", "reason": "工作调动", "effective_term": PAST_TERM}}
    started = deployed.post(
        "/api/v1/process-definitions/status_change/start",
        json=body,
        headers=auth(deployed, "stu1001"),
    )
    assert started.status_code == 201, started.text
    login(page, "stu1001")
    page.goto(page.base + "/inbox")
    row = page.locator("[data-testid=task-row]", has_text="填写学籍异动审批表")
    row.wait_for()
    assert f"休学 · {PAST_TERM} · 张伟" in row.inner_text()
    assert row.locator("button", has_text="认领").count() == 0
    # the process filter lists only what the student may start or has tasks in
    options = page.locator("[data-testid=filter-process] option").all_inner_texts()
    assert options == ["全部流程", "学籍异动"]  # not 毕业设计（论文）, deployed too


def test_an_inbox_beyond_the_total_cap_shows_the_exact_count(page, db, deployed):
    """The first page counts its total up to TOTAL_CAP (total_capped); the footer and the
    page count come from GET /tasks/counts, which counts exactly."""
    deploy_bench(deployed)
    started = deployed.post(
        "/api/v1/process-definitions/bench_ten_steps/start",
        json={"variables": {}},
        headers=auth(deployed, "station1"),
    )
    assert started.status_code == 201, started.text
    add_open_tasks(db, started.json()["id"], TOTAL_CAP + 50)
    total = TOTAL_CAP + 51
    first = deployed.get("/api/v1/tasks", headers=auth(deployed, "station1")).json()
    assert (first["total"], first["total_capped"]) == (TOTAL_CAP, True)

    login(page, "station1")
    page.goto(page.base + "/inbox")
    page.locator("[data-testid=count-all]", has_text=str(total)).wait_for()
    pages = -(-total // 50)
    info = page.locator("[data-testid=page-info]")
    info.filter(has_text=f"第 1 / {pages} 页 · 共 {total} 项").wait_for()
    page.click("[data-testid=page-next]")
    info.filter(has_text=f"第 2 / {pages} 页 · 共 {total} 项").wait_for()
    shot(page, "inbox_beyond_cap")
