"""Scale-out on PostgreSQL: the CPU time all service processes spend per completed instance
with one API process and with two (each beside one worker), lock waits sampled from
pg_stat_activity meanwhile, and the throughput ratio of the two set-ups."""

from __future__ import annotations

import threading
from pathlib import Path

from load import concurrent, deploy
from service import Database, Service
from sqlalchemy import create_engine, text


class LockWaits:
    """Backends of the bench database seen waiting on a heavyweight lock, sampled every 50 ms,
    by kind (pg_stat_activity.wait_event: transactionid and tuple are row locks, relation a
    table's, extend a table file growing under concurrent INSERTs)."""

    def __init__(self, database_url: str):
        self.engine = create_engine(database_url)
        self.samples = 0
        self.kinds: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self.engine.connect() as conn:
            while not self._stop.wait(0.05):
                for kind, count in conn.execute(
                    text(
                        "SELECT wait_event, count(*) FROM pg_stat_activity"
                        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
                        " GROUP BY wait_event"
                    )
                ):
                    self.kinds[kind] = self.kinds.get(kind, 0) + count
                conn.commit()
                self.samples += 1

    @property
    def waits(self) -> int:
        """Waits on rows or tables (not on a table file's extension)."""
        return sum(count for kind, count in self.kinds.items() if kind != "extend")

    def __enter__(self) -> LockWaits:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.engine.dispose()


def _measure(workdir: Path, serves: int, clients: int, seconds: float) -> dict[str, float]:
    workdir.mkdir(parents=True, exist_ok=True)
    database = Database("pg", workdir)
    try:
        with Service(database, workdir, serves=serves) as service:
            deploy(service.urls[0])
            concurrent(service.urls, clients, min(seconds, 3))  # warm up every process
            cpu_before = service.cpu_ms()
            with LockWaits(database.url) as locks:
                rate, timings = concurrent(service.urls, clients, seconds)
            cpu = service.cpu_ms() - cpu_before
    finally:
        database.close()
    return {
        "rate": rate,
        "cpu_ms": cpu / timings.instances,
        "lock_waits": locks.waits,
        "lock_waits_by_kind": locks.kinds,
    }


def scaleout(workdir: Path, clients: int, seconds: float) -> dict[str, float]:
    one = _measure(workdir / "one", 1, clients, seconds)
    two = _measure(workdir / "two", 2, clients, seconds)
    return {
        "cpu_ms_per_instance_1proc": one["cpu_ms"],
        "cpu_ms_per_instance_2proc": two["cpu_ms"],
        "cpu_2proc_to_1proc_ratio": two["cpu_ms"] / one["cpu_ms"],
        "lock_waits_1proc": one["lock_waits"],
        "lock_waits": two["lock_waits"],
        "lock_waits_by_kind_1proc": one["lock_waits_by_kind"],
        "lock_waits_by_kind_2proc": two["lock_waits_by_kind"],
        "throughput_1proc": one["rate"],
        "throughput_2proc": two["rate"],
        "scaleout_ratio": two["rate"] / one["rate"],
    }
