"""What /api/v1/health/ready checks: the database answers, its schema is at Alembic's head,
and some worker finished a pass recently."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text

from xueji import clock
from xueji.db.migrate import alembic_config
from xueji.models import WorkerHeartbeat
from xueji.runtime import Runtime


def heartbeat_limit(poll_seconds: float) -> timedelta:
    """How old the newest worker heartbeat may be: three missed passes, and never less than
    a minute (a pass that fires many timers takes a while)."""
    return timedelta(seconds=max(3 * poll_seconds, 60.0))


@dataclass
class Readiness:
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(check["ok"] for check in self.checks.values())


def readiness(runtime: Runtime) -> Readiness:
    """Each check with `ok` and what it saw; a check that cannot run is not ok (and the ones
    after it, which need the database, say so)."""
    result = Readiness()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    try:
        with runtime.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            result.checks["database"] = {"ok": True}
            current = MigrationContext.configure(connection).get_current_revision()
            result.checks["schema"] = {"ok": current == head, "revision": current, "head": head}
            newest = connection.scalar(select(func.max(WorkerHeartbeat.beat_at)))
    except Exception as exc:  # any failure to reach the database is "not ready"
        result.checks["database"] = {"ok": False, "error": type(exc).__name__}
        result.checks["schema"] = {"ok": False, "head": head, "error": "database unreachable"}
        result.checks["worker"] = {"ok": False, "error": "database unreachable"}
        return result
    limit = heartbeat_limit(runtime.settings.worker_poll_seconds)
    age = None if newest is None else (clock.now() - newest).total_seconds()
    result.checks["worker"] = {
        "ok": age is not None and age <= limit.total_seconds(),
        "last_heartbeat_seconds_ago": None if age is None else round(age, 1),
        "limit_seconds": limit.total_seconds(),
    }
    return result
