"""Principals of people's access tokens, shared by the requests of this process for at most
PRINCIPAL_CACHE_SECONDS, instead of a SELECT of the user on every request.

The signed token says who (`sub`) and in which session epoch; the cache holds what the user
row said of them when it was read: their epoch, whether they may sign in, and the principal
(roles, station, student record, must-change flag). A token is taken from the cache only when
its epoch is the cached one; anything else (another epoch, an expired or missing entry) reads
the row afresh. A change of users written through this process's sessions (disabling, a
password reset, roles, station, a student record's account) forgets them when it is flushed
and again when it commits, so it takes effect here with the next request; another API
process sees it within PRINCIPAL_CACHE_SECONDS. API tokens (integrations) are not cached:
their row is read on every request, so a revoked one is refused at once everywhere.

One cache per database (`Database.shared`): the sessions of that database find it in
`session.info`.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session

from xueji.auth.principal import (
    Principal,
    UserState,
    accepted,
    api_token_principal,
    read_user,
)
from xueji.auth.tokens import API_TOKEN_PREFIX, read_access_claims
from xueji.db.session import SHARED
from xueji.models import Student, User, user_roles

PRINCIPAL_CACHE_SECONDS = 2.0
_NAME = "principals"
_CHANGED = "xueji_users_changed"
# UPDATE or DELETE of these (ORM or Core statements) forgets everyone
_USERS = (User.__table__, user_roles)


class Miss:
    """The cache may not answer: read the user (`fresh`)."""


MISS = Miss()


class PrincipalCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, UserState]] = {}  # username -> (read at, state)
        # Bumped by every forget: a read that began before one is not kept (it may be older
        # than the change).
        self._generation = 0

    def get(self, username: str) -> UserState | None:
        with self._lock:
            entry = self._entries.get(username)
        if entry is None or time.monotonic() - entry[0] >= PRINCIPAL_CACHE_SECONDS:
            return None
        return entry[1]

    def generation(self) -> int:
        with self._lock:
            return self._generation

    def put(self, username: str, state: UserState, read_at: float, generation: int) -> None:
        with self._lock:
            if generation == self._generation:
                self._entries[username] = (read_at, state)

    def forget(self, usernames: set[str] | None = None) -> None:
        """Forget these users (None: everyone)."""
        with self._lock:
            self._generation += 1
            if usernames is None:
                self._entries.clear()
            for username in usernames or ():
                self._entries.pop(username, None)


def of(shared: dict[str, Any]) -> PrincipalCache:
    """The principal cache of a database (its `Database.shared`)."""
    cache = shared.get(_NAME)
    if cache is None:
        cache = shared.setdefault(_NAME, PrincipalCache())
    return cache


def cached(shared: dict[str, Any], token: str, secret: str) -> Principal | None | Miss:
    """The token's principal from the cache, None for a token refused without a read (bad
    signature or expired; a user who may not sign in), or MISS."""
    if token.startswith(API_TOKEN_PREFIX):
        return MISS
    claims = read_access_claims(token, secret)
    if claims is None:
        return None
    state = of(shared).get(claims["sub"])
    if state is None or claims.get("epoch", 0) != state.epoch:
        return MISS
    return state.principal if state.active else None


def fresh(session: Session, token: str, secret: str) -> Principal | None:
    """The token's principal read from the database, and kept for the next requests."""
    if token.startswith(API_TOKEN_PREFIX):
        return api_token_principal(session, token)
    claims = read_access_claims(token, secret)
    if claims is None:
        return None
    shared = session.info.get(SHARED)
    cache = of(shared) if shared is not None else None
    generation, read_at = (cache.generation() if cache else 0), time.monotonic()
    state = read_user(session, claims["sub"])
    if state is not None and cache is not None and _CHANGED not in session.info:
        cache.put(claims["sub"], state, read_at, generation)  # nothing uncommitted kept
    return accepted(state, claims)


def _forget(session: Session, usernames: set[str] | None) -> None:
    shared = session.info.get(SHARED)
    if shared is not None:
        of(shared).forget(usernames)


@event.listens_for(Session, "after_flush")
def _users_flushed(session: Session, _flush_context: Any) -> None:
    touched = (*session.new, *session.dirty, *session.deleted)
    changed = {obj.username for obj in touched if isinstance(obj, User)}
    everyone = any(_links_a_user(obj) for obj in touched)
    if changed or everyone:
        marks: set[str] | None = None if everyone else changed
        session.info[_CHANGED] = _merged(session.info.get(_CHANGED, set()), marks)
        _forget(session, marks)  # and again at commit: a request may read them in between


def _links_a_user(obj: object) -> bool:
    """A student record that gains, loses or changes its account (a principal's student)."""
    if not isinstance(obj, Student):
        return False
    state = inspect(obj)
    if state.pending or state.deleted or state.was_deleted:
        return obj.user_id is not None
    return state.attrs.user_id.history.has_changes()


@event.listens_for(Session, "do_orm_execute")
def _users_changed_in_bulk(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and getattr(state.statement, "table", None) in _USERS:
        state.session.info[_CHANGED] = None
        _forget(state.session, None)


def _merged(marks: set[str] | None, more: set[str] | None) -> set[str] | None:
    return None if marks is None or more is None else marks | more


@event.listens_for(Session, "after_commit")
def _users_committed(session: Session) -> None:
    if _CHANGED in session.info:
        _forget(session, session.info.pop(_CHANGED))


@event.listens_for(Session, "after_rollback")
def _users_rolled_back(session: Session) -> None:
    session.info.pop(_CHANGED, None)
