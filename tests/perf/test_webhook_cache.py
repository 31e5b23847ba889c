"""The active webhooks are read once per process, not on every step: one registered through
this process counts from the moment its request commits; one written by another process is
seen once the cache is WEBHOOK_CACHE_SECONDS old."""

from __future__ import annotations

from sqlalchemy import select

from tests.helpers import auth
from tests.perf.conftest import complete
from xueji import clock
from xueji.db.session import session_scope
from xueji.events import service as events
from xueji.models import Webhook, WebhookDelivery


def deliveries(db) -> list[int]:
    with db.db.reader() as session:
        return sorted(session.scalars(select(WebhookDelivery.webhook_id)))


def test_webhooks_are_cached_and_changes_reach_the_cache(client, db, ten_steps, monkeypatch):
    monkeypatch.setattr(events, "WEBHOOK_CACHE_SECONDS", 3600.0)
    with session_scope(db.db.writer) as session:  # as another API process would
        elsewhere = Webhook(
            url="http://127.0.0.1:9/elsewhere",
            secret="x" * 32,
            event_types=["task.completed"],
            created_by="admin",
            created_at=clock.now(),
        )
        session.add(elsewhere)
    done = complete(client, ten_steps["next_tasks"][0]["id"])
    assert deliveries(db) == []  # the cache of this process has not seen it yet

    response = client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/here", "event_types": ["task.completed"]},
        headers=auth(client, "admin"),
    )
    assert response.status_code == 201, response.text
    here = response.json()["id"]
    done = complete(client, done["next_tasks"][0]["id"])
    assert deliveries(db) == sorted([elsewhere.id, here])  # read afresh after the change

    with session_scope(db.db.writer) as session:
        session.get(Webhook, here).active = False  # removed by another process
    monkeypatch.setattr(events, "WEBHOOK_CACHE_SECONDS", 0.0)  # … and the cache has aged
    complete(client, done["next_tasks"][0]["id"])
    assert deliveries(db) == sorted([elsewhere.id, here, elsewhere.id])
