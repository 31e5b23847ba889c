"""POST /auth/token is throttled per username and per client address, with the counts in the
database: after 5 failures for a username (20 from an address) within 15 minutes, 429 with
Retry-After, even with the right password, until the window has passed."""

from __future__ import annotations

import threading
from datetime import timedelta

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.auth.support import PASSWORD, login
from xueji import clock
from xueji.db.session import session_scope
from xueji.models.auth import LoginAttempt

WINDOW = timedelta(minutes=15)


def age_attempts(db, by: timedelta) -> None:
    """Move every recorded attempt `by` into the past (as if that much time had passed)."""
    with session_scope(db.db.writer) as session:
        for row in session.scalars(select(LoginAttempt)):
            row.attempted_at = row.attempted_at - by


def attempts(db, **where) -> int:
    with db.db.reader() as session:
        query = select(func.count()).select_from(LoginAttempt).filter_by(**where)
        return session.scalar(query)


def test_the_settings_are_the_documented_numbers(db):
    settings = db.settings
    assert settings.login_window_seconds == 900
    assert settings.login_failures_per_username == 5
    assert settings.login_failures_per_address == 20


def test_after_five_failures_even_the_right_password_is_429_until_the_window_passes(
    client, db, make_user
):
    username = make_user()
    for _ in range(5):
        assert login(client, username, "wrong").status_code == 401
    refused = login(client, username, "wrong")
    assert refused.status_code == 429
    assert refused.json()["error"] == "TooManyAttempts"
    assert 880 <= int(refused.headers["Retry-After"]) <= 900
    right = login(client, username)
    assert right.status_code == 429 and right.json()["error"] == "TooManyAttempts"
    # Refused attempts are not counted: the lock does not grow while someone keeps trying.
    assert attempts(db, username=username) == 5

    age_attempts(db, WINDOW - timedelta(seconds=30))
    still = login(client, username)
    assert still.status_code == 429
    assert 1 <= int(still.headers["Retry-After"]) <= 30

    age_attempts(db, timedelta(seconds=31))
    assert login(client, username).status_code == 200


def test_a_success_resets_the_usernames_count(client, make_user):
    username = make_user()
    for _ in range(4):
        assert login(client, username, "wrong").status_code == 401
    assert login(client, username).status_code == 200
    for _ in range(5):
        assert login(client, username, "wrong").status_code == 401
    assert login(client, username, "wrong").status_code == 429


def test_an_unknown_username_is_throttled_like_a_known_one(client):
    for _ in range(5):
        response = login(client, "nobody-by-this-name", "wrong")
        assert response.status_code == 401
        assert response.json() == {
            "error": "NotAuthenticated",
            "detail": "wrong username or password",
        }
    assert login(client, "nobody-by-this-name", "wrong").status_code == 429


def test_twenty_failures_from_one_address_block_it_for_every_username(api_app, db, make_user):
    victim = make_user()
    with TestClient(api_app, client=("203.0.113.7", 40000)) as attacker:
        for i in range(20):
            assert login(attacker, f"guess{i}", "wrong").status_code == 401
        blocked = login(attacker, victim)
        assert blocked.status_code == 429
        assert 880 <= int(blocked.headers["Retry-After"]) <= 900
    # The same account from another address is fine: the username has no failures.
    with TestClient(api_app, client=("198.51.100.9", 40000)) as other:
        assert login(other, victim).status_code == 200


def test_a_success_keeps_the_usernames_failures_counting_for_their_address(api_app, db, make_user):
    """Logging in to one's own account does not give an address its attempts back."""
    own = make_user()
    with TestClient(api_app, client=("203.0.113.8", 40000)) as http:
        for i in range(15):
            assert login(http, f"guess{i}", "wrong").status_code == 401
        for _ in range(4):
            assert login(http, own, "wrong").status_code == 401
        assert login(http, own).status_code == 200
        assert login(http, "guess-last", "wrong").status_code == 401  # the 20th failure
        assert login(http, own).status_code == 429


def test_old_attempts_are_pruned(client, db, make_user):
    username = make_user()
    for _ in range(3):
        login(client, username, "wrong")
    age_attempts(db, WINDOW + timedelta(seconds=1))
    assert attempts(db) == 3
    login(client, "someone-else", "wrong")
    assert attempts(db) == 1
    with db.db.reader() as session:
        [row] = session.scalars(select(LoginAttempt))
    assert row.username == "someone-else" and row.address == "testclient"
    assert abs(row.attempted_at - clock.now()) < timedelta(minutes=1)


def test_simultaneous_wrong_passwords_get_no_more_than_the_limit_checked(
    client,
    db,
    server,
    make_user,
):
    """Twelve requests at once, through a real server: the count is shared through the
    database, so at most five get to the password check (401); the others are 429."""
    username = make_user()
    barrier = threading.Barrier(12)
    statuses: list[int] = []

    def attempt():
        with httpx.Client(base_url=server, timeout=60) as http:
            barrier.wait()
            response = http.post(
                "/api/v1/auth/token", data={"username": username, "password": "wrong"}
            )
            statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(statuses) == 12
    assert set(statuses) <= {401, 429}
    checked = statuses.count(401)
    assert checked <= 5
    # Only the checked ones count (a refused attempt leaves nothing behind).
    assert attempts(db, username=username) == checked
    with httpx.Client(base_url=server, timeout=60) as http:
        right = http.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert right.status_code == (429 if checked == 5 else 200)


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(
    db,
    server,
    make_user,
):
    """uvicorn (as `xueji serve` runs it) trusts X-Forwarded-For from 127.0.0.1 by default:
    the server here sees the connection from there, as it would from a local proxy."""
    victim = make_user()

    def attempt(http, forwarded_for, username, password="wrong"):
        return http.post(
            "/api/v1/auth/token",
            data={"username": username, "password": password},
            headers={"X-Forwarded-For": forwarded_for},
        )

    with httpx.Client(base_url=server, timeout=60) as http:
        for i in range(20):
            assert attempt(http, "203.0.113.50", f"guess{i}").status_code == 401
        assert attempt(http, "203.0.113.50", victim, PASSWORD).status_code == 429
        assert attempt(http, "203.0.113.51", victim, PASSWORD).status_code == 200
    assert attempts(db, address="203.0.113.50") == 20
