"""Password hashing with argon2id."""

from __future__ import annotations

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


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
