"""Many rounds of two writers racing for one task or instance, through a real HTTP server.

Each kind runs on whichever database the run uses (SQLite, or PostgreSQL when
XUEJI_TEST_DATABASE_URL is set; run the module both ways):

- complete vs complete (one user task, two completions with different data),
- claim vs claim (two registrars),
- assign vs assign (a registrar giving the task to two different users; today both may
  succeed, one after the other: the rule is only that the history tells what happened),
- complete vs the task's deadline timer (`run_once` after the due instant, in this process,
  while the task is completed over HTTP),
- complete vs terminate,
- completing a child's last task (which wakes its caller) vs terminating the caller.

After every round: no 500; exactly one winner where the rule says so (the other gets 409); no
doubled or lost history lines; the inbox rows are the engine's READY tasks and the pending
timer rows its waiting timers; the instance loads. Every instance loads at the end.

Rounds per kind: XUEJI_RACE_ROUNDS (default 10, for CI; the full run is 200:
`XUEJI_RACE_ROUNDS=200 .venv/bin/python -m pytest -p no:cacheprovider
tests/reliability/test_races_many.py`, with XUEJI_TEST_DATABASE_URL for PostgreSQL). A summary
line per kind (rounds, outcomes) is printed at the end of the module.

At the end, two deterministic PostgreSQL regressions hold a child's row lock as a step ending
the child does, and check that terminating its caller waits instead of deadlocking.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from tests.helpers import auth, deploy
from xueji.auth.service import create_user
from xueji.db.session import session_scope
from xueji.engine.timers import pending_timers
from xueji.instances.repository import lock, lock_many
from xueji.instances.steps import load_workflow
from xueji.models import HistoryEvent, ProcessInstance, Student, Timer, UserTask
from xueji.scheduler.worker import run_once

ROUNDS = int(os.environ.get("XUEJI_RACE_ROUNDS", "10"))
BEIJING = timezone(timedelta(hours=8))
# deadline.bpmn's boundary timer on `report` (far enough ahead that the wall clock never
# reaches it: only run_once's instant does).
DUE = datetime(2027, 3, 25, tzinfo=BEIJING)
STEPS = ("steps.bpmn", "steps_enter.schema.json")
SUMMARY: dict[str, tuple[int, Counter]] = {}


# --- the server and the racers -----------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def summary(figures) -> Iterator[None]:
    yield
    database = "postgresql" if os.environ.get("XUEJI_TEST_DATABASE_URL") else "sqlite"
    lines = [f"races on {database}, {ROUNDS} round(s) per kind:"]
    for kind, (rounds, outcomes) in SUMMARY.items():
        shown = ", ".join(f"{name}: {n}" for name, n in sorted(outcomes.items()))
        lines.append(f"  {kind}: {rounds} rounds; {shown}")
    figures.extend(lines)


@pytest.fixture
def racers(server) -> Iterator[list[httpx.Client]]:
    """One HTTP client per racing thread (each keeps its own connection)."""
    clients = [httpx.Client(base_url=server, timeout=60, trust_env=False) for _ in range(2)]
    yield clients
    for http in clients:
        http.close()


@pytest.fixture
def registrars(db) -> None:
    """Two more registrars (the db fixture removes them after the test)."""
    with session_scope(db.db.writer) as session:
        for name in ("registrar2", "registrar3"):
            create_user(session, name, "demo", name, ["registrar"])


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at once, each in its own thread, released together; their results."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except BaseException as exc:  # shown by the round's assertions
            results[index] = exc

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
        assert not thread.is_alive(), "a racer did not finish in 60 s"
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def jittered(call: Callable[[], Any]) -> Callable[[], Any]:
    """The call after a random pause of up to 5 ms, so that both orders happen."""
    pause = random.uniform(0, 0.005)

    def run() -> Any:
        time.sleep(pause)
        return call()

    return run


def post(http: httpx.Client, client, path: str, user: str, body: dict | None = None):
    """A POST racing over HTTP; a function returning (status, body)."""
    headers = auth(client, user)  # logged in before the race, not during it

    def send() -> tuple[int, Any]:
        response = http.post(f"/api/v1{path}", json=body or {}, headers=headers)
        return response.status_code, response.json()

    return send


def why(results: list[tuple[int, Any]]) -> str:
    """The refusals' reasons, as the outcome's name shows them."""
    reasons = [body.get("detail") for status, body in results if status == 409]
    return "; ".join(str(reason) for reason in reasons) or "none refused"


def statuses(*results: tuple[int, Any]) -> list[int]:
    codes = [status for status, _ in results]
    assert all(code < 500 for code in codes), results
    return codes


def start(client, key: str, user: str) -> dict:
    response = client.post(
        f"/api/v1/process-definitions/{key}/start",
        json={"variables": {}},
        headers=auth(client, user),
    )
    assert response.status_code == 201, response.text
    return response.json()


# --- what must hold after every round ----------------------------------------------------


def check_instance(runtime, instance_id: str) -> dict[str, Any]:
    """Assert the stored instance is whole; its facts for the round's own assertions.

    Whole: it loads; its `ready` task rows are exactly the engine's READY user tasks and its
    pending timer rows exactly the timers the engine waits for; every task row has one
    task_created line and one line for how it ended (none while ready); the instance has one
    line for how it ended (none while running)."""
    with runtime.db.reader() as session:
        instance = session.get(ProcessInstance, instance_id)
        workflow = load_workflow(runtime, session, instance)
        engine_ready = {task.id for task in runtime.runner.ready_tasks(workflow)}
        engine_timers = {task_id for task_id, _element, _due in pending_timers(workflow)}
        tasks = {
            row.id: row
            for row in session.scalars(select(UserTask).where(UserTask.instance_id == instance_id))
        }
        timers = list(session.scalars(select(Timer).where(Timer.instance_id == instance_id)))
        history = list(
            session.scalars(
                select(HistoryEvent)
                .where(HistoryEvent.instance_id == instance_id)
                .order_by(HistoryEvent.id)
            )
        )
        state = instance.state
    ready_rows = {id_ for id_, row in tasks.items() if row.state == "ready"}
    assert ready_rows == engine_ready, (state, ready_rows, engine_ready)
    pending_rows = {t.task_id for t in timers if t.state == "pending"}
    assert pending_rows == engine_timers, (state, pending_rows, engine_timers)

    lines = Counter((h.kind, h.task_id) for h in history)
    ended_by = {"completed": "task_completed", "cancelled": "task_cancelled"}
    for id_, row in tasks.items():
        assert lines["task_created", id_] == 1, (id_, history_of(history))
        for state_, kind in ended_by.items():
            expected = 1 if row.state == state_ else 0
            assert lines[kind, id_] == expected, (id_, row.state, history_of(history))
    kinds = Counter(h.kind for h in history)
    assert kinds["instance_completed"] == (1 if state == "completed" else 0), history_of(history)
    assert kinds["instance_terminated"] == (1 if state == "terminated" else 0), history_of(history)
    assert kinds["timer_fired"] == sum(t.state == "fired" for t in timers), history_of(history)
    return {"state": state, "tasks": tasks, "timers": timers, "history": history, "kinds": kinds}


def history_of(history: list[HistoryEvent]) -> list[tuple]:
    return [(h.kind, h.element_id, h.task_id, h.actor) for h in history]


def check_every_instance_loads(runtime) -> int:
    with runtime.db.reader() as session:
        ids = list(session.scalars(select(ProcessInstance.id)))
    for instance_id in ids:
        check_instance(runtime, instance_id)
    return len(ids)


def record(kind: str, outcomes: Counter) -> None:
    SUMMARY[kind] = (ROUNDS, outcomes)
    print(f"{kind}: {ROUNDS} rounds; {dict(outcomes)}")


# --- the races ---------------------------------------------------------------------------


def test_complete_vs_complete(client, db, racers):
    deploy(client, *STEPS)
    outcomes: Counter = Counter()
    # count 3 goes on to `small` (total 6), count 8 to `big` (total 16): the next task tells
    # whose data the engine took.
    counts, next_element = (3, 8), {3: "small", 8: "big"}
    for _ in range(ROUNDS):
        instance = start(client, "steps", "registrar")
        [task] = instance["active_tasks"]
        results = race(
            *(
                jittered(
                    post(
                        http,
                        client,
                        f"/tasks/{task['id']}/complete",
                        "registrar",
                        {"data": {"mode": "normal", "count": count}},
                    )
                )
                for http, count in zip(racers, counts, strict=True)
            )
        )
        codes = statuses(*results)
        assert sorted(codes) == [200, 409], results
        winner = counts[codes.index(200)]
        facts = check_instance(db, instance["id"])
        row = facts["tasks"][task["id"]]
        assert (row.state, row.data) == ("completed", {"mode": "normal", "count": winner})
        [completed] = [h for h in facts["history"] if h.kind == "task_completed"]
        assert completed.data == {"mode": "normal", "count": winner}
        [ready] = [t for t in facts["tasks"].values() if t.state == "ready"]
        assert ready.element_id == next_element[winner]
        outcomes[f"count {winner} won, 409: {why(results)}"] += 1
    check_every_instance_loads(db)
    record("complete vs complete", outcomes)


def test_claim_vs_claim(client, db, racers, registrars):
    deploy(client, *STEPS)
    outcomes: Counter = Counter()
    users = ("registrar2", "registrar3")
    for _ in range(ROUNDS):
        instance = start(client, "steps", "registrar")
        [task] = instance["active_tasks"]
        results = race(
            *(
                jittered(post(http, client, f"/tasks/{task['id']}/claim", user))
                for http, user in zip(racers, users, strict=True)
            )
        )
        codes = statuses(*results)
        assert sorted(codes) == [200, 409], results
        winner = users[codes.index(200)]
        facts = check_instance(db, instance["id"])
        assert facts["tasks"][task["id"]].assignee == winner
        claims = [h for h in facts["history"] if h.kind == "task_claimed"]
        assert [(h.actor, h.task_id) for h in claims] == [(winner, task["id"])]
        outcomes[f"{winner} won, 409: {why(results)}"] += 1
    check_every_instance_loads(db)
    record("claim vs claim", outcomes)


def test_assign_vs_assign(client, db, racers, registrars):
    """Both assignments may succeed today (a registrar may reassign a claimed task); whatever
    the outcome, the history has one task_assigned line per 200, in the order they happened,
    and the last one names the task's assignee."""
    deploy(client, *STEPS)
    outcomes: Counter = Counter()
    targets = ("registrar2", "registrar3")
    for _ in range(ROUNDS):
        instance = start(client, "steps", "registrar")
        [task] = instance["active_tasks"]
        results = race(
            *(
                jittered(
                    post(http, client, f"/tasks/{task['id']}/assign", "registrar", {"username": to})
                )
                for http, to in zip(racers, targets, strict=True)
            )
        )
        codes = statuses(*results)
        assert set(codes) <= {200, 409} and 200 in codes, results
        facts = check_instance(db, instance["id"])
        lines = [h for h in facts["history"] if h.kind == "task_assigned"]
        succeeded = {to for to, code in zip(targets, codes, strict=True) if code == 200}
        assert len(lines) == codes.count(200), history_of(facts["history"])
        assert {h.data["assignee"] for h in lines} == succeeded
        assert all(h.task_id == task["id"] and h.actor == "registrar" for h in lines)
        assert facts["tasks"][task["id"]].assignee == lines[-1].data["assignee"]
        last = lines[-1].data["assignee"]
        outcomes[f"{'+'.join(str(c) for c in sorted(codes))}, last {last}"] += 1
    check_every_instance_loads(db)
    record("assign vs assign", outcomes)


def test_complete_vs_the_tasks_deadline_timer(client, db, racers):
    deploy(client, "deadline.bpmn")
    outcomes: Counter = Counter()
    after_due = DUE + timedelta(hours=1)
    for _ in range(ROUNDS):
        instance = start(client, "deadline", "station1")
        [task] = instance["active_tasks"]
        completion = post(
            racers[0], client, f"/tasks/{task['id']}/complete", "station1", {"data": {}}
        )
        pause = random.uniform(0, 0.004)  # run_once has no HTTP in front: a late start

        def fire(pause=pause):
            time.sleep(pause)
            return run_once(db, after_due, worker="race-worker")

        (status, body), report = race(completion, fire)
        statuses((status, body))
        facts = check_instance(db, instance["id"])
        [timer] = facts["timers"]
        names = {t.element_id: t for t in facts["tasks"].values()}
        if status == 200:
            assert report.fired == 0, report
            assert facts["state"] == "completed" and timer.state == "cancelled"
            assert facts["kinds"]["task_completed"] == 1 and facts["kinds"]["timer_fired"] == 0
            assert set(names) == {"report"}
            seen = "claimed it, found it cancelled" if report.claimed else "found nothing due"
            outcomes[f"complete won, the timer {seen}"] += 1
        else:
            assert status == 409, body
            assert report.fired == 1, report
            assert facts["state"] == "running" and timer.state == "fired"
            assert facts["kinds"]["timer_fired"] == 1 and facts["kinds"]["task_completed"] == 0
            assert names["report"].state == "cancelled" and names["chase"].state == "ready"
            outcomes[f"timer won, 409: {why([(status, body)])}"] += 1
        # nothing is left for a later pass
        assert run_once(db, after_due + timedelta(days=1), worker="race-worker").claimed == 0
    check_every_instance_loads(db)
    record("complete vs timer", outcomes)


def test_complete_vs_terminate(client, db, racers):
    deploy(client, "deadline.bpmn")
    outcomes: Counter = Counter()
    for _ in range(ROUNDS):
        instance = start(client, "deadline", "station1")
        [task] = instance["active_tasks"]
        results = race(
            jittered(
                post(racers[0], client, f"/tasks/{task['id']}/complete", "station1", {"data": {}})
            ),
            jittered(
                post(
                    racers[1], client, f"/process-instances/{instance['id']}/terminate", "registrar"
                )
            ),
        )
        completed, terminated = statuses(*results)
        assert sorted((completed, terminated)) == [200, 409], results
        facts = check_instance(db, instance["id"])
        [timer] = facts["timers"]
        kinds = facts["kinds"]
        if completed == 200:
            assert facts["state"] == "completed"
            assert (kinds["task_completed"], kinds["task_cancelled"]) == (1, 0)
            outcomes[f"complete won, 409: {why(results)}"] += 1
        else:
            assert facts["state"] == "terminated"
            assert (kinds["task_completed"], kinds["task_cancelled"]) == (0, 1)
            outcomes[f"terminate won, 409: {why(results)}"] += 1
        assert timer.state == "cancelled"
    check_every_instance_loads(db)
    record("complete vs terminate", outcomes)


def start_batch_of_one(client, db) -> tuple[dict, str, dict]:
    """A batch_parent waiting on one child (stu1001's); the parent, the child's id, its task."""
    with db.db.reader() as session:
        [student] = [s.id for s in session.scalars(select(Student)) if s.user.username == "stu1001"]
    response = client.post(
        "/api/v1/process-definitions/batch_parent/start",
        json={"variables": {"students": [student], "station": "S01"}},
        headers=auth(client, "registrar"),
    )
    assert response.status_code == 201, response.text
    parent = response.json()
    [child_id] = parent["children"]
    tasks = client.get(
        "/api/v1/tasks", params={"instance_id": child_id}, headers=auth(client, "stu1001")
    )
    [task] = tasks.json()["items"]
    return parent, child_id, task


def test_complete_a_childs_last_task_vs_terminate_its_caller(client, db, racers):
    """Completing the task ends the child, which wakes its caller (child, then caller);
    terminating the caller ends its children (caller, then child). Terminate always succeeds:
    after the completion it ends the woken caller; before it, the completion gets 409."""
    deploy(client, "batch_child.bpmn", "batch_parent.bpmn")
    outcomes: Counter = Counter()
    for _ in range(ROUNDS):
        parent, child_id, task = start_batch_of_one(client, db)
        answer = {"data": {"answer": "yes"}}
        results = race(
            jittered(post(racers[0], client, f"/tasks/{task['id']}/complete", "stu1001", answer)),
            jittered(
                post(racers[1], client, f"/process-instances/{parent['id']}/terminate", "registrar")
            ),
        )
        completed, terminated = statuses(*results)
        assert terminated == 200 and completed in (200, 409), results
        caller, child = check_instance(db, parent["id"]), check_instance(db, child_id)
        assert caller["state"] == "terminated"
        if completed == 200:
            assert child["state"] == "completed" and child["kinds"]["task_completed"] == 1
            # the caller was woken (its summary task created) before it was terminated
            assert caller["kinds"]["call_completed"] == 1
            assert [t.state for t in caller["tasks"].values()] == ["cancelled"]
            outcomes["complete, then terminate"] += 1
        else:
            assert child["state"] == "terminated" and child["kinds"]["task_cancelled"] == 1
            assert caller["kinds"]["call_completed"] == 0 and caller["tasks"] == {}
            outcomes[f"terminate won, 409: {why(results)}"] += 1
    check_every_instance_loads(db)
    record("complete child vs terminate caller", outcomes)


# --- regressions: lock order between a child's step and terminating its caller -------------


def wait_until_a_request_waits_for_a_lock(db) -> None:
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 10
    while True:
        with db.db.engine.connect() as conn:  # a new transaction: the view is a snapshot
            if conn.scalar(query):
                return
        assert time.monotonic() < deadline, "the request never waited for the lock"
        time.sleep(0.01)


def in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, dict]:
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(value=call()))
    thread.start()
    return thread, result


def ends_child_then_locks_caller(db, child_id: str, caller_id: str, while_holding_child):
    """Do what a step ending the child does (lock the child, then its caller), with
    `while_holding_child` started once the child is locked; its result."""
    with db.db.writer() as step:
        lock(step, child_id)
        thread, result = in_thread(while_holding_child)
        wait_until_a_request_waits_for_a_lock(db)
        step.execute(text("SET LOCAL lock_timeout = '10s'"))
        lock(step, caller_id)  # deadlock detected here (or in the request) if it took the caller
        step.commit()
    thread.join(60)
    return result["value"]


def test_terminating_a_caller_waits_for_a_step_ending_its_child_without_deadlock(
    client, db, server
):
    if db.db.is_sqlite:
        pytest.skip("SQLite has one writer at a time: no row locks to take in the wrong order")
    deploy(client, "batch_child.bpmn", "batch_parent.bpmn")
    parent, child_id, _task = start_batch_of_one(client, db)
    headers = auth(client, "registrar")

    def terminate():
        url = f"{server}/api/v1/process-instances/{parent['id']}/terminate"
        return httpx.post(url, headers=headers, timeout=60, trust_env=False)

    response = ends_child_then_locks_caller(db, child_id, parent["id"], terminate)
    assert response.status_code == 200, response.text
    assert check_instance(db, parent["id"])["state"] == "terminated"
    assert check_instance(db, child_id)["state"] == "terminated"


def test_terminating_the_caller_from_an_incident_waits_for_a_siblings_step_without_deadlock(
    client, db, server
):
    if db.db.is_sqlite:
        pytest.skip("SQLite has one writer at a time: no row locks to take in the wrong order")
    deploy(client, "batch_child.bpmn", "batch_parent.bpmn")
    with db.db.reader() as session:
        students = {s.user.username: s.id for s in session.scalars(select(Student))}
    response = client.post(
        "/api/v1/process-definitions/batch_parent/start",
        json={"variables": {"students": [students["stu1001"], students["stu1002"]]}},
        headers=auth(client, "registrar"),
    )
    assert response.status_code == 201, response.text
    parent = response.json()
    ended, sibling = parent["children"]
    terminated = client.post(
        f"/api/v1/process-instances/{ended}/terminate", headers=auth(client, "registrar")
    )
    assert terminated.status_code == 200, terminated.text
    [incident] = client.get("/api/v1/incidents", headers=auth(client, "admin")).json()
    headers = auth(client, "admin")

    def terminate_caller():
        url = f"{server}/api/v1/incidents/{incident['id']}/resolve"
        body = {"action": "terminate_caller"}
        return httpx.post(url, json=body, headers=headers, timeout=60, trust_env=False)

    response = ends_child_then_locks_caller(db, sibling, parent["id"], terminate_caller)
    assert response.status_code == 200, response.text
    assert check_instance(db, parent["id"])["state"] == "terminated"
    assert check_instance(db, sibling)["state"] == "terminated"


def test_a_broken_deadlock_is_a_409_to_retry_and_nothing_of_it_is_saved(client, db, server):
    """A step that holds a caller and then reaches for its child (as a caller's message to a
    waiting child does) meets a request ending the child, which holds the child and reaches
    for the caller. PostgreSQL breaks the deadlock by rolling one back: that request answers
    409 with Retry-After (not a 500, no incident), keeps nothing, and succeeds when retried."""
    if db.db.is_sqlite:
        pytest.skip("SQLite has one writer at a time: no row locks to take in the wrong order")
    deploy(client, "batch_child.bpmn", "batch_parent.bpmn")
    parent, child_id, task = start_batch_of_one(client, db)
    headers = auth(client, "stu1001")
    url = f"{server}/api/v1/tasks/{task['id']}/complete"
    answer = {"data": {"answer": "yes"}}

    def complete():
        return httpx.post(url, json=answer, headers=headers, timeout=60, trust_env=False)

    with db.db.writer() as step:
        # This side waits longer before looking for a deadlock, so the request is the one
        # PostgreSQL rolls back.
        step.execute(text("SET LOCAL deadlock_timeout = '10s'"))
        lock(step, parent["id"])
        thread, result = in_thread(complete)
        wait_until_a_request_waits_for_a_lock(db)  # it holds the child, waits for the caller
        lock(step, child_id)  # the cycle: the request is rolled back after its 1 s
        step.rollback()
    thread.join(60)
    response = result["value"]
    assert response.status_code == 409, response.text
    assert response.headers["retry-after"] == "1"
    assert response.json()["error"] == "Conflict"
    child = check_instance(db, child_id)
    assert child["state"] == "running" and child["kinds"].get("task_completed", 0) == 0
    assert client.get("/api/v1/incidents", headers=auth(client, "admin")).json() == []
    retried = httpx.post(url, json=answer, headers=headers, timeout=60, trust_env=False)
    assert retried.status_code == 200, retried.text
    assert check_instance(db, child_id)["state"] == "completed"
    assert check_instance(db, parent["id"])["kinds"]["call_completed"] == 1


def test_a_batch_locks_children_before_their_callers(client, db):
    """complete_batch locks its instances in the order of single steps (a child before its
    caller): while a step holds the child, the batch has not taken the caller."""
    if db.db.is_sqlite:
        pytest.skip("SQLite has one writer at a time: no row locks to take in the wrong order")
    deploy(client, "batch_child.bpmn", "batch_parent.bpmn")
    for _ in range(40):  # a caller whose id sorts first: locking by id alone takes it first
        parent, child_id, _task = start_batch_of_one(client, db)
        if parent["id"] < child_id:
            break
    assert parent["id"] < child_id
    with db.db.writer() as step:
        lock(step, child_id)

        def batch_locks():
            with db.db.writer() as batch:
                lock_many(batch, {parent["id"], child_id})
                batch.rollback()
            return True

        thread, result = in_thread(batch_locks)
        wait_until_a_request_waits_for_a_lock(db)  # the batch waits for the child ...
        # ... and holds nothing else: the caller can be locked at once.
        step.execute(text("SET LOCAL lock_timeout = '1s'"))
        lock(step, parent["id"])
        step.rollback()
    thread.join(60)
    assert result["value"] is True
