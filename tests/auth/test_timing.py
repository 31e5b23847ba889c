"""No username oracle: every login does the same argon2 work, whether the username exists,
the password is right, or the account is disabled. Counted through the one verification
seam (passwords.argon2_verify), which still runs argon2: nothing of ours is replaced."""

from __future__ import annotations

import pytest
from argon2 import extract_parameters
from sqlalchemy import select

from tests.auth.support import PASSWORD, login
from xueji.auth import passwords
from xueji.db.session import session_scope
from xueji.models import User


@pytest.fixture
def verifications(monkeypatch):
    calls: list[str] = []
    real = passwords.argon2_verify

    def counting(hasher, password_hash, password):
        calls.append(password_hash)
        return real(hasher, password_hash, password)

    monkeypatch.setattr(passwords, "argon2_verify", counting)
    return calls


def test_known_and_unknown_usernames_cost_one_argon2_verification_each(
    client, make_user, verifications
):
    username = make_user()
    expected = {"error": "NotAuthenticated", "detail": "wrong username or password"}

    def work_of(password_username, password):
        before = len(verifications)
        response = login(client, password_username, password)
        return response, verifications[before:]

    unknown, work = work_of("no-such-user-anywhere", "wrong")
    assert (unknown.status_code, unknown.json()) == (401, expected)
    assert work == [passwords.dummy_hash()]

    wrong, work = work_of(username, "wrong")
    assert (wrong.status_code, wrong.json()) == (401, expected)
    assert len(work) == 1 and work != [passwords.dummy_hash()]

    right, work = work_of(username, PASSWORD)
    assert right.status_code == 200 and len(work) == 1


def test_a_disabled_user_fails_like_a_wrong_password_with_the_same_work(
    client, db, make_user, verifications
):
    username = make_user()
    with session_scope(db.db.writer) as session:
        session.scalar(select(User).where(User.username == username)).is_active = False
    before = len(verifications)
    refused = login(client, username)  # the right password
    assert refused.status_code == 401
    assert refused.json() == {"error": "NotAuthenticated", "detail": "wrong username or password"}
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    assert len(verifications) == before + 1


def test_the_dummy_hash_has_the_parameters_of_new_users_hashes(db, make_user):
    username = make_user()
    with db.db.reader() as session:
        user_hash = session.scalar(select(User.password_hash).where(User.username == username))
    assert extract_parameters(passwords.dummy_hash()) == extract_parameters(user_hash)
    # Made once per process, not per login.
    assert passwords.dummy_hash() is passwords.dummy_hash()
    assert passwords.verify_password(passwords.dummy_hash(), PASSWORD) is False
