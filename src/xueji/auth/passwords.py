"""Password hashing with argon2id."""

from __future__ import annotations

import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from xueji.config import get_settings

# Parameters of new hashes per setting (XUEJI_PASSWORD_HASHING). "standard" is argon2-cffi's
# defaults; "fast" (one pass over 8 KiB) is only for test suites, which log in hundreds of
# times. A hash records its own parameters, so verifying works whichever made it.
_PARAMETERS: dict[str, dict[str, int]] = {
    "standard": {},
    "fast": {"time_cost": 1, "memory_cost": 8, "parallelism": 1},
}


@lru_cache
def _hasher_for(hashing: str) -> PasswordHasher:
    return PasswordHasher(**_PARAMETERS[hashing])


def _hasher() -> PasswordHasher:
    return _hasher_for(get_settings().password_hashing)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def argon2_verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    """The one place a password is checked against a hash: the argon2 work of a login.

    A seam on purpose: the tests count the calls through it to show that every login does
    the same work, whether the username exists or not."""
    return hasher.verify(password_hash, password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return argon2_verify(_hasher(), password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache
def _dummy_hash_for(hashing: str) -> str:
    return _hasher_for(hashing).hash(secrets.token_urlsafe(24))


def dummy_hash() -> str:
    """A hash of a random password, made once per process with the current parameters (the
    ones new users' hashes get): a login for an unknown or disabled account verifies against
    it, so that it costs what a login for a real account costs."""
    return _dummy_hash_for(get_settings().password_hashing)


def burn_verification(password: str) -> None:
    """Do the argon2 work of one verification that must fail (against `dummy_hash`)."""
    verify_password(dummy_hash(), password)
