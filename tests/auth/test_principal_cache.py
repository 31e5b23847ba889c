"""The principal cache (xueji.auth.principal_cache): a request whose caller was read a moment
ago runs no statement for them; a change made through this process takes effect with the
next request; one made behind its back (another API process, SQL) within
PRINCIPAL_CACHE_SECONDS; API tokens are never cached."""

from __future__ import annotations

import time

from sqlalchemy import update

from bench.counting import Counted
from tests.auth.support import login
from tests.helpers import auth
from xueji.auth import principal_cache
from xueji.db.session import session_scope
from xueji.models import User


def _user_reads(counted: Counted) -> list[str]:
    return [s for s in counted.statements if "FROM users" in s]


def test_a_second_request_reads_no_user(client, db):
    headers = auth(client, "station1")
    client.get("/api/v1/me", headers=headers).raise_for_status()
    with Counted(*db.db.engines) as counted:
        client.get("/api/v1/me", headers=headers).raise_for_status()
    assert _user_reads(counted) == [], counted.summary()


def test_roles_changed_through_the_api_apply_to_the_next_request(client, make_user):
    username = make_user(roles=("registrar",))
    headers = {"Authorization": f"Bearer {login(client, username).json()['access_token']}"}
    assert client.get("/api/v1/users", headers=headers).status_code == 403  # cached now
    changed = client.patch(
        f"/api/v1/users/{username}", json={"roles": ["admin"]}, headers=auth(client, "admin")
    )
    assert changed.status_code == 200, changed.text
    assert client.get("/api/v1/users", headers=headers).status_code == 200


def test_a_change_behind_the_caches_back_applies_within_its_lifetime(
    client, db, make_user, monkeypatch
):
    monkeypatch.setattr(principal_cache, "PRINCIPAL_CACHE_SECONDS", 0.5)
    username = make_user()
    headers = {"Authorization": f"Bearer {login(client, username).json()['access_token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    # as another API process would: its own engine, not this process's sessions
    with db.db.engine.begin() as connection:
        connection.execute(
            update(User.__table__).where(User.username == username).values(is_active=False)
        )
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # still cached
    time.sleep(0.6)
    refused = client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 401, refused.text


def test_a_bulk_update_of_users_in_a_session_forgets_everyone(client, db, make_user):
    username = make_user()
    headers = {"Authorization": f"Bearer {login(client, username).json()['access_token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with session_scope(db.db.writer) as session:
        session.execute(update(User).where(User.username == username).values(is_active=False))
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_token_of_a_newer_epoch_than_the_cached_one_is_read_afresh(client, db, make_user):
    username = make_user()
    old = {"Authorization": f"Bearer {login(client, username).json()['access_token']}"}
    assert client.get("/api/v1/me", headers=old).status_code == 200  # epoch 0 cached
    # disabled and enabled again by another process: epoch 1, the cache here still says 0
    with db.db.engine.begin() as connection:
        connection.execute(
            update(User.__table__).where(User.username == username).values(session_epoch=1)
        )
    new = {"Authorization": f"Bearer {login(client, username).json()['access_token']}"}
    assert client.get("/api/v1/me", headers=new).status_code == 200
    # and now the old token is refused: the fresh read replaced the entry
    assert client.get("/api/v1/me", headers=old).status_code == 401


def test_api_tokens_are_read_on_every_request(client, db):
    made = client.post(
        "/api/v1/api-tokens",
        json={"name": "inbox-sync", "role": "registrar"},
        headers=auth(client, "admin"),
    )
    assert made.status_code == 201, made.text
    headers = {"Authorization": f"Bearer {made.json()['token']}"}
    client.get("/api/v1/tasks", headers=headers).raise_for_status()
    with Counted(*db.db.engines) as counted:
        client.get("/api/v1/tasks", headers=headers).raise_for_status()
    assert any("FROM api_tokens" in s for s in counted.statements), counted.summary()
