"""Helpers of the auth tests."""

from __future__ import annotations

from sqlalchemy import delete

from xueji.db.session import session_scope
from xueji.models.auth import LoginAttempt

PASSWORD = "right-horse-battery"


def clear_attempts(runtime) -> None:
    with session_scope(runtime.db.writer) as session:
        session.execute(delete(LoginAttempt))


def login(client, username: str, password: str = PASSWORD):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
