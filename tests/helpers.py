"""Plain helper functions for tests: log in, deploy, start, find tasks."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def token(client, username: str, password: str = "demo") -> str:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def auth(client, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {_cached_token(id(client), client, username)}"}


@lru_cache(maxsize=256)
def _cached_token(_client_id, client, username):
    return token(client, username)


def deploy(client, *names_or_files, expect: int = 201):
    files = []
    for item in names_or_files:
        if isinstance(item, tuple):
            files.append(("files", item))
        else:
            path = FIXTURES / item
            files.append(("files", (path.name, path.read_bytes())))
    response = client.post("/api/v1/deployments", files=files, headers=auth(client, "admin"))
    assert response.status_code == expect, response.text
    return response.json()


def tasks_of(client, username: str, **params) -> list[dict]:
    response = client.get("/api/v1/tasks", params=params, headers=auth(client, username))
    assert response.status_code == 200, response.text
    return response.json()["items"]
