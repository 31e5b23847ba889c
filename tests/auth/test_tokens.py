"""Access tokens: a verified token's claims are kept for the requests that send it again, and
still only until it expires (xueji.auth.tokens)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt

from xueji.auth import tokens
from xueji.auth.tokens import create_access_token, read_access_claims

SECRET = "test-secret-key-0123456789-0123456789"


def test_a_token_verified_once_is_not_decoded_again(monkeypatch):
    token = create_access_token("station1", SECRET, minutes=5, epoch=3)
    first = read_access_claims(token, SECRET)
    assert first is not None and first["sub"] == "station1" and first["epoch"] == 3

    def decode(*_args, **_kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(jwt, "decode", decode)
    assert read_access_claims(token, SECRET) is first
    # another secret is another key: it is verified (and refused)
    monkeypatch.undo()
    assert read_access_claims(token, "another-secret-key-0123456789-012345") is None


def test_a_kept_token_still_expires(monkeypatch):
    now = datetime.now(UTC)
    token = create_access_token("station1", SECRET, minutes=1, now=now)
    assert read_access_claims(token, SECRET) is not None
    later = time.time() + 61
    monkeypatch.setattr(tokens.time, "time", lambda: later)
    assert read_access_claims(token, SECRET) is None


def test_tampered_and_expired_tokens_are_not_kept():
    expired = create_access_token(
        "station1", SECRET, minutes=1, now=datetime.now(UTC) - timedelta(minutes=2)
    )
    assert read_access_claims(expired, SECRET) is None
    good = create_access_token("station1", SECRET, minutes=5)
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    assert read_access_claims(tampered, SECRET) is None
    assert (expired, SECRET) not in tokens._VERIFIED
    assert (tampered, SECRET) not in tokens._VERIFIED
