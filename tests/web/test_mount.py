"""mount_web: the built UI at /, index.html for client routes, the API never shadowed."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from xueji.app import create_app
from xueji.web import mount_web


def _app(db, dist):
    app = create_app(db.settings, db, prepare_on_start=False)
    # create_app may already mount the UI (from web/dist); this test mounts its own dist first.
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "name", None) != "web"]
    mount_web(app, dist)
    return app


@pytest.fixture
def dist(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>学籍</title><div id=root></div>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    return tmp_path


def test_serves_index_files_and_client_routes(db, dist):
    with TestClient(_app(db, dist)) as client:
        root = client.get("/")
        assert root.status_code == 200 and "学籍" in root.text
        assert root.headers["cache-control"] == "no-cache"
        for path in ("/inbox", "/tasks/0b9115d1", "/admin/modeler/status_change", "/students/4"):
            response = client.get(path)
            assert response.status_code == 200 and "<div id=root>" in response.text, path
        asset = client.get("/assets/index-abc123.js")
        assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
        assert client.get("/favicon.svg").text == "<svg/>"
        assert client.get("/assets/gone.js").status_code == 404
        assert client.head("/inbox").status_code == 200


def test_never_shadows_the_api_docs_or_openapi(db, dist):
    with TestClient(_app(db, dist)) as client:
        missing = client.get("/api/v1/no-such-thing")
        assert missing.status_code == 404 and missing.headers["content-type"].startswith(
            "application/json"
        )
        assert client.get("/api").status_code == 404
        assert client.get("/api/v1/me").status_code == 401
        assert client.post("/api/v1/me").status_code == 405
        assert client.get("/openapi.json").json()["info"]["title"].startswith("xueji")
        assert "swagger" in client.get("/docs").text.lower()
        assert not any(p == "/{path}" for p in client.get("/openapi.json").json()["paths"])


def test_files_outside_dist_are_not_served(db, dist, tmp_path_factory):
    secret = dist.parent / "secret.txt"
    secret.write_text("not for you")
    with TestClient(_app(db, dist)) as client:
        for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt"):
            response = client.get(path)
            assert "not for you" not in response.text, path


def test_without_a_build_the_root_says_how_to_build(db, tmp_path):
    with TestClient(_app(db, tmp_path / "missing")) as client:
        root = client.get("/")
        assert root.status_code == 200
        assert "scripts/build_web.sh" in root.text
        assert client.get("/inbox").status_code == 404
        assert client.get("/api/v1/me").status_code == 401
