"""What a running service (or CLI command, or worker) holds: database, caches, engine runner.

Built by `xueji.wiring.build_runtime`, which wires the process logic into the runner; this
module only describes it, so that every layer may name it without importing the process logic.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request

from xueji.config import Settings
from xueji.db.session import Database
from xueji.engine.runner import Runner
from xueji.engine.specs import SpecCache

# A process's description of a case from its data: (kind, parts of the summary line, name of
# the person it is about when the case has no student); xueji.process_logic.summaries.
Describe = Callable[[Mapping[str, Any]], tuple[str | None, list[str], str | None]]


@dataclass
class Runtime:
    settings: Settings
    db: Database
    secret_key: str
    runner: Runner
    # Service task operators by name (xueji.process_logic), as wired into the runner.
    services: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    specs: SpecCache = field(default_factory=SpecCache)
    # How each process (by key) describes its cases in the inbox.
    summaries: Mapping[str, Describe] = field(default_factory=dict)
    # Set when work was queued (an import job): the worker of this process starts its next
    # pass at once instead of at its next poll.
    wake: threading.Event = field(default_factory=threading.Event)
    # Set when the server begins to shut down: event streams end instead of holding it up.
    stopping: threading.Event = field(default_factory=threading.Event)


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


AppRuntime = Annotated[Runtime, Depends(get_runtime)]
