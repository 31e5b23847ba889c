"""History lines and outbox events queued per session (xueji.db.pending_rows): written with
the commit, before any statement that could read them, after a step's flush; dropped with a
transaction that ends without commit."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from tests.helpers import deploy_bench
from xueji.clock import now
from xueji.db.session import session_scope
from xueji.history.service import record_event
from xueji.models import HistoryEvent, ProcessDefinition, ProcessInstance


@pytest.fixture
def deployed_any(client):
    deploy_bench(client)


def _instance(session) -> str:
    definition = session.scalars(select(ProcessDefinition)).first()
    instance = ProcessInstance(
        id=str(uuid.uuid4()),
        definition_id=definition.id,
        definition_key=definition.key,
        state="running",
        engine_state="{}",
        started_by="test",
        started_at=now(),
        updated_at=now(),
    )
    session.add(instance)  # not flushed: the queued rows refer to it
    return instance.id


def _lines(session, instance_id: str) -> int:
    return session.scalar(
        select(func.count())
        .select_from(HistoryEvent)
        .where(HistoryEvent.instance_id == instance_id)
    )


def test_many_rows_written_and_read_back_before_the_commit(db, deployed_any):
    with session_scope(db.db.writer) as session:
        instance_id = _instance(session)
        for n in range(1201):
            record_event(session, instance_id, "test", "note", data={"n": n})
        assert _lines(session, instance_id) == 1201  # a query writes them first
    with session_scope(db.db.reader) as session:
        numbers = session.scalars(
            select(HistoryEvent.data).where(HistoryEvent.instance_id == instance_id)
        ).all()
        assert sorted(d["n"] for d in numbers) == list(range(1201))


def test_the_commit_writes_them_and_a_rollback_drops_them(db, deployed_any):
    with session_scope(db.db.writer) as session:
        kept = _instance(session)
        record_event(session, kept, "test", "note")
    with session_scope(db.db.writer) as session:
        dropped = _instance(session)
        session.flush()
        record_event(session, dropped, "test", "note")
        session.rollback()
    with session_scope(db.db.reader) as session:
        assert _lines(session, kept) == 1
        assert _lines(session, dropped) == 0
