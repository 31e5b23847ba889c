"""Signed access tokens (JWT) for people, and opaque long-lived API tokens for integrations."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

API_TOKEN_PREFIX = "xjt_"
_ALGORITHM = "HS256"
# Tokens whose signature was verified, with their claims: a client sends the same token with
# every request, and decoding it again (base64, JSON, HMAC, PyJWT's checks) is a good part of
# a cheap request. An entry still answers only until the token's `exp`. Cleared when full.
_VERIFIED: dict[tuple[str, str], dict[str, Any]] = {}
_VERIFIED_MAX = 4096


def create_access_token(
    username: str, secret: str, minutes: int, now: datetime | None = None, epoch: int = 0
) -> str:
    """A signed token for `username`; `epoch` is the user's session epoch (see User), left
    out while it is 0, as in tokens made before there were epochs."""
    now = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": username,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
        "typ": "access",
    }
    if epoch:
        claims["epoch"] = epoch
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def read_access_claims(token: str, secret: str) -> dict[str, Any] | None:
    """The claims of a valid, unexpired access token (`sub`, `epoch`, …), else None. The
    claims are shared between callers: read them, never change them."""
    claims = _VERIFIED.get((token, secret))
    if claims is not None:
        return claims if time.time() < claims["exp"] else None
    try:
        claims = jwt.decode(
            token, secret, algorithms=[_ALGORITHM], options={"require": ["sub", "exp", "iat"]}
        )
    except jwt.PyJWTError:
        return None
    if claims.get("typ") != "access" or not isinstance(claims.get("epoch", 0), int):
        return None
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[(token, secret)] = claims
    return claims


def read_access_token(token: str, secret: str) -> str | None:
    """The username in a valid, unexpired access token, else None."""
    claims = read_access_claims(token, secret)
    return None if claims is None else claims["sub"]


def new_api_token() -> tuple[str, str]:
    """A fresh API token and the hash to store (the token itself is shown once)."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_api_token(token)


def hash_api_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
