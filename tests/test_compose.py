"""docker-compose.yml is configured by exactly the XUEJI_ variables the settings read."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from xueji.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_compose_services_use_only_settings_variables():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "migrate", "api", "worker"} <= set(services)
    known = {f"XUEJI_{name.upper()}" for name in Settings.model_fields}
    for name in ("migrate", "api", "worker"):
        env = services[name]["environment"]
        xueji_vars = {k for k in env if k.startswith("XUEJI_")}
        assert {"XUEJI_DATABASE_URL", "XUEJI_SECRET_KEY"} <= xueji_vars, name
        assert xueji_vars <= known, (name, xueji_vars - known)
        assert env["XUEJI_DATABASE_URL"].startswith("postgresql+psycopg://")
    # The API can be scaled: no fixed host port.
    assert all(":" not in str(port) for port in services["api"].get("ports", []))
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_no_secret_is_written_into_the_compose_file():
    text = (ROOT / "docker-compose.yml").read_text()
    found = re.findall(r"^\s*\w*(?:SECRET_KEY|PASSWORD): *(.+)$", text, re.MULTILINE)
    assert len(found) >= 2
    for value in found:
        assert value.startswith("${"), value
