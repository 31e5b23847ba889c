"""Browser tests of the web UI: the real app (API + built UI) under uvicorn in a thread, driven by
Debian's chromium through Playwright. No browser is ever downloaded."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT, deploy_processes

CHROMIUM = Path("/usr/bin/chromium")
DIST = ROOT / "web" / "dist"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def web_dist():
    """web/dist, built (or rebuilt when stale) by scripts/build_web.sh."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium fonts-wqy-zenhei)")
    pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
    )
    script = ROOT / "scripts" / "build_web.sh"
    if shutil.which("npm"):
        result = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=900)
        if result.returncode != 0 and not (DIST / "index.html").exists():
            pytest.skip(f"web/dist is missing and cannot be built:\n{result.stderr[-2000:]}")
    if not (DIST / "index.html").exists():
        pytest.skip(
            "web/dist is missing and npm is not installed to build it (scripts/build_web.sh)"
        )
    return DIST


@pytest.fixture(scope="session")
def browser(web_dist):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def deployed(client):
    """status_change with all forms deployed; the TestClient for API set-up and checks."""
    deploy_processes(client, "status_change")
    return client


@pytest.fixture
def server(db, deployed, web_dist):
    """Base URL of the real app (API and UI) on a free port, against the test database."""
    yield from serve(db, db.settings, web_dist)


def serve(db, settings, web_dist):
    """Run the app with these settings under uvicorn in a thread; yield its base URL."""
    import uvicorn

    from xueji.app import create_app
    from xueji.web import mount_web

    app = create_app(settings, db, prepare_on_start=False)
    if not any(getattr(route, "name", None) == "web" for route in app.router.routes):
        mount_web(app, web_dist)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-web-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    context.set_default_timeout(15000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.base = server  # type: ignore[attr-defined]
    page.errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
