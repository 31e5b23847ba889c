"""PATCH /users/{username} {"is_active": false}: the user's sessions end at once, they cannot
log in, and enabling them again does not bring the old sessions back."""

from __future__ import annotations

from tests.auth.support import login
from tests.helpers import auth

WRONG = {"error": "NotAuthenticated", "detail": "wrong username or password"}


def set_active(client, username, active, as_user="admin"):
    return client.patch(
        f"/api/v1/users/{username}", json={"is_active": active}, headers=auth(client, as_user)
    )


def test_disabling_ends_the_users_sessions_and_logins(client, make_user):
    username = make_user()
    token = login(client, username).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    disabled = set_active(client, username, False)
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["is_active"] is False
    # The very next request with the token they hold is refused.
    after = client.get("/api/v1/me", headers=headers)
    assert after.status_code == 401 and after.json()["error"] == "NotAuthenticated"
    refused = login(client, username)
    assert (refused.status_code, refused.json()) == (401, WRONG)
    users = client.get("/api/v1/users", headers=auth(client, "admin")).json()
    assert {u["username"]: u["is_active"] for u in users}[username] is False

    enabled = set_active(client, username, True)
    assert enabled.status_code == 200 and enabled.json()["is_active"] is True
    # The old session stays ended; a new login works.
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    fresh = login(client, username)
    assert fresh.status_code == 200
    me = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {fresh.json()['access_token']}"}
    )
    assert me.status_code == 200 and me.json()["username"] == username


def test_only_admins_change_users_and_not_their_own_account(client, make_user):
    username = make_user()
    assert set_active(client, username, False, as_user="registrar").status_code == 403
    assert set_active(client, "no-such-user", False).status_code == 404
    myself = set_active(client, "admin", False)
    assert myself.status_code == 422
    assert myself.json()["detail"] == [
        {"field": "is_active", "message": "you cannot disable yourself"}
    ]
    unknown_field = client.patch(
        f"/api/v1/users/{username}", json={"password": "x"}, headers=auth(client, "admin")
    )
    assert unknown_field.status_code == 422
    assert client.get("/api/v1/me", headers=auth(client, "admin")).status_code == 200
