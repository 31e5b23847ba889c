"""Scripts and conditions in worker processes with hard limits (xueji.engine.sandbox).

Real worker processes throughout, no mocks. Elapsed times are printed (see them with -rP).
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from xueji import clock
from xueji.deadlines import deadline_cycle
from xueji.engine.runner import Runner, StepError
from xueji.engine.sandbox import ScriptPool, from_wire, to_wire
from xueji.engine.scripting import (
    InProcessEnvironment,
    RestrictedEnvironment,
    ScriptLimitExceeded,
    ScriptMemoryExceeded,
    ScriptRestrictionError,
    ScriptResultTooLarge,
    ScriptTimeout,
    ScriptWorkerFailed,
    UnstorableValue,
)

LIMIT = 0.5  # seconds: the tests' time limit (the service's default is 1.0)
RETURNS_WITHIN = 10.0  # seconds: a generous bound, proving the kill works at all


@pytest.fixture(scope="module")
def pool():
    with ScriptPool(size=2) as pool:
        pool.wait_ready()
        yield pool


@pytest.fixture
def env(pool):
    return RestrictedEnvironment(time_limit=LIMIT, pool=pool)


def _gone(pid: int) -> bool:
    """The process is neither running nor a zombie child of ours."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass  # not our child (any more): it was reaped
    else:
        return False
    return not os.path.exists(f"/proc/{pid}")


def _dead(pid: int) -> bool:
    """Exited (a zombie counts: it runs no more)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def _timed(call):
    started = time.monotonic()
    try:
        call()
    except Exception as exc:
        return exc, time.monotonic() - started
    return None, time.monotonic() - started


# --------------------------------------------------------------------------- the attacks

ATTACKS = [
    # one long C call each: only killing the worker stops them
    (
        "x = pow(3, 2**999999, 2**2000 + 1)",
        ScriptTimeout,
        "ran longer than its time limit of 0.5 s and was stopped",
    ),
    (
        "x = int(Decimal('1e600000')).bit_length()",
        ScriptTimeout,
        "ran longer than its time limit of 0.5 s",
    ),
    # quadratic copying: the time limit (or the memory limit, whichever comes first)
    ("x = len(sum([[0] * 10**6] * 60, []))", ScriptLimitExceeded, "ran longer than|used more than"),
    # a thousand references to one 1 MB text: small in memory, 1 GB in the state
    ("x = ['y' * 10**6] * 1000", ScriptResultTooLarge, r"result is larger than 1 MiB \(x\)"),
    # 1 GB inside the script
    (
        "x = ('x' * 10**7).replace('x', 'x' * 100)",
        ScriptMemoryExceeded,
        "the script used more than 512 MiB of memory",
    ),
]


@pytest.mark.parametrize("script, error, message", ATTACKS)
def test_each_attack_ends_with_its_limit(env, script, error, message):
    data = {"a": 1}
    exc, elapsed = _timed(lambda: env.execute(script, data))
    print(f"{script!r}: {elapsed:.2f} s, {type(exc).__name__}: {exc}")
    assert isinstance(exc, error), exc
    assert re.search(message, str(exc)), str(exc)
    assert elapsed < RETURNS_WITHIN
    assert data == {"a": 1}


@pytest.mark.parametrize(
    "condition",
    [
        "pow(3, 2**999999, 2**2000 + 1) > 0",
        "int(Decimal('1e600000')).bit_length() > 0",
        "len(sum([[0] * 10**6] * 60, [])) > 0",
    ],
)
def test_the_same_bombs_in_a_condition_are_stopped(env, condition):
    exc, elapsed = _timed(lambda: env.evaluate(condition, {}))
    print(f"{condition!r}: {elapsed:.2f} s, {type(exc).__name__}: {exc}")
    assert isinstance(exc, ScriptLimitExceeded), exc
    assert "the expression ran longer than its time limit of 0.5 s and was stopped" in str(exc) or (
        "the expression used more than 512 MiB of memory" in str(exc)
    )
    assert elapsed < RETURNS_WITHIN


def test_an_expression_value_over_the_result_limit_is_refused(env):
    with pytest.raises(ScriptResultTooLarge, match="the expression's result is larger than 1 MiB"):
        env.evaluate("'x' * 2000000", {})


def test_a_killed_worker_is_replaced_and_the_next_job_works(pool, env):
    pool.wait_ready()
    before, killed = set(pool.pids()), pool.killed
    with pytest.raises(ScriptTimeout):
        env.execute("x = pow(3, 2**999999, 2**2000 + 1)", {})
    assert pool.killed == killed + 1
    pool.wait_ready()
    after = set(pool.pids())
    assert len(after) == 2 and len(before - after) == 1  # one worker replaced
    [dead] = before - after
    assert _gone(dead)
    data = {"a": 1}
    env.execute("b = a + 1", data)
    assert data == {"a": 1, "b": 2}


def test_a_memory_bomb_is_stopped_by_the_address_space_limit_and_its_worker_replaced(pool, env):
    pool.wait_ready()
    before = set(pool.pids())
    exc, elapsed = _timed(lambda: env.execute("x = 'x' * 10**7\ny = x.ljust(10**9)", {}))
    print(f"ljust(10**9): {elapsed:.2f} s, {exc}")
    assert isinstance(exc, ScriptMemoryExceeded)
    assert str(exc) == "the script used more than 512 MiB of memory"
    pool.wait_ready()
    assert len(before - set(pool.pids())) == 1
    assert env.evaluate("len(s) + 0 == 3 and sum([1]) == 1", {"s": "abc"}) is True


def test_a_caught_memory_error_does_not_help(env):
    # The script may catch MemoryError; the allocation still failed, and nothing large is left.
    data = {}
    env.execute(
        "try:\n    x = ('x' * 10**7).replace('x', 'x' * 100)\nexcept MemoryError:\n    x = 'no'",
        data,
    )
    assert data == {"x": "no"}


def test_a_concurrent_evaluation_completes_while_a_bomb_runs(pool):
    pool.wait_ready()
    bomb_running = threading.Event()
    order: list[str] = []
    latencies: dict[str, float] = {}

    def started(data):  # a trusted function: runs in this process, called by the bomb
        bomb_running.set()
        return True

    bomb_env = RestrictedEnvironment(time_limit=LIMIT, pool=pool, functions={"started": started})
    env = RestrictedEnvironment(time_limit=LIMIT, pool=pool)
    outcome: dict[str, Exception] = {}

    def bomb():
        try:
            bomb_env.execute("s = started()\nx = pow(3, 2**999999, 2**2000 + 1)", {})
        except Exception as exc:
            outcome["bomb"] = exc
        order.append("bomb stopped")

    thread = threading.Thread(target=bomb)
    thread.start()
    assert bomb_running.wait(RETURNS_WITHIN)
    for name, run in [
        ("simple condition", lambda: env.evaluate('decision == "正确"', {"decision": "正确"})),
        ("pooled condition", lambda: env.evaluate("sum([1, 2]) == 3", {})),
        ("pooled script", lambda: env.execute("y = sorted(x)", {"x": [2, 1]})),
    ]:
        started_at = time.monotonic()
        assert run() in (True,)
        latencies[name] = time.monotonic() - started_at
        order.append(name)
    thread.join(RETURNS_WITHIN)
    print({name: f"{seconds * 1000:.1f} ms" for name, seconds in latencies.items()})
    assert isinstance(outcome.get("bomb"), ScriptTimeout)
    assert order == ["simple condition", "pooled condition", "pooled script", "bomb stopped"]


def test_jobs_from_many_threads_run_concurrently(pool, env):
    pool.wait_ready()
    results, errors = [], []

    def work(n):
        try:
            data = {"n": n}
            env.execute("total = 0\nfor i in range(n):\n    total += i", data)
            results.append(data["total"] == sum(range(n)))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(1000 + i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(RETURNS_WITHIN)
    assert errors == [] and results == [True] * 12


def test_the_kernel_cpu_limit_stops_a_worker_even_when_the_parent_does_not():
    # A backstop for a worker whose server died: RLIMIT_CPU, set before every job.
    with ScriptPool(size=1, kill_grace=60.0) as pool:
        env = RestrictedEnvironment(time_limit=LIMIT, pool=pool)
        exc, elapsed = _timed(lambda: env.execute("x = pow(3, 2**999999, 2**2000 + 1)", {}))
        print(f"RLIMIT_CPU backstop: {elapsed:.2f} s, {exc}")
        assert isinstance(exc, ScriptWorkerFailed)
        assert "stopped unexpectedly (signal SIGXCPU)" in str(exc)
        assert elapsed < RETURNS_WITHIN


def test_a_worker_killed_from_outside_is_replaced():
    with ScriptPool(size=1) as pool:
        pool.wait_ready()
        env = RestrictedEnvironment(time_limit=5.0, pool=pool, functions={"go": lambda d: go.set()})
        # killed while idle: the job goes to its replacement
        [pid] = pool.pids()
        os.kill(pid, signal.SIGKILL)
        while not _dead(pid):
            time.sleep(0.01)
        data = {}
        env.execute("x = 1", data)
        assert data == {"x": 1} and pool.pids() != [pid]
        # killed during a job: that job fails, naming what happened; the next one works
        go = threading.Event()
        outcome = {}

        def run():
            try:
                env.execute("go()\nx = pow(3, 2**999999, 2**2000 + 1)", {})
            except Exception as exc:
                outcome["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        assert go.wait(RETURNS_WITHIN)
        [pid] = pool.pids()
        os.kill(pid, signal.SIGKILL)
        thread.join(RETURNS_WITHIN)
        assert isinstance(outcome["error"], ScriptWorkerFailed)
        assert "stopped unexpectedly (signal SIGKILL)" in str(outcome["error"])
        env.execute("y = 2", data)
        assert data == {"x": 1, "y": 2}
        assert _gone(pid)


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    "script, message",
    [
        ("x = range(3)", "x: values of type range cannot be stored"),
        ("x = range(10**9)", "x: values of type range cannot be stored"),
        (
            "try:\n    1 / 0\nexcept Exception as e:\n    err = e",
            "err: values of type ZeroDivisionError cannot be stored",
        ),
        ("d = {(1, 2): 3}", r"d: keys must be strings \(got \(1, 2\)\)"),
        ("d = {1: 'a'}", r"d: keys must be strings \(got 1\)"),
        ("n = 10**5000", "n: integer larger than 4300 digits"),
        ("y = []\nfor i in range(500):\n    y = [y]", "y: nested deeper than 32 levels"),
        ("c = []\nc.append(c)", "c: nested deeper than 32 levels"),
        ("f = float('nan')", "f: NaN is not a value"),
        ("f = [1.0, float('inf')]", r"f\[1\]: infinity is not a value"),
        ("s = {1, 2}", "s: values of type set cannot be stored"),
        ("t = (1, 2)", "t: values of type tuple cannot be stored"),
        ("o = {'a': [1, {'typename': 2}]}", r"o.a\[1\].typename: the key 'typename' is reserved"),
        ("u = chr(0xD800)", "u: text with unpaired surrogates cannot be stored"),
    ],
)
def test_values_the_state_cannot_store_are_refused_naming_the_variable(env, script, message):
    data = {"a": 1}
    with pytest.raises(UnstorableValue, match=message):
        env.execute(script, data)
    assert data == {"a": 1}  # nothing written back, nothing changed silently


def test_refused_values_fail_instead_of_changing_silently():
    # The old in-process path changed them: {1: 'a'} became {"1": "a"} in the state, NaN null.
    old = {}
    InProcessEnvironment().execute("d = {1: 'a'}\nf = float('nan')", old)
    assert old["d"] == {1: "a"}  # (what got stored as {"1": "a"})
    env = RestrictedEnvironment(time_limit=LIMIT)
    for script in ("d = {1: 'a'}", "f = float('nan')"):
        with pytest.raises(UnstorableValue):
            env.execute(script, {})


def test_storable_values_come_back_as_they_were(env):
    data = {
        "when": date(2027, 3, 1),
        "fee": Decimal("12.50"),
        "at": datetime(2027, 3, 1, tzinfo=UTC),
    }
    env.execute(
        "later = when + timedelta(days=1)\n"
        "total = fee * 2\n"
        "stamp = at\n"
        "rows = [{'$key': 1, 'n': None, 'f': 1.5, 'b': True, 'big': 10**4100}]\n"
        "text = '学籍' * 3",
        data,
    )
    assert data["later"] == date(2027, 3, 2)
    assert data["total"] == Decimal("25.00")
    assert data["stamp"] == datetime(2027, 3, 1, tzinfo=UTC)
    assert data["rows"] == [{"$key": 1, "n": None, "f": 1.5, "b": True, "big": 10**4100}]
    assert data["text"] == "学籍学籍学籍"


def test_unchanged_values_are_not_written_back_and_only_named_data_is_sent(env):
    rows = [{"k": 1}, {"k": 2}]
    data = {"rows": rows, "other": object(), "_private": 1, "gone": 1, "fn": 3}
    env.execute("total = sum(r['k'] for r in rows)\ndel gone\nfn = len", data)
    assert data["rows"] is rows  # read, not changed: the very same object
    assert data["total"] == 3
    assert "gone" not in data and "fn" not in data
    assert data["_private"] == 1 and "other" in data  # never sent: not named by the script


def test_in_place_changes_are_written_back(env):
    data = {"order": {"items": [1, 2]}, "names": ["a"]}
    env.execute("order['total'] = sum(order['items'])\nnames.append('b')", data)
    assert data == {"order": {"items": [1, 2], "total": 3}, "names": ["a", "b"]}


def test_named_data_that_cannot_cross_is_refused_clearly(env):
    with pytest.raises(UnstorableValue, match="values of type object cannot be passed"):
        env.execute("y = x", {"x": object()})


def test_exceptions_come_back_with_their_type_and_text(env):
    with pytest.raises(ZeroDivisionError):
        env.execute("x = 1 / 0", {})
    with pytest.raises(KeyError) as info:
        env.execute("x = {}\ny = x['nope']", {})
    assert info.value.args == ("nope",)
    with pytest.raises(NameError, match="missing"):
        env.evaluate("missing > 1", {})
    with pytest.raises(ScriptRestrictionError, match="is not allowed in scripts"):
        env.execute("x = open('/etc/passwd')", {})
    with pytest.raises(ArithmeticError):  # decimal's own exception types come back too
        env.execute("x = Decimal(1) / Decimal(0)", {})


def test_wire_values_round_trip():
    value = {
        "a": [1, 2.5, None, True, "学", 10**5000, -(10**5000)],
        "$t": {"$$x": (1, frozenset({2})), "s": {3}},
        "m": {1: "a", (1, 2): "b"},
        "d": [date(2027, 1, 1), datetime(2027, 1, 1, 8, tzinfo=UTC), Decimal("1.10")],
    }
    assert from_wire(to_wire(value)) == value


# --------------------------------------------------------------------------- the fast path

SIMPLE = [
    ('decision == "正确"', {"decision": "正确"}),
    ("total > 10", {"total": 11}),
    ("0 < total <= 10", {"total": 11}),
    ("len(problems) == 0", {"problems": []}),
    ('season == "春季" and year >= 2027', {"season": "春季", "year": 2027}),
    (
        'outcome == "correct" and len(check["problems"]) == 0',
        {"outcome": "correct", "check": {"problems": [1]}},
    ),
    ('student_status in ("退学", "毕业")', {"student_status": "毕业"}),
    ('result["outcome"] == "留级"', {"result": {"outcome": "留级"}}),
    ("own_fault == True", {"own_fault": 1}),
    ("graduating", {"graduating": []}),
    ("not a or b", {"a": 0, "b": ""}),
    ("x[1:] + [3]", {"x": [1, 2]}),
    ("(a + b) * 2 - c / 4 // 1 % 3", {"a": 1, "b": 2.5, "c": 7}),
    ("-fee + Decimal_ if fee else 0", {"fee": Decimal("1.5"), "Decimal_": Decimal("2")}),
    (
        "when.year == 2027 and (end - when).days",
        {"when": date(2027, 1, 1), "end": date(2027, 2, 1)},
    ),
    ("name + '同学'", {"name": "李"}),
    ("y", {}),  # external context
    ("{1, 2} == {2, 1}", {}),
]


@pytest.mark.parametrize("expression, data", SIMPLE)
def test_simple_conditions_run_here_with_the_same_result(pool, env, expression, data):
    jobs = pool.jobs
    assert env.evaluate(expression, data, {"y": 5}) == InProcessEnvironment().evaluate(
        expression, data, {"y": 5}
    )
    assert pool.jobs == jobs  # no worker asked


@pytest.mark.parametrize(
    "expression, data",
    [
        ("len([c for c in rows if c['sampled']]) > 0", {"rows": [{"sampled": True}]}),
        ("2 ** 10 > 1000", {}),
        ("date(2027, 1, 1) < when", {"when": date(2027, 2, 1)}),  # a builtin
        ("x * 3", {"x": "ab"}),  # text repeated: not proven cheap
        ("x + y", {"x": "a" * 60000, "y": "b" * 60000}),  # too long to concatenate here
        ("n * 2 > 0", {"n": 1 << 5000}),  # too large an integer
        ("len(x)", {"x": 7}),  # would fail: the worker reports it
    ],
)
def test_other_expressions_go_to_a_worker(pool, env, expression, data):
    jobs = pool.jobs
    try:
        expected = InProcessEnvironment().evaluate(expression, data)
    except Exception as exc:
        with pytest.raises(type(exc)):
            env.evaluate(expression, data)
    else:
        assert env.evaluate(expression, data) == expected
    assert pool.jobs == jobs + 1


def test_simple_conditions_raise_what_the_expression_raises(env):
    with pytest.raises(TypeError):
        env.evaluate("a < b", {"a": 1, "b": "x"})
    with pytest.raises(KeyError):
        env.evaluate("d['x'] == 1", {"d": {}})
    with pytest.raises(ZeroDivisionError):
        env.evaluate("a / b", {"a": 1, "b": 0})
    with pytest.raises(ScriptRestrictionError):
        env.evaluate("a.__class__", {"a": 1})


# --------------------------------------------------------------------------- trusted functions


def test_trusted_functions_run_in_this_process_with_its_clock(env):
    env = RestrictedEnvironment(
        time_limit=LIMIT, pool=env.pool, functions={"deadline_cycle": deadline_cycle}
    )
    moment = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    data = {"year": 2027}
    with clock.at(moment):
        expected = deadline_cycle(data, "P7D")
        # a timer expression: the fast path
        assert env.evaluate('deadline_cycle("P7D")', data) == expected
        # from a script in a worker: the call comes back here, where the clock is fixed
        env.execute('cycle = deadline_cycle("P7D")\nlate = deadline_cycle("03-15")', data)
    assert data["cycle"] == expected == "R2/2027-03-08T09:00:00+00:00/P7D"
    assert data["late"] == "R2/2027-03-15T23:59:59+08:00/P7D"


def test_a_trusted_function_error_reaches_the_script(env):
    def refuse(data, rule):
        raise ValueError(f"bad rule {rule}")

    env = RestrictedEnvironment(time_limit=LIMIT, pool=env.pool, functions={"refuse": refuse})
    data = {}
    env.execute("try:\n    refuse('x')\nexcept ValueError as e:\n    m = str(e)", data)
    assert data == {"m": "bad rule x"}


# --------------------------------------------------------------------------- shutting down


def test_the_pool_shuts_down_cleanly_without_zombies():
    pool = ScriptPool(size=2)
    pool.wait_ready()
    env = RestrictedEnvironment(time_limit=LIMIT, pool=pool)
    seen = set(pool.pids())
    data = {}
    env.execute("x = 1", data)
    with pytest.raises(ScriptTimeout):
        env.execute("x = pow(3, 2**999999, 2**2000 + 1)", {})
    pool.wait_ready()
    seen |= set(pool.pids())
    assert len(seen) == 3
    pool.close()
    assert pool.pids() == []
    assert all(_gone(pid) for pid in seen)
    with pytest.raises(ScriptWorkerFailed, match="shut down"):
        env.execute("x = 2", {})
    assert data == {"x": 1}


def test_closing_the_pool_stops_a_running_job():
    pool = ScriptPool(size=1)
    pool.wait_ready()
    env = RestrictedEnvironment(time_limit=5.0, pool=pool, functions={"go": lambda d: go.set()})
    go = threading.Event()
    outcome = {}

    def run():
        try:
            env.execute("go()\nx = pow(3, 2**999999, 2**2000 + 1)", {})
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    assert go.wait(RETURNS_WITHIN)
    pids = pool.pids()
    pool.close()
    thread.join(RETURNS_WITHIN)
    assert not thread.is_alive()
    assert isinstance(outcome["error"], ScriptWorkerFailed)
    assert "shut down" in str(outcome["error"])
    assert all(_gone(pid) for pid in pids)


def test_a_forked_child_gets_pools_of_its_own():
    env = RestrictedEnvironment(time_limit=LIMIT)  # the shared pool, started here
    env.execute("x = 1", {})
    parent_pids = set(env.pool.pids())
    child = os.fork()
    if child == 0:  # the child: never return into pytest
        code = 1
        try:
            data = {}
            env.execute("x = 2", data)
            code = 0 if data == {"x": 2} and not set(env.pool.pids()) & parent_pids else 3
            env.pool.close()
        finally:
            os._exit(code)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid:
            break
        time.sleep(0.05)
    else:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        pytest.fail("the forked child did not finish")
    assert os.waitstatus_to_exitcode(status) == 0
    assert set(env.pool.pids()) == parent_pids  # the parent's workers are untouched
    env.execute("x = 3", {})


# --------------------------------------------------------------------------- through the runner

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                  id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="calc" name="计算" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>SCRIPT</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="gw" name="多吗" default="low">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>high</bpmn:outgoing><bpmn:outgoing>low</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="end_high"><bpmn:incoming>high</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_low"><bpmn:incoming>low</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="calc"/>
    <bpmn:sequenceFlow id="f2" sourceRef="calc" targetRef="gw"/>
    <bpmn:sequenceFlow id="high" sourceRef="gw" targetRef="end_high">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">CONDITION</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="low" sourceRef="gw" targetRef="end_low"/>
  </bpmn:process>
</bpmn:definitions>
"""


def _run(script: str, condition: str, data: dict):
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(
        BPMN.replace("SCRIPT", script).replace("CONDITION", condition).encode("utf-8")
    )
    runner = Runner(time_limit=LIMIT)
    workflow = runner.new_workflow(parser.get_spec("proc"), {})
    return runner.start(workflow, data)


def test_runner_runs_a_pooled_script_and_a_simple_condition():
    outcome = _run(
        "total = sum(scores)\nlabel = '高' if total &gt; 10 else '低'",
        "total &gt; 10",
        {"scores": [5, 7]},
    )
    assert outcome.finished
    assert [c.element_id for c in outcome.completed if c.element_id.startswith("end")] == [
        "end_high"
    ]
    assert outcome.data["total"] == 12 and outcome.data["label"] == "高"


def test_runner_fails_the_step_of_a_bomb_in_a_condition():
    started = time.monotonic()
    with pytest.raises(StepError) as info:
        _run("total = 1", "pow(3, 2**999999, 2**2000 + 1) &gt; 0", {})
    print(f"bomb in a condition: {time.monotonic() - started:.2f} s, {info.value.reason}")
    assert (
        "the expression ran longer than its time limit of 0.5 s and was stopped"
        in info.value.reason
    )
    assert info.value.element_id == "gw"


def test_runner_fails_the_step_of_a_script_over_a_limit_or_leaving_an_unstorable_value():
    with pytest.raises(StepError) as info:
        _run("x = ('x' * 10**7).replace('x', 'x' * 100)", "1 &gt; 0", {})
    assert "the script used more than 512 MiB of memory" in info.value.reason
    assert info.value.element_id == "calc" and info.value.element_name == "计算"
    with pytest.raises(StepError) as info:
        _run("x = range(3)", "1 &gt; 0", {})
    assert "x: values of type range cannot be stored" in info.value.reason
