"""Operating in the browser: a user whose password was reset must choose a new one (the
rules said in Chinese) before the inbox opens; an administrator reads the audit log,
filters it and downloads it as XLSX."""

from __future__ import annotations

import io

import openpyxl

from tests.helpers import auth
from tests.web.ui import login, screenshot


def test_a_reset_password_is_replaced_at_login_and_the_audit_log_shows_it(page, deployed):
    admin = auth(deployed, "admin")
    created = deployed.post(
        "/api/v1/users",
        json={
            "username": "clerk_s02",
            "password": "first-pass-1",
            "display_name": "洛阳站办事员",
            "roles": ["station"],
            "station": "S02",
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    login(page, "admin")
    page.goto(page.base + "/admin/users")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("[data-testid=user-clerk_s02] [data-testid=reset-password]")
    shown = page.inner_text("[data-testid=users-message]")
    one_time = shown.split("：", 1)[1].split("（", 1)[0]
    # the list is read again after the reset: wait for it rather than race it
    page.locator("[data-testid=user-clerk_s02]", has_text="待改密码").wait_for()
    screenshot(page, "password_reset_shown")
    page.click("text=退出登录")

    page.goto(page.base + "/login")
    page.fill("input[name=username]", "clerk_s02")
    page.fill("input[name=password]", one_time)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=change-password]")
    page.fill("input[name=new_password]", "12345678")
    page.fill("input[name=confirm_password]", "12345678")
    page.click("[data-testid=change-password] button[type=submit]")
    page.wait_for_selector("text=密码不能全是数字")
    screenshot(page, "password_change_refused")
    page.fill("input[name=new_password]", "luoyang-2027")
    page.fill("input[name=confirm_password]", "luoyang-2027")
    page.click("[data-testid=change-password] button[type=submit]")
    page.wait_for_selector("[data-testid=whoami]")
    assert page.url.endswith("/inbox")
    page.click("text=退出登录")

    login(page, "admin")
    page.click("text=审计日志")
    page.wait_for_selector("[data-testid=audit-row]")
    page.select_option("[data-testid=audit-action]", "user.password_reset")
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=audit-row]').length === 1"
        " && document.querySelector('[data-testid=audit-row]').innerText.includes('重置密码')"
    )
    row = page.inner_text("[data-testid=audit-row]")
    assert "admin" in row and "user:clerk_s02" in row and one_time not in row
    assert '"must_change_password":true' in row
    screenshot(page, "audit_log")
    with page.expect_download() as download:
        page.click("[data-testid=audit-export]")
    assert download.value.suggested_filename.startswith("审计日志")
    sheet = openpyxl.load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert [r[3] for r in rows[1:]] == ["user.password_reset"]
