"""Steps the browser tests share: log in and out, save a screenshot."""

from __future__ import annotations

from pathlib import Path

ARTIFACTS = Path(__file__).parent / "artifacts"


def login(page, username: str, password: str = "demo") -> None:
    page.goto(page.base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=whoami]")


def logout(page) -> None:
    page.click("text=退出登录")
    page.wait_for_selector("input[name=username]")


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
