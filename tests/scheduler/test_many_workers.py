"""Several workers sharing one database: every due timer fires exactly once; a dead worker's
claims are taken over. (CI runs this on PostgreSQL too, where claims use SKIP LOCKED.)"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from tests.helpers import deploy
from tests.scheduler.test_worker import DUE
from xueji.auth.principal import Principal
from xueji.db.session import session_scope
from xueji.definitions.repository import get_definition
from xueji.instances.service import start_instance
from xueji.models import HistoryEvent, Station, Timer
from xueji.scheduler.worker import claim_due, run_once

COUNT = 500


def start_many(db, count):
    with db.db.reader() as session:
        station = session.scalar(select(Station).where(Station.code == "S01"))
    principal = Principal(
        "station1", "郑州函授站", frozenset({"station"}), station.id, "S01", None, None
    )
    with session_scope(db.db.writer) as session:
        definition = get_definition(session, "deadline")
        for _ in range(count):
            start_instance(session, db, principal, definition, None, {})


def fired_per_instance(db):
    with db.db.reader() as session:
        return Counter(
            session.scalars(
                select(HistoryEvent.instance_id).where(HistoryEvent.kind == "timer_fired")
            )
        )


def test_two_workers_fire_five_hundred_timers_exactly_once(client, db):
    deploy(client, "deadline.bpmn")
    start_many(db, COUNT)
    reports = []

    def work(name):
        reports.append(run_once(db, DUE + timedelta(hours=1), worker=name))

    threads = [threading.Thread(target=work, args=(f"worker-{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    fired = fired_per_instance(db)
    assert len(fired) == COUNT and set(fired.values()) == {1}
    assert sum(r.fired for r in reports) == COUNT
    with db.db.reader() as session:
        states = Counter(session.scalars(select(Timer.state)))
    assert states == {"fired": COUNT}


def test_timers_claimed_by_a_dead_worker_are_taken_over(client, db):
    deploy(client, "deadline.bpmn")
    start_many(db, 3)
    now = DUE + timedelta(hours=1)
    assert len(claim_due(db, "crashed-worker", now)) == 3  # then it died
    assert run_once(db, now, worker="survivor").fired == 0  # the claims still hold
    report = run_once(db, now + timedelta(minutes=6), worker="survivor")
    assert report.fired == 3
    assert set(fired_per_instance(db).values()) == {1}
