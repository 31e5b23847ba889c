"""The one clock: every use of "now" in xueji (and in SpiffWorkflow's timers) reads it.

`xueji worker --once --now …` and tests move time by running code inside `at(moment)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_fixed: ContextVar[datetime | None] = ContextVar("xueji_now", default=None)


def now() -> datetime:
    """The current instant, timezone-aware."""
    return _fixed.get() or datetime.now(UTC)


@contextmanager
def at(moment: datetime) -> Iterator[datetime]:
    """Run the block as if it were `moment`."""
    if moment.tzinfo is None:
        raise ValueError("the clock takes timezone-aware instants")
    token = _fixed.set(moment)
    try:
        yield moment
    finally:
        _fixed.reset(token)
