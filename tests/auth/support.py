"""Helpers of the auth tests."""

from __future__ import annotations

PASSWORD = "right-horse-battery"


def login(client, username: str, password: str = PASSWORD):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
