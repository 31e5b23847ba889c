"""Every `xueji` command run as an operator runs it: a subprocess, a fresh interpreter,
configured only by XUEJI_ environment variables, against a real database made for this module
(a SQLite file, or a PostgreSQL database when XUEJI_TEST_DATABASE_URL names a server).

tests/test_cli.py calls the commands in-process after the app is imported; that hides what
only a fresh interpreter shows (an import cycle, a missing module, start-up that needs state
the test process happens to hold).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
CLI = [sys.executable, "-m", "xueji.cli"]
SECRET_KEY = "cli-subprocess-test-key-not-for-production-0123456789"
COMMAND_TIMEOUT = 60  # seconds one CLI command may take
READY_TIMEOUT = 60  # seconds `xueji serve` may take to answer
STOP_TIMEOUT = 20  # seconds `xueji serve` may take to stop after SIGTERM
# The escalation fixture's deadline (dueDate 03-25 of the instance's year) lies far enough in
# the future that only the worker, never the wall clock, makes the task overdue.
YEAR = 2099


# --- databases -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def new_database(tmp_path_factory) -> Iterator:
    """Make empty databases for this module; every one is dropped when the module is done."""
    server = os.environ.get("XUEJI_TEST_DATABASE_URL")
    made: list[str] = []
    admin = (
        create_engine(make_url(server).set(database="postgres"), isolation_level="AUTOCOMMIT")
        if server
        else None
    )

    def make() -> str:
        if admin is None:
            return f"sqlite:///{tmp_path_factory.mktemp('cli-db') / 'xueji.sqlite3'}"
        name = f"xueji_cli_test_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return make_url(server).set(database=name).render_as_string(hide_password=False)

    yield make
    if admin is not None:
        with admin.connect() as conn:
            for name in made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def database_url(new_database) -> str:
    """The module's database, shared by the served app and the commands run against it."""
    return new_database()


# --- running commands ------------------------------------------------------------------


def make_env(database_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    """The environment of a subprocess: ours without any XUEJI_ setting, plus the given."""
    workdir.mkdir(parents=True, exist_ok=True)
    empty = workdir / "empty"
    empty.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUEJI_")}
    # Run this checkout's code whatever the virtualenv's editable install points at.
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p
    )
    env["PYTHONUNBUFFERED"] = "1"
    env["_TYPER_STANDARD_TRACEBACK"] = "1"  # a plain traceback in the transcript, not a box
    env.update(
        XUEJI_DATABASE_URL=database_url,
        XUEJI_DATA_DIR=str(workdir / "var"),
        XUEJI_SECRET_KEY=SECRET_KEY,
        XUEJI_PROCESSES_DIR=str(empty),
        XUEJI_FORMS_DIR=str(empty),
        XUEJI_RUN_WORKER="0",
    )
    env.update(extra)
    return env


@dataclass(repr=False)
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return (
            f"$ xueji {' '.join(self.args)}\nexit {self.returncode}\n"
            f"--- stdout\n{self.stdout}--- stderr\n{self.stderr}"
        )

    __repr__ = __str__  # what an assertion message shows


def run(env: dict[str, str], *args: str, input: str | None = None) -> Result:
    """Run one `xueji` command in a fresh interpreter; print its transcript (shown on failure)."""
    cwd = Path(env["XUEJI_DATA_DIR"]).parent
    try:
        done = subprocess.run(
            [*CLI, *args],
            env=env,
            cwd=cwd,
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"xueji {' '.join(args)} did not finish in {COMMAND_TIMEOUT}s\n"
            f"--- stdout\n{exc.stdout or ''}\n--- stderr\n{exc.stderr or ''}"
        )
    result = Result(list(args), done.returncode, done.stdout, done.stderr)
    print(result)
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A `xueji serve` subprocess with its output in a log file."""

    env: dict[str, str]
    args: tuple[str, ...] = ()
    port: int = 0
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    _log: object = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        workdir = Path(self.env["XUEJI_DATA_DIR"]).parent
        for attempt in range(3):  # a free port may be taken between bind(0) and uvicorn's bind
            self.port = free_port()
            self.log_path = workdir / f"serve-{self.port}.log"
            self._log = self.log_path.open("w")
            command = [*CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port), *self.args]
            self.process = subprocess.Popen(
                command, env=self.env, cwd=workdir, stdout=self._log, stderr=subprocess.STDOUT
            )
            if self._wait_ready():
                return self
            if "address already in use" not in self.log().lower() or attempt == 2:
                break
            self.stop()
        output = self.log()
        self.stop()
        pytest.fail(f"xueji serve did not answer on {self.url}\n{output}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT
        with httpx.Client(base_url=self.url, timeout=2, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    return False
                try:
                    if client.get("/openapi.json").status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        return False

    def log(self) -> str:
        if self._log is not None:
            self._log.flush()
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def terminate(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM, then wait; the exit code, or None when it did not stop in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            if self.terminate() is None:
                self.process.kill()
                self.process.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None


def http(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30, trust_env=False)


def login(client: httpx.Client, username: str, password: str = "demo") -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli-work")


@pytest.fixture(scope="module")
def env(database_url, workdir) -> dict[str, str]:
    return make_env(database_url, workdir)


@pytest.fixture(scope="module")
def served(env) -> Iterator[Server]:
    """One `xueji serve --demo` (no in-process worker) on the module's database."""
    server = Server(env, ("--demo",)).start()
    try:
        yield server
    finally:
        server.stop()
        print(f"--- xueji serve --demo\n{server.log()}")


@pytest.fixture
def api(served) -> Iterator[httpx.Client]:
    with http(served) as client:
        yield client


# --- the commands ----------------------------------------------------------------------


def test_db_upgrade_brings_an_empty_database_to_head(new_database, tmp_path):
    url = new_database()
    env = make_env(url, tmp_path)
    head = ScriptDirectory.from_config(_alembic()).get_current_head()

    first = run(env, "db", "upgrade")
    assert first.returncode == 0, first
    assert "newest revision" in first.stdout, first
    assert _revisions(url) == [head]
    again = run(env, "db", "upgrade")
    assert again.returncode == 0, again
    assert _revisions(url) == [head]


def _alembic() -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return config


def _revisions(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(text("SELECT version_num FROM alembic_version")))
    finally:
        engine.dispose()


def test_deploy_prints_the_version_of_a_good_file(env, api):
    files = [
        str(FIXTURES / name)
        for name in (
            "review.bpmn",
            "review_start.schema.json",
            "review_apply.schema.json",
            "review_apply.uischema.json",
            "review_decide.schema.json",
        )
    ]
    first = run(env, "deploy", *files)
    assert first.returncode == 0, first
    assert first.stdout.strip() == "review v1 (new)", first
    again = run(env, "deploy", *files)
    assert again.returncode == 0, again
    assert again.stdout.strip() == "review v1 (unchanged)", again
    # the served app sees what the command deployed
    listed = api.get("/api/v1/process-definitions", headers=login(api, "admin"))
    assert listed.status_code == 200, listed.text
    assert {"key": "review", "version": 1}.items() <= next(
        d for d in listed.json() if d["key"] == "review"
    ).items()


def test_deploy_of_a_bad_file_fails_naming_file_line_and_element(env, api, tmp_path):
    source = (FIXTURES / "deadline.bpmn").read_text()
    bad = tmp_path / "bad_lane.bpmn"
    bad.write_text(
        source.replace('id="deadline"', 'id="bad_lane"').replace(
            'name="学院学籍管理"', 'name="教务处长"'
        )
    )
    lines = bad.read_text().splitlines()
    line = next(n for n, content in enumerate(lines, 1) if 'id="lane_registrar"' in content)
    failed = run(env, "deploy", str(bad))
    assert failed.returncode != 0, failed
    assert f"bad_lane.bpmn:{line}: lane_registrar:" in failed.stderr, failed
    assert "教务处长" in failed.stderr, failed
    assert "Traceback" not in failed.stderr, failed

    # a form a task names that is neither uploaded nor deployed
    missing = run(env, "deploy", str(FIXTURES / "steps.bpmn"))
    assert missing.returncode != 0, missing
    assert "steps.bpmn:" in missing.stderr and "steps_enter.schema.json" in missing.stderr, missing

    # nothing of a failed deployment is kept
    listed = api.get("/api/v1/process-definitions", headers=login(api, "admin")).json()
    assert not {"bad_lane", "steps"} & {d["key"] for d in listed}


def test_users_create_makes_an_account_that_can_log_in(env, api):
    name = f"clerk_{uuid.uuid4().hex[:6]}"
    # the password is asked twice on the terminal, as an operator types it
    created = run(
        env,
        "users",
        "create",
        name,
        "--role",
        "station",
        "--station",
        "S02",
        "--display-name",
        "洛阳站办事员",
        input="s3cret-pass\ns3cret-pass\n",
    )
    assert created.returncode == 0, created
    assert f"created {name}" in created.stdout, created
    me = api.get("/api/v1/me", headers=login(api, name, "s3cret-pass"))
    assert me.status_code == 200, me.text
    assert me.json()["roles"] == ["station"] and me.json()["station"] == "S02", me.json()
    assert me.json()["display_name"] == "洛阳站办事员"

    wrong = api.post("/api/v1/auth/token", data={"username": name, "password": "demo"})
    assert wrong.status_code == 401, wrong.text

    unknown = run(
        env,
        "users",
        "create",
        f"x_{name}",
        "--role",
        "station",
        "--station",
        "S99",
        input="s3cret-pass\ns3cret-pass\n",
    )
    assert unknown.returncode == 1, unknown
    assert "S99" in unknown.stderr and "Traceback" not in unknown.stderr, unknown


def test_users_reset_password_prints_a_one_time_password_to_change(env, api):
    name = f"clerk_{uuid.uuid4().hex[:6]}"
    created = run(
        env, "users", "create", name, "--role", "registrar", input="old-pass-12\nold-pass-12\n"
    )
    assert created.returncode == 0, created
    weak = run(
        env, "users", "create", f"x{name}", "--role", "registrar", input="12345678\n12345678\n"
    )
    assert weak.returncode == 1 and "密码不能全是数字" in weak.stderr, weak

    reset = run(env, "users", "reset-password", name)
    assert reset.returncode == 0, reset
    [password] = reset.stdout.split()
    assert (
        api.post(
            "/api/v1/auth/token", data={"username": name, "password": "old-pass-12"}
        ).status_code
        == 401
    )
    logged_in = api.post("/api/v1/auth/token", data={"username": name, "password": password})
    assert logged_in.json()["must_change_password"] is True
    audit = api.get("/api/v1/audit", params={"target": f"user:{name}"}, headers=login(api, "admin"))
    assert [(e["actor"], e["action"]) for e in audit.json()["items"]] == [
        ("cli", "user.password_reset"),
        ("cli", "user.create"),
    ]
    unknown = run(env, "users", "reset-password", "nobody-here")
    assert unknown.returncode == 1 and "nobody-here" in unknown.stderr, unknown


def test_tokens_create_prints_a_token_that_authenticates(env, api):
    issued = run(env, "tokens", "create", f"photo-{uuid.uuid4().hex[:6]}", "--role", "photo_agency")
    assert issued.returncode == 0, issued
    lines = issued.stdout.split()
    assert len(lines) == 1 and lines[0].startswith("xjt_"), issued
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {lines[0]}"})
    assert me.status_code == 200, me.text
    assert me.json()["roles"] == ["photo_agency"]
    forged = api.get("/api/v1/me", headers={"Authorization": f"Bearer {lines[0]}x"})
    assert forged.status_code == 401

    unknown = run(env, "tokens", "create", "x", "--role", "dean")
    assert unknown.returncode == 1, unknown
    assert "unknown roles: dean" in unknown.stderr, unknown


def _start_escalation(env, api) -> tuple[str, dict]:
    deployed = run(env, "deploy", str(FIXTURES / "escalation.bpmn"))
    assert deployed.returncode == 0, deployed
    assert deployed.stdout.startswith("escalation v1 ("), deployed
    station = login(api, "station1")
    started = api.post(
        "/api/v1/process-definitions/escalation/start",
        json={"business_key": uuid.uuid4().hex, "variables": {"year": YEAR}},
        headers=station,
    )
    assert started.status_code == 201, started.text
    instance_id = started.json()["id"]
    tasks = api.get("/api/v1/tasks", params={"instance_id": instance_id}, headers=station)
    [task] = tasks.json()["items"]
    return instance_id, task


def _overdue_kinds(api, instance_id: str) -> list[tuple[str, str]]:
    history = api.get(
        f"/api/v1/process-instances/{instance_id}/history", headers=login(api, "admin")
    )
    assert history.status_code == 200, history.text
    return [(h["kind"], h["element_id"]) for h in history.json() if h["kind"] == "task_overdue"]


def test_worker_once_marks_the_task_overdue_after_its_deadline(env, api):
    instance_id, task = _start_escalation(env, api)
    station = login(api, "station1")
    assert task["element_id"] == "report" and not task["overdue"], task
    due = datetime.fromisoformat(task["due_at"].replace("Z", "+00:00"))
    assert due == datetime.fromisoformat(f"{YEAR}-03-25T23:59:59+08:00"), task

    early = run(env, "worker", "--once", "--now", f"{YEAR}-03-25T23:00:00+08:00")
    assert early.returncode == 0, early
    assert early.stdout.strip() == "fired 0 timer(s); 0 could not fire", early
    assert not api.get(f"/api/v1/tasks/{task['id']}", headers=station).json()["overdue"]

    late = run(env, "worker", "--once", "--now", f"{YEAR}-03-26T01:00:00+08:00")
    assert late.returncode == 0, late
    assert late.stdout.strip() == "fired 1 timer(s); 0 could not fire", late
    detail = api.get(f"/api/v1/tasks/{task['id']}", headers=station)
    assert detail.status_code == 200, detail.text
    assert detail.json()["overdue"] is True, detail.json()
    assert detail.json()["escalation_level"] == 1, detail.json()
    overdue = api.get("/api/v1/tasks", params={"overdue": "true"}, headers=station).json()
    assert task["id"] in [t["id"] for t in overdue["items"]]
    assert _overdue_kinds(api, instance_id) == [("task_overdue", "report")]

    # the same instant again fires nothing more
    repeat = run(env, "worker", "--once", "--now", f"{YEAR}-03-26T01:00:00+08:00")
    assert repeat.returncode == 0, repeat
    assert repeat.stdout.strip() == "fired 0 timer(s); 0 could not fire", repeat


def test_worker_once_refuses_an_instant_without_offset(env):
    naive = run(env, "worker", "--once", "--now", f"{YEAR}-03-26T01:00:00")
    assert naive.returncode == 2, naive
    assert "UTC offset" in naive.stderr and "Traceback" not in naive.stderr, naive


TIMEOUT_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                  id="soon_definitions" targetNamespace="http://xueji.example/test">
  <bpmn:process id="soon" name="一秒后超时" isExecutable="true">
    <bpmn:laneSet id="soon_lanes">
      <bpmn:lane id="lane_station" name="函授站">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>wait</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>timeout</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>done</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>timed_out</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="wait" name="等待">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="timeout" name="一秒后" attachedToRef="wait">
      <bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition id="timeout_timer">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT1S"</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="timed_out"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="done" />
    <bpmn:sequenceFlow id="f3" sourceRef="timeout" targetRef="timed_out" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_worker_fires_timers_by_the_clock_until_stopped(env, api, tmp_path):
    diagram = tmp_path / "soon.bpmn"
    diagram.write_text(TIMEOUT_BPMN)
    deployed = run(env, "deploy", str(diagram))
    assert deployed.returncode == 0, deployed
    started = api.post(
        "/api/v1/process-definitions/soon/start",
        json={"variables": {}},
        headers=login(api, "station1"),
    )
    assert started.status_code == 201, started.text
    instance_url = f"/api/v1/process-instances/{started.json()['id']}"
    admin = login(api, "admin")

    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [*CLI, "worker"],
            env={**env, "XUEJI_WORKER_POLL_SECONDS": "0.2"},
            cwd=Path(env["XUEJI_DATA_DIR"]).parent,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            state = None
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and worker.poll() is None:
                state = api.get(instance_url, headers=admin).json()["state"]
                if state == "completed":
                    break
                time.sleep(0.2)
            alive = worker.poll() is None
            worker.send_signal(signal.SIGTERM)
            code = worker.wait(STOP_TIMEOUT)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait(10)
    output = log_path.read_text(errors="replace")
    print(f"--- xueji worker\n{output}")
    assert alive, f"xueji worker exited {worker.returncode} on its own\n{output}"
    assert state == "completed", f"instance still {state}\n{output}"
    # SIGTERM ends the worker cleanly between passes
    assert code == 0, f"xueji worker exited {code}\n{output}"
    assert "Traceback" not in output, output


def test_serve_demo_seeds_the_demo_accounts(api):
    me = api.get("/api/v1/me", headers=login(api, "admin", "demo"))
    assert me.status_code == 200, me.text
    assert me.json()["roles"] == ["admin"]
    station = api.get("/api/v1/me", headers=login(api, "station1", "demo")).json()
    assert station["roles"] == ["station"] and station["station"] == "S01"
    # an unknown account or a wrong password is refused
    assert (
        api.post("/api/v1/auth/token", data={"username": "admin", "password": "wrong"}).status_code
        == 401
    )


def test_serve_answers_deploys_processes_and_stops_on_sigterm(new_database, tmp_path):
    """An operator's first start: a fresh database, the college's processes/, the worker on."""
    env = make_env(
        new_database(),
        tmp_path,
        XUEJI_PROCESSES_DIR=str(ROOT / "processes"),
        XUEJI_FORMS_DIR=str(ROOT / "forms"),
        XUEJI_RUN_WORKER="1",
        XUEJI_WORKER_POLL_SECONDS="0.5",
    )
    issued = run(env, "tokens", "create", "ops", "--role", "registrar")  # migrates, too
    assert issued.returncode == 0, issued
    token = issued.stdout.strip()

    server = Server(env).start()
    try:
        with http(server) as client:
            assert client.get("/openapi.json").json()["paths"], server.log()
            listed = client.get(
                "/api/v1/process-definitions", headers={"Authorization": f"Bearer {token}"}
            )
            assert listed.status_code == 200, listed.text + server.log()
            keys = {d["key"] for d in listed.json()}
            expected = {p.stem for p in (ROOT / "processes").glob("*.bpmn")}
            assert expected <= keys, (expected - keys, server.log())
            # demo accounts only when asked for
            refused = client.post(
                "/api/v1/auth/token", data={"username": "admin", "password": "demo"}
            )
            assert refused.status_code == 401, refused.text
        code = server.terminate()
        output = server.log()
        # uvicorn shuts down gracefully, then re-raises the signal it caught (uvicorn >= 0.29),
        # so a clean stop is exit 0 or "ended by SIGTERM" after a complete shutdown
        assert code in (0, -signal.SIGTERM), f"xueji serve exited {code} after SIGTERM\n{output}"
        assert "Application shutdown complete" in output, output
        assert "Finished server process" in output, output
        assert "Traceback" not in output, output
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{server.url}/openapi.json", timeout=2, trust_env=False)
    finally:
        server.stop()
        print(f"--- xueji serve\n{server.log()}")
