"""The README's "Operating" commands, run as written by bash (PostgreSQL; a database, ports
and files of the test's own): create the database, migrate, an administrator, two API
processes and a worker until both are ready, a backup restored into a new database, and
the upgrade's commands."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from tests.test_cli_subprocess import free_port, make_env
from xueji.models import User

ROOT = Path(__file__).resolve().parents[2]
SERVER = os.environ.get("XUEJI_TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(not SERVER, reason="the README's steps are for PostgreSQL")


def operating_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Operating\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def test_the_readme_names_every_operating_command_it_runs():
    blocks = "\n".join(operating_commands())
    for command in (
        "xueji db upgrade",
        "xueji serve",
        "xueji worker",
        "xueji backup",
        "xueji restore",
        "xueji users create",
        "CREATE DATABASE",
        "health/ready",
    ):
        assert command in blocks, command


def test_the_operating_steps_run_as_written(tmp_path):
    url = make_url(SERVER)
    name = f"xueji_readme_{uuid.uuid4().hex[:8]}"
    ports = [free_port(), free_port()]
    script = "\n".join(operating_commands())
    script = script.replace(
        "postgres@127.0.0.1:5432",
        url.render_as_string(hide_password=False).split("://", 1)[1].rsplit("/", 1)[0],
    )
    script = script.replace("xueji_restored", f"{name}_restored")
    script = re.sub(r'(DATABASE |5432/)xueji"', rf'\g<1>{name}"', script)
    script = script.replace("8001", str(ports[0])).replace("8002", str(ports[1]))
    (tmp_path / "operating.sh").write_text("set -euo pipefail\n" + script)
    env = make_env("", tmp_path, XUEJI_PASSWORD_HASHING="fast")
    del env["XUEJI_DATABASE_URL"]  # the script exports it
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    process = subprocess.Popen(
        ["bash", "operating.sh"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # the servers and the worker it starts: one group to stop
    )
    try:
        output, _ = process.communicate("admin-pass-1\nadmin-pass-1\n", timeout=120)
        logs = "".join(f"--- {p.name}\n{p.read_text()}" for p in tmp_path.glob("*.log"))
        assert process.returncode == 0, output + logs
        for port in ports:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False) as client:
                assert client.get("/api/v1/health/ready").json()["status"] == "ready"
                token = client.post(
                    "/api/v1/auth/token", data={"username": "admin", "password": "admin-pass-1"}
                )
                assert token.status_code == 200, token.text
        restored = create_engine(url.set(database=f"{name}_restored"))
        try:
            with restored.connect() as connection:
                assert connection.scalar(select(User.username)) == "admin"
        finally:
            restored.dispose()
        assert (tmp_path / "xueji-backup.dump").stat().st_size > 0
        assert (tmp_path / "before-upgrade.dump").stat().st_size > 0
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        with admin.connect() as connection:
            for database in (name, f"{name}_restored"):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
