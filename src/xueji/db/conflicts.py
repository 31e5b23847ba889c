"""Database errors that mean "two transactions met": safe to answer 409 and to retry."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError

# PostgreSQL's SQLSTATEs for a transaction aborted because of another one: a deadlock was
# broken by aborting this side, a serializable snapshot conflicted, a NOWAIT lock was taken.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001", "55P03"})

CONCURRENT_CHANGE = (
    "another change to the same cases ran at the same moment and this one was rolled back; "
    "nothing of it was saved, reload and retry"
)


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` is a conflict with a concurrent transaction (nothing of ours is wrong)."""
    if isinstance(exc, StaleDataError):
        return True
    if isinstance(exc, DBAPIError):
        return getattr(exc.orig, "sqlstate", None) in TRANSIENT_SQLSTATES
    return False
