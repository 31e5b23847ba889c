"""The worker process of the script sandbox (xueji.engine.sandbox): it sets its own limits,
then runs jobs from its pipe with the restricted environment of xueji.engine.scripting.

The pool side (sandbox.py) starts it as ``python -I -c`` and never imports this module, so the
server's side of the protocol does not depend on the restricted environment that uses it.
"""

from __future__ import annotations

import os
import resource
import signal
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from xueji.engine import scripting
from xueji.engine.sandbox import (
    ScriptResultTooLarge,
    UnstorableValue,
    WireError,
    WireTooLarge,
    _dumps,
    _Gone,
    _read_frame,
    _write_all,
    describe_error,
    from_wire,
    rebuild_error,
    result_message,
    to_wire,
)
from xueji.engine.serializer import DataTooLarge, UnsafeData, check_data


class _Channel:
    """The worker's end of the pipes."""

    def __init__(self, read_fd: int, write_fd: int):
        self.read_fd, self.write_fd = read_fd, write_fd

    def receive(self) -> Any:
        return _read_frame(self.read_fd, None, None, None)

    def send(self, message: Mapping[str, Any]) -> None:
        _write_all(self.write_fd, _dumps(message))


def _limit_self(memory_limit: int) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        memory_limit = min(memory_limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))  # not enforced for root
    except (ValueError, OSError):
        pass


def _limit_cpu(time_limit: float) -> None:
    """A CPU limit for this job, in whole seconds, above what the worker has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime + time_limit) + 2
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def worker_main(config: Mapping[str, Any]) -> None:
    """The worker process: set limits, say ready, run jobs until the parent closes the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    channel = _Channel(os.dup(0), os.dup(1))
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)  # stray prints go to the log, never into the protocol
    try:
        _limit_self(int(config["memory_limit"]))
    except BaseException as exc:
        channel.send({"op": "failed", "message": f"{type(exc).__name__}: {exc}"})
        raise SystemExit(1) from None
    channel.send({"op": "ready", "pid": os.getpid()})
    while True:
        try:
            job = channel.receive()
        except (_Gone, OSError):
            return  # the parent closed the pipe (or died)
        reply = _run_job(job, channel)
        try:
            channel.send(reply)
        except MemoryError:
            channel.send({"op": "error", **describe_error(MemoryError())})
        except OSError:
            return
        if reply.get("type") == "MemoryError":
            return  # the parent replaces this worker


def _run_job(job: Mapping[str, Any], channel: _Channel) -> dict[str, Any]:
    what = "script" if job.get("op") == "exec" else "expression"
    result_limit = int(job["result_limit"])

    def remote(name: str) -> Callable[..., Any]:
        def call(_data: Any, *args: Any, **kwargs: Any) -> Any:
            channel.send(
                {"op": "call", "name": name, "args": to_wire(list(args)), "kwargs": to_wire(kwargs)}
            )
            reply = channel.receive()
            if reply.get("op") == "return":
                return from_wire(reply.get("value"))
            raise rebuild_error(reply)

        return call

    try:
        _limit_cpu(float(job["time_limit"]))
        environment = scripting.InProcessEnvironment(
            time_limit=float(job["time_limit"]),
            functions={name: remote(name) for name in job["functions"]},
        )
        source = job["source"]
        raw_context = job["context"]
        context = from_wire(raw_context)
        external = from_wire(job["external"])
        if job["op"] == "eval":
            value = environment.evaluate(source, context, external)
            try:
                tree = to_wire(value, budget=result_limit)
            except WireTooLarge:
                raise ScriptResultTooLarge(result_message(what, result_limit)) from None
            except WireError as exc:
                raise UnstorableValue(f"the expression's value: {exc}") from None
            if len(_dumps(tree)) > result_limit:
                raise ScriptResultTooLarge(result_message(what, result_limit))
            return {"op": "done", "value": tree}
        changed, removed = environment.run_script(source, context, external)
        return {"op": "done", **_changes(changed, removed, raw_context, result_limit)}
    except MemoryError:
        return {"op": "error", **describe_error(MemoryError())}
    except Exception as exc:
        line = None
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename == "<string>":
                line = frame.lineno
        exc.__traceback__ = None
        return {"op": "error", "line": line, **describe_error(exc)}


def _changes(
    changed: Mapping[str, Any], removed: list[str], raw_context: Mapping[str, Any], limit: int
) -> dict[str, Any]:
    """What a script changed, checked for storing: only values that differ from the input."""
    out: dict[str, Any] = {}
    left = limit
    for name, value in changed.items():
        if name in raw_context:
            before = _dumps(raw_context[name])
            try:
                if _dumps(to_wire(value, budget=2 * len(before) + 64)) == before:
                    continue  # unchanged
            except WireError:
                pass  # changed (and checked below)
        try:
            left -= check_data(value, name, max_bytes=left)
        except DataTooLarge:
            raise ScriptResultTooLarge(result_message("script", limit, name)) from None
        except UnsafeData as exc:
            raise UnstorableValue(str(exc)) from None
        out[name] = to_wire(value)
    size = len(_dumps(out))
    if size > limit:
        raise ScriptResultTooLarge(result_message("script", limit))
    return {"changed": out, "removed": removed}
