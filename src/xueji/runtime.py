"""What a running service (or CLI command, or worker) holds: database, caches, engine runner."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from xueji import clock
from xueji.config import Settings
from xueji.db.session import Database, open_database, session_scope
from xueji.deadlines import deadline_cycle
from xueji.definitions.specs import SpecCache
from xueji.engine.runner import Runner
from xueji.history.service import record_event
from xueji.models import Incident

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    secret_key: str
    runner: Runner
    specs: SpecCache = field(default_factory=SpecCache)

    def record_incident(self, incident: dict[str, Any]) -> None:
        """Keep a failed step's incident (and its history line) after the step rolled back."""
        try:
            with session_scope(self.db.writer) as session:
                now = clock.now()
                session.add(Incident(created_at=now, **incident))
                if incident.get("instance_id"):
                    record_event(
                        session,
                        incident["instance_id"],
                        incident["actor"],
                        "step_failed",
                        element_id=incident.get("element_id"),
                        data={"message": incident["message"]},
                        at=now,
                    )
        except Exception:  # the request already fails; never hide its error behind this one
            log.exception("could not record incident %r", incident)


def create_runtime(settings: Settings) -> Runtime:
    # Service task modules import the instance machinery, which needs this module first.
    from xueji.service_tasks import SERVICES

    return Runtime(
        settings=settings,
        db=open_database(settings.resolved_database_url()),
        secret_key=settings.resolved_secret_key(),
        runner=Runner(
            services=SERVICES,
            time_limit=settings.script_time_limit,
            functions={
                "deadline_cycle": partial(deadline_cycle, reminder=settings.reminder_period)
            },
        ),
    )
