"""A `xueji serve` killed with SIGKILL under load, and a `xueji worker` killed while holding
claims, on a PostgreSQL database of this module's own (created here, dropped at the end).

1. Completions: the server (worker off) runs N instances of steps.bpmn (two user tasks each);
   client threads complete tasks as fast as they can; the server is SIGKILLed after a random
   share of the completions were acknowledged, then started again on the same database. Every
   completion that got a 200 is in the database (task row, form data, its one history line);
   nothing is half-applied (the task rows of every instance are what its stored engine state
   says, each with all its history lines or none); every instance loads. The restarted server
   then completes what is left. XUEJI_CRASH_ROUNDS kills (default 2), XUEJI_CRASH_INSTANCES
   instances per round (default 60).
2. Timers: M deadline timers (XUEJI_CRASH_TIMERS, default 40) come due while the server is
   down; `xueji worker --once --now <after due>` is SIGKILLed once it has fired some. After the
   restart the dead worker's claims hold until their lease (5 minutes) ends: a worker at the
   same instant fires none of them, a worker after the lease fires the rest; each timer fires
   exactly once.

SQLite is skipped: its one file has one writer, and the point here is a server process dying
with transactions open on a database server.
"""

from __future__ import annotations

import os
import random
import subprocess
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from SpiffWorkflow.task import TaskState
from sqlalchemy import func, select

from tests.helpers import postgres_database
from tests.reliability.test_races_many import check_instance
from tests.test_cli_subprocess import CLI, SECRET_KEY, Server, http, login, make_env, run
from xueji.config import Settings
from xueji.instances.steps import load_workflow
from xueji.models import HistoryEvent, ProcessInstance, Timer, UserTask
from xueji.scheduler.worker import LEASE
from xueji.wiring import build_runtime

SERVER_URL = os.environ.get("XUEJI_TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(
    not SERVER_URL,
    reason="crash recovery runs on PostgreSQL (set XUEJI_TEST_DATABASE_URL): a server process "
    "dies with transactions open on a database server",
)

ROUNDS = int(os.environ.get("XUEJI_CRASH_ROUNDS", "2"))
INSTANCES = int(os.environ.get("XUEJI_CRASH_INSTANCES", "60"))
TIMERS = int(os.environ.get("XUEJI_CRASH_TIMERS", "40"))
THREADS = 4
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BEIJING = timezone(timedelta(hours=8))
DUE = datetime(2027, 3, 25, tzinfo=BEIJING)  # deadline.bpmn's boundary timer
FIGURES: list[str] = []


# --- the module's database, service and in-process view of it ------------------------------


@pytest.fixture(scope="module", autouse=True)
def crash_figures(figures) -> Iterator[None]:
    yield
    figures.extend(["crash recovery on postgresql:", *(f"  {line}" for line in FIGURES)])


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    with postgres_database(SERVER_URL, "xueji_crash_test") as url:
        yield url


@dataclass
class Service:
    """`xueji serve --demo` (no worker) on the module's database, killed and started again."""

    env: dict[str, str]
    server: Server | None = None
    logs: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def start(self) -> None:
        self.server = Server(self.env, ("--demo",)).start()

    def kill(self) -> None:
        """SIGKILL: no shutdown, open transactions and connections just vanish."""
        assert self.server is not None and self.server.process is not None
        self.server.process.kill()
        self.server.process.wait(10)
        self.logs.append(self.server.log())
        self.server.stop()
        self.server = None

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.logs.append(self.server.log())
            self.server = None


@pytest.fixture(scope="module")
def service(database_url, tmp_path_factory) -> Iterator[Service]:
    env = make_env(
        database_url, tmp_path_factory.mktemp("crash-work"), XUEJI_PASSWORD_HASHING="fast"
    )
    service = Service(env)
    service.start()
    try:
        yield service
    finally:
        service.stop()
        for number, log in enumerate(service.logs, 1):
            print(f"--- xueji serve, run {number}\n{log}")


@pytest.fixture(scope="module")
def runtime(service, database_url, tmp_path_factory):
    """This process's view of the database (the served app migrated it)."""
    empty = tmp_path_factory.mktemp("crash-empty")
    runtime = build_runtime(
        Settings(
            database_url=database_url,
            data_dir=tmp_path_factory.mktemp("crash-var"),
            secret_key=SECRET_KEY,
            processes_dir=empty,
            forms_dir=empty,
            run_worker=False,
        )
    )
    yield runtime
    runtime.db.dispose()


def deploy(url: str, *names: str) -> None:
    files = [("files", (name, (FIXTURES / name).read_bytes())) for name in names]
    with httpx.Client(base_url=url, timeout=60, trust_env=False) as api:
        response = api.post("/api/v1/deployments", files=files, headers=login(api, "admin"))
    assert response.status_code == 201, response.text


def start_many(url: str, key: str, user: str, count: int) -> list[dict]:
    with httpx.Client(base_url=url, timeout=60, trust_env=False) as api:
        headers = login(api, user)
        started = []
        for _ in range(count):
            response = api.post(
                f"/api/v1/process-definitions/{key}/start",
                json={"variables": {}},
                headers=headers,
            )
            assert response.status_code == 201, response.text
            started.append(response.json())
    return started


# --- the load --------------------------------------------------------------------------


@dataclass
class Load:
    """Tasks to complete, shared by the client threads; what became of each completion."""

    todo: deque = field(default_factory=deque)
    busy: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    acknowledged: list[tuple[str, dict]] = field(default_factory=list)  # (task id, data)
    unanswered: list[tuple[str, dict]] = field(default_factory=list)  # in flight at the kill
    answers: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def take(self) -> dict | None:
        """The next task, waiting while other threads may still add some; None when done."""
        while True:
            with self.lock:
                if self.todo:
                    self.busy += 1
                    return self.todo.popleft()
                if self.busy == 0:
                    return None
            time.sleep(0.002)


def data_for(task: dict) -> dict:
    if task["element_id"] == "enter":
        return {"mode": "normal", "count": random.randint(1, 10)}
    return {"ack": uuid.uuid4().hex}  # `small`/`big` have no form: new names only


def complete_as_fast_as_possible(load: Load, url: str, headers: dict) -> None:
    with httpx.Client(base_url=url, timeout=30, trust_env=False) as api:
        while (task := load.take()) is not None:
            data = data_for(task)
            try:
                response = api.post(
                    f"/api/v1/tasks/{task['id']}/complete", json={"data": data}, headers=headers
                )
            except httpx.TransportError:
                with load.lock:  # the server died: this one may or may not have happened
                    load.unanswered.append((task["id"], data))
                    load.busy -= 1
                    load.todo.clear()
                return
            with load.lock:
                load.busy -= 1
                load.answers[response.status_code] += 1
                if response.status_code == 200:
                    load.acknowledged.append((task["id"], data))
                    load.todo.extend(response.json()["next_tasks"])
                else:
                    load.errors.append(f"{task['id']}: {response.status_code} {response.text}")


def run_load_and_kill(service: Service, tasks: list[dict], kill_after: int) -> Load:
    """Complete `tasks` (and the tasks they lead to) from THREADS clients; SIGKILL the server
    once `kill_after` completions were acknowledged."""
    load = Load(todo=deque(tasks))
    with httpx.Client(base_url=service.url, timeout=30, trust_env=False) as api:
        headers = login(api, "registrar")
    threads = [
        threading.Thread(target=complete_as_fast_as_possible, args=(load, service.url, headers))
        for _ in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(load.acknowledged) < kill_after:
        assert time.monotonic() < deadline, f"only {len(load.acknowledged)} completions in 60 s"
        assert any(t.is_alive() for t in threads), (load.answers, load.errors[:3])
        time.sleep(0.001)
    service.kill()
    for thread in threads:
        thread.join(60)
        assert not thread.is_alive()
    return load


# --- what must hold after the restart ----------------------------------------------------


def check_after_restart(runtime, load: Load, instance_ids: list[str]) -> Counter:
    """Every acknowledged completion is stored; nothing is half-applied; every instance loads.
    Returns what became of the completions no answer came back for."""
    with runtime.db.reader() as session:
        rows = {
            row.id: row
            for row in session.scalars(
                select(UserTask).where(UserTask.instance_id.in_(instance_ids))
            )
        }
        completions = list(
            session.scalars(
                select(HistoryEvent).where(
                    HistoryEvent.kind == "task_completed",
                    HistoryEvent.instance_id.in_(instance_ids),
                )
            )
        )
    completed_lines = Counter(h.task_id for h in completions)
    lines = {h.task_id: h for h in completions}
    for task_id, data in load.acknowledged:
        row = rows[task_id]
        assert (row.state, row.data, row.completed_by) == ("completed", data, "registrar"), task_id
        assert completed_lines[task_id] == 1 and lines[task_id].data == data, task_id

    # Each instance: rows and history agree with the stored engine state (check_instance:
    # ready rows, pending timers, one line per created/ended task); and the engine's completed
    # user tasks are exactly the completed rows.
    for instance_id in instance_ids:
        facts = check_instance(runtime, instance_id)
        with runtime.db.reader() as session:
            instance = session.get(ProcessInstance, instance_id)
            workflow = load_workflow(runtime, session, instance)
            done_in_engine = {
                str(t.id) for t in workflow.get_tasks(state=TaskState.COMPLETED, manual=True)
            }
        done_rows = {id_ for id_, row in facts["tasks"].items() if row.state == "completed"}
        assert done_rows == done_in_engine, (instance_id, done_rows, done_in_engine)

    fate: Counter = Counter()
    for task_id, data in load.unanswered:
        row = rows[task_id]
        if row.state == "completed":
            assert row.data == data and completed_lines[task_id] == 1, task_id
            fate["applied"] += 1
        else:
            assert row.state == "ready" and completed_lines[task_id] == 0, task_id
            fate["not applied"] += 1
    return fate


# --- the tests ---------------------------------------------------------------------------


def test_completions_acknowledged_before_a_sigkill_are_all_there_after_restart(service, runtime):
    deploy(service.url, "steps.bpmn", "steps_enter.schema.json")
    all_ids: list[str] = []
    acknowledged = found = 0
    unanswered: Counter = Counter()
    started_at = time.monotonic()
    for _ in range(ROUNDS):
        started = start_many(service.url, "steps", "registrar", INSTANCES)
        ids = [instance["id"] for instance in started]
        all_ids += ids
        tasks = [instance["active_tasks"][0] for instance in started]
        # two completions per instance; kill somewhere between a fifth and four fifths of them
        kill_after = random.randint(2 * INSTANCES // 5, 8 * INSTANCES // 5)
        load = run_load_and_kill(service, tasks, kill_after)
        assert set(load.answers) == {200}, (load.answers, load.errors[:3])
        service.start()  # the same database
        unanswered += check_after_restart(runtime, load, ids)
        acknowledged += len(load.acknowledged)
        with runtime.db.reader() as session:
            found += session.scalar(
                select(func.count())
                .select_from(UserTask)
                .where(
                    UserTask.id.in_([task_id for task_id, _ in load.acknowledged]),
                    UserTask.state == "completed",
                )
            )
    assert found == acknowledged

    # The restarted server finishes the work: every instance completes, whole.
    with http_client(service) as api:
        headers = login(api, "registrar")
        listing = {"process_key": "steps", "per_page": 200}
        while ready := api.get("/api/v1/tasks", params=listing, headers=headers).json()["items"]:
            for task in ready:
                done = api.post(
                    f"/api/v1/tasks/{task['id']}/complete",
                    json={"data": data_for(task)},
                    headers=headers,
                )
                assert done.status_code == 200, done.text
    for instance_id in all_ids:
        assert check_instance(runtime, instance_id)["state"] == "completed"
    FIGURES.append(
        f"{ROUNDS} SIGKILL(s) under load, {INSTANCES} instances each: {acknowledged} completions "
        f"acknowledged, {found} found after restart; in flight at the kill: "
        f"{unanswered['applied']} applied whole, {unanswered['not applied']} not at all; "
        f"{len(all_ids)} instances then completed ({time.monotonic() - started_at:.1f} s)"
    )


def http_client(service: Service) -> httpx.Client:
    assert service.server is not None
    return http(service.server)


def test_timers_due_during_an_outage_fire_once_though_a_worker_died_holding_claims(
    service, runtime
):
    deploy(service.url, "deadline.bpmn")
    ids = [i["id"] for i in start_many(service.url, "deadline", "station1", TIMERS)]
    service.kill()  # the outage; the timers come due in it
    after_due = DUE + timedelta(hours=1)

    # A worker fires some of them and dies holding the claims on the rest.
    env = service.env
    log_path = Path(env["XUEJI_DATA_DIR"]).parent / "worker-killed.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [*CLI, "worker", "--once", "--now", after_due.isoformat()],
            env=env,
            cwd=Path(env["XUEJI_DATA_DIR"]).parent,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while fired_timers(runtime, ids) == 0:
                assert worker.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "the worker fired nothing in 60 s"
                time.sleep(0.002)
            worker.kill()
            worker.wait(10)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait(10)
    fired_before = fired_timers(runtime, ids)
    with runtime.db.reader() as session:
        pending = Counter(
            session.scalars(
                select(Timer.claimed_by.is_not(None)).where(
                    Timer.instance_id.in_(ids), Timer.state == "pending"
                )
            )
        )
    held, unclaimed = pending[True], pending[False]  # unclaimed: beyond the dead one's batch
    assert fired_before + held + unclaimed == TIMERS, (fired_before, pending)
    assert held > 0, f"the worker fired all it claimed before it was killed ({fired_before})"

    service.start()
    # Same instant: the dead worker's claims still hold (only what it never claimed fires).
    same = run(env, "worker", "--once", "--now", after_due.isoformat())
    assert same.returncode == 0, same
    assert same.stdout.strip() == f"fired {unclaimed} timer(s); 0 could not fire", same
    # After the lease another worker takes them over.
    later = after_due + LEASE + timedelta(minutes=1)
    taken = run(env, "worker", "--once", "--now", later.isoformat())
    assert taken.returncode == 0, taken
    assert taken.stdout.strip() == f"fired {held} timer(s); 0 could not fire", taken
    again = run(env, "worker", "--once", "--now", (later + timedelta(days=1)).isoformat())
    assert again.stdout.strip() == "fired 0 timer(s); 0 could not fire", again

    with runtime.db.reader() as session:
        fired = Counter(
            session.scalars(
                select(HistoryEvent.instance_id).where(
                    HistoryEvent.kind == "timer_fired", HistoryEvent.instance_id.in_(ids)
                )
            )
        )
        states = Counter(session.scalars(select(Timer.state).where(Timer.instance_id.in_(ids))))
    assert set(fired) == set(ids) and set(fired.values()) == {1}, fired
    assert states == {"fired": TIMERS}, states
    for instance_id in ids:
        facts = check_instance(runtime, instance_id)
        assert [t.element_id for t in facts["tasks"].values() if t.state == "ready"] == ["chase"]
    with http_client(service) as api:
        chases = api.get(
            "/api/v1/tasks",
            params={"process_key": "deadline", "per_page": 1},
            headers=login(api, "registrar"),
        )
    assert chases.json()["total"] == TIMERS, chases.text
    FIGURES.append(
        f"{TIMERS} timers due during the outage: {fired_before} fired before the worker was "
        f"SIGKILLed holding claims on {held} ({unclaimed} beyond its batch); {unclaimed} fired at "
        f"the same instant, {held} after the lease; each fired once"
    )


def fired_timers(runtime, ids: list[str]) -> int:
    with runtime.db.reader() as session:
        return session.scalar(
            select(func.count())
            .select_from(Timer)
            .where(Timer.instance_id.in_(ids), Timer.state == "fired")
        )
