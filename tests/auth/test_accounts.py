"""Accounts administered over HTTP: a reset password must be replaced at the next login
(every other call is 403 until then), password rules in the users' words, roles and station."""

from __future__ import annotations

from sqlalchemy import select

from tests.auth.support import PASSWORD, login
from tests.helpers import auth
from xueji.models import AuditEntry


def bearer(response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_a_reset_password_must_be_replaced_before_anything_else(client, db, make_user):
    username = make_user()
    old_session = bearer(login(client, username, PASSWORD))
    reset = client.post(f"/api/v1/users/{username}/password-reset", headers=auth(client, "admin"))
    assert reset.status_code == 200, reset.text
    one_time = reset.json()["password"]
    assert len(one_time) >= 8 and not one_time.isdigit()

    # the reset ends every session, and the old password is gone
    assert client.get("/api/v1/me", headers=old_session).status_code == 401
    assert login(client, username, PASSWORD).status_code == 401
    logged_in = login(client, username, one_time)
    assert logged_in.json()["must_change_password"] is True
    headers = bearer(logged_in)
    for method, path in (
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/tasks"),
        ("POST", "/api/v1/messages"),
    ):
        refused = client.request(method, path, headers=headers, json={})
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["error"] == "PasswordChangeRequired"

    weak = client.post(
        "/api/v1/auth/password",
        json={"current_password": one_time, "new_password": "1234567"},
        headers=headers,
    )
    assert weak.status_code == 422
    assert [p["message"] for p in weak.json()["detail"]] == ["密码至少 8 位", "密码不能全是数字"]
    same_as_name = client.post(
        "/api/v1/auth/password",
        json={"current_password": one_time, "new_password": username},
        headers=headers,
    )
    assert {"field": "new_password", "message": "密码不能与用户名相同"} in same_as_name.json()[
        "detail"
    ]
    wrong = client.post(
        "/api/v1/auth/password",
        json={"current_password": "not-it-at-all", "new_password": "a-new-pass-9"},
        headers=headers,
    )
    assert wrong.json()["detail"] == [{"field": "current_password", "message": "当前密码不正确"}]

    changed = client.post(
        "/api/v1/auth/password",
        json={"current_password": one_time, "new_password": "a-new-pass-9"},
        headers=headers,
    )
    assert changed.status_code == 204, changed.text
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    again = login(client, username, "a-new-pass-9")
    assert again.json()["must_change_password"] is False
    assert login(client, username, one_time).status_code == 401

    with db.db.reader() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "user.password_reset"))
    assert (entry.actor, entry.target) == ("admin", f"user:{username}")
    assert one_time not in str(entry.after)


def test_new_passwords_follow_the_rules(client, make_user):
    admin = auth(client, "admin")
    for password, message in (
        ("short1", "密码至少 8 位"),
        ("2027000012345", "密码不能全是数字"),
        ("Clerk_Rules", "密码不能与用户名相同"),
    ):
        response = client.post(
            "/api/v1/users",
            json={
                "username": "clerk_rules",
                "password": password,
                "display_name": "x",
                "roles": ["registrar"],
            },
            headers=admin,
        )
        assert response.status_code == 422, response.text
        assert {"field": "password", "message": message} in response.json()["detail"]


def test_an_admin_changes_roles_station_and_name(client, make_user):
    username = make_user(roles=("station",), station="S01")
    admin = auth(client, "admin")
    changed = client.patch(
        f"/api/v1/users/{username}",
        json={"roles": ["advisor"], "station": "S02", "display_name": "洛阳站班主任"},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    me = client.get("/api/v1/me", headers=bearer(login(client, username, PASSWORD))).json()
    assert (me["roles"], me["station"], me["display_name"]) == (["advisor"], "S02", "洛阳站班主任")

    no_station = client.patch(f"/api/v1/users/{username}", json={"station": None}, headers=admin)
    assert no_station.status_code == 422
    assert no_station.json()["detail"] == [
        {"field": "station", "message": "station users need a station"}
    ]
    unknown = client.patch(f"/api/v1/users/{username}", json={"roles": ["dean"]}, headers=admin)
    assert unknown.status_code == 422
    keep_admin = client.patch("/api/v1/users/admin", json={"roles": ["registrar"]}, headers=admin)
    assert keep_admin.status_code == 422
    college = client.patch(
        f"/api/v1/users/{username}", json={"roles": ["registrar"], "station": None}, headers=admin
    )
    assert college.status_code == 200, college.text
    assert college.json()["station"] is None
