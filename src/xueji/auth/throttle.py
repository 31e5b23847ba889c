"""Login throttling: failed logins counted per username and per client address, in the database.

The rule (settings `login_window_seconds`, `login_failures_per_username`,
`login_failures_per_address`; 900 s, 5 and 20 by default): when a username, or a client
address, has that many failed logins within the last window, any further login for it is
refused with 429 `TooManyAttempts` and a `Retry-After` (seconds until enough of those failures
have left the window), whatever the password, and without checking it. Refused attempts are
not counted, so the lock lifts by itself one window after the failures; a successful login
clears its username's count (its failures still count for the addresses they came from).
Unknown usernames are counted like known ones, so the 429 says nothing about which exist.

The state is a table (`login_attempts`), so every service process sharing the database
shares the counts. An attempt is written (counting as a failure) and committed before the
counts are read and before the password is checked, so that concurrent attempts see each
other: of many simultaneous wrong passwords, no more than the limit get to argon2.
Rows older than the window are deleted as new attempts come.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from xueji.config import Settings
from xueji.db.session import Database, session_scope
from xueji.errors import TooManyAttempts
from xueji.models.auth import LoginAttempt

_USERNAME_CHARS = 200
_ADDRESS_CHARS = 64


@dataclass(frozen=True)
class Limits:
    window: timedelta
    per_username: int
    per_address: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            window=timedelta(seconds=settings.login_window_seconds),
            per_username=settings.login_failures_per_username,
            per_address=settings.login_failures_per_address,
        )


def client_address(request: Request) -> str:
    """The address a login came from, as the ASGI server reports it (`request.client.host`).

    Behind a reverse proxy, uvicorn decides what that is: with proxy headers on (its
    `--proxy-headers`, the default, also under `xueji serve`) it takes the client's address
    from `X-Forwarded-For` only when the connection comes from an address listed in
    `--forwarded-allow-ips` / the `FORWARDED_ALLOW_IPS` environment variable (default
    127.0.0.1 and ::1). List your own proxies there, and only them: otherwise every client
    shares the proxy's per-address count, or, if all addresses are trusted, a client picks
    its own address, and with it its counter."""
    host = request.client.host if request.client else None
    return (host or "unknown")[:_ADDRESS_CHARS]


def begin_attempt(db: Database, username: str, address: str, limits: Limits, now: datetime) -> int:
    """Record a login attempt (a failure until `succeeded` says otherwise) and return its id;
    TooManyAttempts when the username or the address is at its limit (the attempt is then
    not kept)."""
    username = username[:_USERNAME_CHARS]
    with session_scope(db.writer) as session:
        session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < now - limits.window))
        attempt = LoginAttempt(username=username, address=address, attempted_at=now)
        session.add(attempt)
        session.flush()
        attempt_id = attempt.id
    # Counted after the commit: attempts made at the same time see each other's rows.
    with db.reader() as session:
        wait = max(
            _wait(
                session,
                LoginAttempt.username == username,
                limits.per_username,
                attempt_id,
                limits.window,
                now,
            ),
            _wait(
                session,
                LoginAttempt.address == address,
                limits.per_address,
                attempt_id,
                limits.window,
                now,
            ),
        )
    if wait:
        with session_scope(db.writer) as session:
            session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt_id))
        raise TooManyAttempts(wait, f"too many failed logins; try again in {wait} seconds")
    return attempt_id


def succeeded(db: Database, attempt_id: int, username: str) -> None:
    """The attempt found the right password: it was no failure, and the username's count
    starts again (its earlier failures still count for their addresses)."""
    with session_scope(db.writer) as session:
        session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt_id))
        session.execute(
            update(LoginAttempt)
            .where(LoginAttempt.username == username[:_USERNAME_CHARS])
            .values(username=None)
        )


def _wait(
    session: Session, clause, limit: int, attempt_id: int, window: timedelta, now: datetime
) -> int:
    """Seconds until fewer than `limit` earlier failures matching `clause` are in the window
    (0: not at the limit). A limit below 1 turns the check off."""
    if limit < 1:
        return 0
    limit_th_newest = session.scalar(
        select(LoginAttempt.attempted_at)
        .where(clause, LoginAttempt.id != attempt_id, LoginAttempt.attempted_at >= now - window)
        .order_by(LoginAttempt.attempted_at.desc(), LoginAttempt.id.desc())
        .offset(limit - 1)
        .limit(1)
    )
    if limit_th_newest is None:
        return 0
    return max(1, math.ceil((limit_th_newest + window - now).total_seconds()))
