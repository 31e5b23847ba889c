"""Builds the Runtime: the database, and an engine runner wired to the process logic.

The one place that knows both the engine and the process logic; the layers in between name
services only through `Runtime.services`.
"""

from __future__ import annotations

from functools import partial

from xueji.config import Settings
from xueji.db.session import open_database
from xueji.deadlines import deadline_cycle
from xueji.engine.runner import Runner
from xueji.process_logic import registered_services
from xueji.process_logic.summaries import SUMMARIES
from xueji.runtime import Runtime


def build_runtime(settings: Settings) -> Runtime:
    services = registered_services()
    return Runtime(
        settings=settings,
        db=open_database(settings.resolved_database_url()),
        secret_key=settings.resolved_secret_key(),
        services=services,
        summaries=SUMMARIES,
        runner=Runner(
            services=services,
            time_limit=settings.script_time_limit,
            functions={
                "deadline_cycle": partial(deadline_cycle, reminder=settings.reminder_period)
            },
            script_workers=settings.script_workers,
            script_memory_limit=settings.script_memory_mib * 1024 * 1024,
            script_result_limit=settings.script_result_kib * 1024,
        ),
    )
