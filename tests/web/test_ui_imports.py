"""The import page in the browser: a bad file shows its problems by row and column and writes
nothing; a large file runs as a job whose percent the page polls up to 100 %."""

from __future__ import annotations

import threading

from tests.helpers import auth
from tests.imports.test_imports import ADMISSION_HEADER, admission, xlsx
from tests.web.ui import login, screenshot
from xueji.imports.jobs import SYNC_ROWS
from xueji.scheduler.worker import run_forever


def test_registrar_imports_admissions_and_sees_problems_then_a_job(page, deployed, db, tmp_path):
    before = deployed.get("/api/v1/admissions", headers=auth(deployed, "registrar")).json()
    bad = tmp_path / "录取_错误.xlsx"
    bad.write_bytes(xlsx(ADMISSION_HEADER, [admission(1), admission(2, XB="未知")]))
    login(page, "registrar")
    page.click("text=数据导入")
    page.wait_for_selector("[data-testid=imports-page]")
    page.select_option("[data-testid=import-kind]", "admissions")
    page.set_input_files("[data-testid=import-file]", str(bad))
    page.click("[data-testid=import-submit]")
    page.wait_for_selector("[data-testid=import-problems]")
    assert page.inner_text("[data-testid=import-state]") == "有错误，未写入"
    row = page.locator("[data-testid=import-problems] tbody tr").first.inner_text()
    assert "3" in row and "XB" in row and "“未知”不在代码表中" in row
    screenshot(page, "imports_rejected")
    after = deployed.get("/api/v1/admissions", headers=auth(deployed, "registrar")).json()
    assert after["total"] == before["total"]

    large = tmp_path / "录取.xlsx"
    large.write_bytes(xlsx(ADMISSION_HEADER, [admission(5000 + n) for n in range(SYNC_ROWS + 50)]))
    page.set_input_files("[data-testid=import-file]", str(large))
    # the job runs in the worker (here a thread of the test, as in `xueji serve`)
    stop = threading.Event()
    worker = threading.Thread(target=run_forever, args=(db, stop, 0.2), daemon=True)
    worker.start()
    try:
        page.click("[data-testid=import-submit]")
        page.wait_for_function(
            "document.querySelector('[data-testid=import-percent]')?.innerText === '100%'",
            timeout=60_000,
        )
    finally:
        stop.set()
        worker.join(timeout=30)
    assert page.inner_text("[data-testid=import-state]") == "已完成"
    screenshot(page, "imports_done")
    after = deployed.get("/api/v1/admissions", headers=auth(deployed, "registrar")).json()
    assert after["total"] == before["total"] + SYNC_ROWS + 50
