"""Auth tests: failed logins they make are removed before and after each, so that no test
(here or elsewhere, all logging in from the same test client address) inherits a count."""

from __future__ import annotations

import uuid

import pytest

from tests.auth.support import PASSWORD, clear_attempts
from tests.helpers import auth


@pytest.fixture(autouse=True)
def no_login_attempts(db):
    clear_attempts(db)
    yield
    clear_attempts(db)


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
