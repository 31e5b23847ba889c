"""Worker processes that run untrusted scripts and expressions under hard limits.

`ScriptPool` keeps `size` worker processes started ahead of time (plain `subprocess`
children: ``python -I -c …``, so nothing of the threaded server is forked; no environment
variables, cwd ``/``). Each worker sets, before its first job:

* ``RLIMIT_AS`` to the pool's memory limit (an allocation beyond it raises MemoryError,
  reported as "used more than 512 MiB of memory"; the worker is then replaced);
* ``RLIMIT_CORE`` 0, ``RLIMIT_NPROC`` 0 (no forking, for non-root users);
* before every job ``RLIMIT_CPU`` a little above the CPU it used so far plus the job's
  limit, so that even an orphaned worker (the server died) stops on its own.

The parent sends one job at a time to an idle worker and waits, with `poll`, until the
job's time limit plus a grace period; past it the worker is killed with SIGKILL and a
replacement started in the background, so even a single long C call (``pow`` with a huge
exponent) is stopped. Each thread takes its own worker: a script never makes another
thread's job wait, unless all workers are busy.

What crosses the pipes is JSON in length-prefixed frames: the job (source, the task data
the code names, the time limit, the names of the trusted functions), calls of those
functions back to the parent (they run there, with the parent's clock and settings), and
the result: an expression's value, or the names a script changed and removed. A result
frame over the result limit is refused and its worker killed.

Values on the wire (`to_wire` / `from_wire`): JSON's own, and tagged objects
(``{"$t": "date", "v": "2024-01-31"}``) for tuple, set, frozenset, datetime, date, time,
timedelta, Decimal, UUID, dicts with other keys than strings and integers of more than
4000 digits; keys starting with "$" get one more "$".
"""

from __future__ import annotations

import atexit
import builtins
import decimal
import json
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from datetime import time as time_of_day
from decimal import Decimal
from typing import Any
from uuid import UUID

from xueji.engine.serializer import describe_size

MiB = 1 << 20
DEFAULT_WORKERS = 2
DEFAULT_MEMORY_LIMIT = 512 * MiB
DEFAULT_RESULT_LIMIT = 1 * MiB
KILL_GRACE = 0.2  # seconds past a job's time limit before its worker is killed
START_TIMEOUT = 60.0  # seconds a new worker may take to say it is ready
_FRAME_SLACK = 64 * 1024  # envelope and error text beside a result
_MAX_ERROR_TEXT = 2000
_WIRE_DEPTH = 200


# --------------------------------------------------------------------------- errors


class ScriptRestrictionError(Exception):
    """Raised when a script uses a construct, name or value that is not allowed."""


class UnstorableValue(ScriptRestrictionError):
    """A script left a value the instance state cannot store ("x: values of type range …")."""


class ScriptLimitExceeded(Exception):
    """A script or expression went over one of its limits (time, memory, result size)."""


class ScriptTimeout(ScriptLimitExceeded):
    """Raised when a script or expression exceeds its time limit."""


class ScriptMemoryExceeded(ScriptLimitExceeded):
    """A script or expression needed more memory than its worker may have."""


class ScriptResultTooLarge(ScriptLimitExceeded):
    """What a script or expression gave back is larger than the result limit."""


class ScriptWorkerFailed(ScriptLimitExceeded):
    """The worker process stopped unexpectedly, could not start, or the pool was closed."""


class ScriptError(Exception):
    """An exception from a script whose type is not rebuilt by name (its name leads the text)."""


def timeout_message(what: str, limit: float) -> str:
    return f"the {what} ran longer than its time limit of {float(limit)} s and was stopped"


def memory_message(what: str, limit: int) -> str:
    return f"the {what} used more than {describe_size(limit)} of memory"


def result_message(what: str, limit: int, where: str | None = None) -> str:
    at = f" ({where})" if where else ""
    return f"the {what}'s result is larger than {describe_size(limit)}{at}"


_OWN_ERRORS: dict[str, type[Exception]] = {
    cls.__name__: cls
    for cls in (
        ScriptRestrictionError,
        UnstorableValue,
        ScriptLimitExceeded,
        ScriptTimeout,
        ScriptMemoryExceeded,
        ScriptResultTooLarge,
        ScriptWorkerFailed,
        ScriptError,
    )
}
_BUILTIN_ERRORS: dict[str, type[Exception]] = {
    name: value
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, Exception)
}
_DECIMAL_ERRORS: dict[str, type[Exception]] = {
    name: value
    for name, value in vars(decimal).items()
    if isinstance(value, type) and issubclass(value, Exception)
}


def describe_error(exc: BaseException) -> dict[str, Any]:
    """An exception as a wire message: its type, arguments (when they fit) and text."""
    kind = type(exc)
    message = str(exc)[:_MAX_ERROR_TEXT]
    try:
        args = to_wire(list(exc.args), budget=_MAX_ERROR_TEXT)
    except (WireError, RecursionError):
        args = None
    return {"type": kind.__name__, "module": kind.__module__, "args": args, "message": message}


def rebuild_error(error: Mapping[str, Any]) -> Exception:
    """The exception `describe_error` described, of the same type where we know it."""
    name, module = str(error.get("type")), error.get("module")
    message = str(error.get("message", ""))[:_MAX_ERROR_TEXT]
    if module == "builtins":
        cls = _BUILTIN_ERRORS.get(name)
    elif module == "decimal":
        cls = _DECIMAL_ERRORS.get(name)
    else:
        cls = _OWN_ERRORS.get(name)
    if cls is not None:
        args = error.get("args")
        try:
            return cls(*from_wire(args)) if args is not None else cls(message)
        except Exception:
            try:
                return cls(message)
            except Exception:
                pass
    return ScriptError(f"{name}: {message}" if message else name)


# --------------------------------------------------------------------------- wire values


class WireError(ValueError):
    """A value that cannot cross to or from a worker."""


_BIG_INT = 10**4000


def to_wire(value: Any, budget: int | None = None) -> Any:
    """`value` as a JSON-able tree; WireError for other types, too deep, or over `budget`."""
    left = [budget if budget is not None else -1]
    return _to_wire(value, 0, left, budget is not None)


def _charge(left: list[int], size: int, counting: bool) -> None:
    if counting:
        left[0] -= size
        if left[0] < 0:
            raise WireTooLarge("larger than the limit")


class WireTooLarge(WireError):
    """A value over the size allowed."""


def _to_wire(value: Any, depth: int, left: list[int], counting: bool) -> Any:
    if depth > _WIRE_DEPTH:
        raise WireError(f"nested deeper than {_WIRE_DEPTH} levels")
    if value is None or isinstance(value, bool):
        _charge(left, 5, counting)
        return value
    if isinstance(value, str):
        _charge(left, len(value) + 2, counting)
        return str(value)
    if isinstance(value, int):
        _charge(left, value.bit_length() // 3 + 1, counting)
        if -_BIG_INT < value < _BIG_INT:
            return int(value)
        return {"$t": "int", "v": format(int(value), "x")}
    if isinstance(value, float):
        _charge(left, 8, counting)
        return float(value)
    if isinstance(value, list | tuple | set | frozenset):
        _charge(left, len(value) + 2, counting)
        items = [_to_wire(item, depth + 1, left, counting) for item in value]
        if isinstance(value, list):
            return items
        tag = "tuple" if isinstance(value, tuple) else "set" if isinstance(value, set) else "fset"
        return {"$t": tag, "v": items}
    if isinstance(value, dict):
        _charge(left, 2 * len(value) + 2, counting)
        if all(isinstance(key, str) for key in value):
            return {
                ("$" + key if key.startswith("$") else str(key)): _to_wire(
                    item, depth + 1, left, counting
                )
                for key, item in value.items()
            }
        pairs = [
            [_to_wire(key, depth + 1, left, counting), _to_wire(item, depth + 1, left, counting)]
            for key, item in value.items()
        ]
        return {"$t": "map", "v": pairs}
    _charge(left, 40, counting)
    if isinstance(value, datetime):
        return {"$t": "datetime", "v": value.isoformat()}
    if isinstance(value, date):
        return {"$t": "date", "v": value.isoformat()}
    if isinstance(value, time_of_day):
        return {"$t": "time", "v": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$t": "timedelta", "v": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, Decimal):
        text = str(value)
        _charge(left, len(text), counting)
        return {"$t": "decimal", "v": text}
    if isinstance(value, UUID):
        return {"$t": "uuid", "v": str(value)}
    raise WireError(f"values of type {type(value).__name__} cannot be passed")


_FROM_TAG: dict[str, Callable[[Any], Any]] = {
    "int": lambda v: int(v, 16),
    "tuple": lambda v: tuple(from_wire(item) for item in v),
    "set": lambda v: {from_wire(item) for item in v},
    "fset": lambda v: frozenset(from_wire(item) for item in v),
    "map": lambda v: {from_wire(key): from_wire(item) for key, item in v},
    "datetime": datetime.fromisoformat,
    "date": date.fromisoformat,
    "time": time_of_day.fromisoformat,
    "timedelta": lambda v: timedelta(v[0], v[1], v[2]),
    "decimal": Decimal,
    "uuid": UUID,
}


def from_wire(tree: Any) -> Any:
    """The value `to_wire` made `tree` of (WireError for a tree it could not have made)."""
    kind = type(tree)
    if kind is list:
        return [from_wire(item) for item in tree]
    if kind is dict:
        if "$t" in tree:
            try:
                return _FROM_TAG[tree["$t"]](tree["v"])
            except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
                raise WireError(f"malformed value {tree.get('$t')!r}") from exc
        return {(key[1:] if key.startswith("$") else key): from_wire(v) for key, v in tree.items()}
    if tree is None or kind in (str, int, float, bool):
        return tree
    raise WireError(f"malformed value of type {kind.__name__}")


def _dumps(tree: Any) -> bytes:
    text = json.dumps(tree, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "surrogatepass")


def _loads(data: bytes) -> Any:
    return json.loads(data.decode("utf-8", "surrogatepass"))


# --------------------------------------------------------------------------- frames

_HEADER = struct.Struct(">I")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class _Gone(Exception):
    """The worker's pipe closed: it died."""


class _Overrun(Exception):
    """The deadline passed before the worker answered."""


class _FrameTooLarge(Exception):
    """The worker announced a frame over the allowed size."""


def _read_exact(fd: int, count: int, deadline: float | None, poller: Any) -> bytes:
    chunks = []
    while count:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(max(1, int(left * 1000 + 0.999))):
                if time.monotonic() >= deadline:
                    raise _Overrun
                continue
        chunk = os.read(fd, min(count, 1 << 20))
        if not chunk:
            raise _Gone
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int, deadline: float | None, poller: Any, max_size: int | None) -> Any:
    (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline, poller))
    if max_size is not None and size > max_size:
        raise _FrameTooLarge
    return _loads(_read_exact(fd, size, deadline, poller))


# --------------------------------------------------------------------------- the parent's side

_BOOT = (
    "import json, sys\n"
    "config = json.loads(sys.argv[1])\n"
    "sys.path[:] = config['path']\n"
    "from xueji.engine.sandbox_worker import worker_main\n"
    "worker_main(config)\n"
)


class _Worker:
    """One worker process as the parent sees it."""

    def __init__(self, memory_limit: int):
        config = {
            "path": [os.path.abspath(entry) if entry else os.getcwd() for entry in sys.path],
            "memory_limit": memory_limit,
            "parent": os.getpid(),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT, json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={"PATH": os.defpath},
            cwd="/",
            start_new_session=True,  # the terminal's Ctrl-C is the parent's business
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.pid = self.process.pid
        self._in = self.process.stdin.fileno()
        self._out = self.process.stdout.fileno()
        self._poller = select.poll()
        self._poller.register(self._out, select.POLLIN | select.POLLHUP | select.POLLERR)
        self.jobs = 0

    def wait_ready(self, timeout: float) -> None:
        message = _read_frame(self._out, time.monotonic() + timeout, self._poller, _FRAME_SLACK)
        if message.get("op") != "ready":
            raise ScriptWorkerFailed(f"a script worker did not start: {message.get('message')}")

    def send(self, data: bytes) -> None:
        _write_all(self._in, data)

    def receive(self, deadline: float, max_size: int) -> Any:
        try:
            return _read_frame(self._out, deadline, self._poller, max_size)
        except OSError:
            raise _Gone from None

    def kill(self) -> None:
        if self.process.returncode is None:
            try:
                self.process.kill()
            except ProcessLookupError:
                pass

    def wait(self) -> int | None:
        """Kill if need be and wait for the process (no zombie is left); its exit status."""
        self.kill()
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            return None

    def reap(self) -> int | None:
        """`wait`, then close the pipes: only by the thread that uses the worker (or none)."""
        code = self.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass
        return code


def _ended(code: int | None) -> str:
    if code is None:
        return "it did not stop"
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


class ScriptPool:
    """Pre-started worker processes running jobs with time, memory and result limits.

    Thread-safe: each job takes an idle worker for itself (waiting only while all `size`
    are busy); a worker killed or broken by a job is replaced in the background.
    """

    def __init__(
        self,
        size: int = DEFAULT_WORKERS,
        memory_limit: int = DEFAULT_MEMORY_LIMIT,
        result_limit: int = DEFAULT_RESULT_LIMIT,
        kill_grace: float = KILL_GRACE,
    ):
        if size < 1:
            raise ValueError("a script pool needs at least one worker")
        self.size = size
        self.memory_limit = memory_limit
        self.result_limit = result_limit
        self.kill_grace = kill_grace
        self._pid = os.getpid()
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._workers: set[_Worker] = set()  # started and ready: idle or busy
        self._starting: set[_Worker] = set()
        self._threads: set[threading.Thread] = set()
        self._pending = 0  # replacements asked for, not yet started
        self._start_error: BaseException | None = None
        self._retry_at = 0.0  # no new start before (after one failed)
        self._closed = False
        self.started = 0  # workers started so far (replacements included)
        self.killed = 0  # workers killed over a limit
        self.jobs = 0  # jobs sent to workers
        with self._cond:
            for _ in range(size):
                self._start_one()

    # ----------------------------------------------------------------- running jobs

    @property
    def closed(self) -> bool:
        return self._closed

    def pids(self) -> list[int]:
        """Process ids of the workers now alive or starting (for tests and diagnostics)."""
        with self._cond:
            return sorted(w.pid for w in self._workers | self._starting)

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Wait until all workers are started (or `timeout` passed)."""
        end = time.monotonic() + timeout
        with self._cond:
            while (self._starting or self._pending) and not self._closed:
                left = end - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)

    def evaluate(
        self,
        source: str,
        context: Mapping[str, Any],
        external: Mapping[str, Any],
        time_limit: float,
        functions: Mapping[str, Callable[..., Any]],
    ) -> Any:
        """Evaluate an expression in a worker; its value."""
        return self._run("eval", source, context, external, time_limit, functions, _decode_value)

    def execute(
        self,
        source: str,
        context: Mapping[str, Any],
        external: Mapping[str, Any],
        time_limit: float,
        functions: Mapping[str, Callable[..., Any]],
    ) -> tuple[dict[str, Any], list[str]]:
        """Run a script in a worker; (changed names and their values, removed names)."""
        changes: tuple[dict[str, Any], list[str]] = self._run(
            "exec", source, context, external, time_limit, functions, _decode_changes
        )
        return changes

    def _run(
        self,
        op: str,
        source: str,
        context: Mapping[str, Any],
        external: Mapping[str, Any],
        time_limit: float,
        functions: Mapping[str, Callable[..., Any]],
        decode: Callable[[dict[str, Any]], Any],
    ) -> Any:
        what = "script" if op == "exec" else "expression"
        try:
            job = _dumps(
                {
                    "op": op,
                    "source": source,
                    "context": to_wire(dict(context)),
                    "external": to_wire(dict(external)),
                    "time_limit": time_limit,
                    "result_limit": self.result_limit,
                    "functions": sorted(functions),
                }
            )
        except WireError as exc:
            raise UnstorableValue(f"the task data cannot be passed to the {what}: {exc}") from exc
        for attempt in (1, 2):
            worker = self._acquire()
            healthy = False
            result: Any = None
            error: Exception | None = None
            try:
                try:
                    worker.send(job)
                except OSError:  # it died while idle: try another one, once
                    if attempt == 1:
                        continue
                    raise ScriptWorkerFailed(f"the {what}'s worker process stopped") from None
                worker.jobs += 1
                self.jobs += 1
                # The grace covers sending and reading the data: 50 ms more per MB.
                deadline = time.monotonic() + time_limit + self.kill_grace + len(job) / 20e6
                reply = self._exchange(worker, deadline, functions)
                if reply.get("op") == "done":
                    result = decode(reply)
                    healthy = True
                elif reply.get("op") == "error":
                    error = self._error(reply, what)
                    healthy = not isinstance(error, ScriptMemoryExceeded)
                else:
                    raise ValueError(f"unexpected message {reply.get('op')!r}")
            except _Overrun:
                self.killed += 1
                worker.kill()
                raise ScriptTimeout(timeout_message(what, time_limit)) from None
            except _FrameTooLarge:
                self.killed += 1
                worker.kill()
                raise ScriptResultTooLarge(result_message(what, self.result_limit)) from None
            except _Gone:
                code = worker.reap()
                if self._closed:
                    raise ScriptWorkerFailed("the script pool was shut down") from None
                raise ScriptWorkerFailed(
                    f"the {what}'s worker process stopped unexpectedly ({_ended(code)})"
                ) from None
            except (ValueError, LookupError, TypeError, AttributeError, RecursionError) as exc:
                worker.kill()  # a garbled reply: nothing it says can be trusted
                raise ScriptWorkerFailed(f"the {what}'s worker sent a malformed reply") from exc
            except BaseException:
                worker.kill()
                raise
            finally:
                self._release(worker, healthy)
            if error is None:
                return result
            line = reply.get("line")
            if type(line) is int and 0 < line < 1_000_000:
                _raise_at_line(error, line)
            raise error
        raise AssertionError("unreachable")

    def _exchange(
        self, worker: _Worker, deadline: float, functions: Mapping[str, Callable[..., Any]]
    ) -> dict[str, Any]:
        max_size = self.result_limit + _FRAME_SLACK
        while True:
            message = worker.receive(deadline, max_size)
            if not isinstance(message, dict):
                raise ValueError("not a message")
            if message.get("op") != "call":
                return message
            try:
                worker.send(_dumps(_call_trusted(functions, message)))
            except OSError:
                raise _Gone from None

    def _error(self, reply: dict[str, Any], what: str) -> Exception:
        if reply.get("type") == "MemoryError" and reply.get("module") == "builtins":
            return ScriptMemoryExceeded(memory_message(what, self.memory_limit))
        return rebuild_error(reply)

    # ----------------------------------------------------------------- the workers

    def _acquire(self) -> _Worker:
        if os.getpid() != self._pid:  # its workers and lock belong to the parent
            raise ScriptWorkerFailed("a script pool cannot be used in a forked process")
        with self._cond:
            while True:
                if self._closed:
                    raise ScriptWorkerFailed("the script pool was shut down")
                if self._idle:
                    return self._idle.pop()
                if not self._starting and not self._pending and len(self._workers) < self.size:
                    if self._start_error is not None and not self._workers:
                        error, self._start_error = self._start_error, None
                        raise ScriptWorkerFailed(f"no script worker could be started: {error}")
                    if time.monotonic() >= self._retry_at:
                        self._start_error = None
                        self._start_one()
                self._cond.wait(0.5)

    def _release(self, worker: _Worker, healthy: bool) -> None:
        with self._cond:
            if healthy and not self._closed and worker.process.returncode is None:
                self._idle.append(worker)
                self._cond.notify()
                return
            self._workers.discard(worker)
            if not self._closed:
                self._start_one(replacing=worker)
                return
        worker.reap()

    def _start_one(self, replacing: _Worker | None = None) -> None:
        """Start a worker in a background thread (with the lock held)."""
        self._pending += 1
        thread = threading.Thread(
            target=self._start_worker, args=(replacing,), name="xueji-script-worker", daemon=True
        )
        self._threads.add(thread)
        thread.start()

    def _start_worker(self, replacing: _Worker | None) -> None:
        if replacing is not None:
            replacing.reap()
        worker: _Worker | None = None
        error: BaseException | None = None
        try:
            if not self._closed:
                worker = _Worker(self.memory_limit)
        except Exception as exc:  # reported to the jobs waiting for a worker
            error = exc
        with self._cond:
            self._pending -= 1
            if worker is not None and not self._closed:
                self._starting.add(worker)
                self.started += 1
                ready = worker
                worker = None
            else:
                ready = None
        if ready is not None:
            try:
                ready.wait_ready(START_TIMEOUT)
            except (
                OSError,
                ValueError,
                _Gone,
                _Overrun,
                _FrameTooLarge,
                ScriptWorkerFailed,
            ) as exc:
                error = exc
        with self._cond:
            self._threads.discard(threading.current_thread())
            if ready is not None:
                self._starting.discard(ready)
                if error is None and not self._closed:
                    self._workers.add(ready)
                    self._idle.append(ready)
                else:
                    worker = ready
            if error is not None:
                self._start_error = error
                self._retry_at = time.monotonic() + 1.0
            self._cond.notify_all()
        if worker is not None:
            worker.reap()

    def close(self) -> None:
        """Stop every worker (jobs still running fail) and wait for them: no zombies left."""
        with self._cond:
            self._closed = True
            idle = list(self._idle)
            owned = list((self._workers | self._starting) - set(idle))
            self._workers.clear()
            self._idle.clear()
            threads = list(self._threads)
            self._cond.notify_all()
        for worker in idle + owned:
            worker.kill()
        for worker in idle:
            worker.reap()
        for worker in owned:  # their threads see the pipe close and close it themselves
            worker.wait()
        for thread in threads:
            thread.join(timeout=30)

    def __enter__(self) -> ScriptPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _decode_value(reply: dict[str, Any]) -> Any:
    return from_wire(reply["value"])


def _decode_changes(reply: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    changed = {str(name): from_wire(value) for name, value in reply["changed"].items()}
    return changed, [str(name) for name in reply["removed"]]


def _call_trusted(
    functions: Mapping[str, Callable[..., Any]], message: Mapping[str, Any]
) -> dict[str, Any]:
    """Run a trusted function a script called (in the parent); the reply for the worker."""
    function = functions.get(str(message.get("name")))
    if function is None:
        return {"op": "raise", **describe_error(NameError(f"name {message.get('name')!r}"))}
    try:
        args, kwargs = from_wire(message.get("args", [])), from_wire(message.get("kwargs", {}))
        value = function(*args, **{str(k): v for k, v in kwargs.items()})
        return {"op": "return", "value": to_wire(value)}
    except Exception as exc:
        return {"op": "raise", **describe_error(exc)}


def _raise_at_line(error: Exception, line: int) -> None:
    """Raise `error` from a frame of "<string>" at `line`, as if the script had raised it there.

    SpiffWorkflow finds a script's failing line in the traceback (the last "<string>" frame)."""
    code = compile("\n" * (line - 1) + "raise error", "<string>", "exec")
    exec(code, {"error": error})


_shared: dict[tuple[int, int, int], ScriptPool] = {}
_shared_lock = threading.Lock()


def shared_pool(
    size: int = DEFAULT_WORKERS,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    result_limit: int = DEFAULT_RESULT_LIMIT,
) -> ScriptPool:
    """The process's pool of these limits, started on first use and closed at exit."""
    key = (size, memory_limit, result_limit)
    with _shared_lock:
        pool = _shared.get(key)
        if pool is None or pool.closed or pool._pid != os.getpid():
            if not _shared:
                atexit.register(close_shared_pools)
            pool = _shared[key] = ScriptPool(size, memory_limit, result_limit)
        return pool


def _forget_shared_pools() -> None:
    """In a forked child: the parent's pools (and maybe a held lock) are not the child's."""
    global _shared_lock
    _shared_lock = threading.Lock()
    _shared.clear()


os.register_at_fork(after_in_child=_forget_shared_pools)


def close_shared_pools() -> None:
    with _shared_lock:
        pools = [pool for pool in _shared.values() if pool._pid == os.getpid()]
        _shared.clear()
    for pool in pools:
        pool.close()


# --------------------------------------------------------------------------- the worker's side
