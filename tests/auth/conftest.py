"""Auth tests: users made through the API."""

from __future__ import annotations

import uuid

import pytest

from tests.auth.support import PASSWORD
from tests.helpers import auth


@pytest.fixture
def make_user(client):
    """Create a user through the API (removed again by the db fixture); returns its name."""

    def make(roles=("registrar",), station=None) -> str:
        username = f"u_{uuid.uuid4().hex[:8]}"
        response = client.post(
            "/api/v1/users",
            json={
                "username": username,
                "password": PASSWORD,
                "display_name": username,
                "roles": list(roles),
                "station": station,
            },
            headers=auth(client, "admin"),
        )
        assert response.status_code == 201, response.text
        return username

    return make
