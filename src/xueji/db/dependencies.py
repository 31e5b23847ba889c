"""The request's session: one per request, committed in one place when the endpoint succeeds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _commit(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _abandon(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """An async dependency, so that making the session (no I/O: the connection is taken at
    its first statement, in the endpoint's thread) costs no trip to the thread pool; the
    commit (or rollback) and close are one trip there after the endpoint."""
    runtime = request.app.state.runtime
    factory = runtime.db.reader if request.method in _READ_METHODS else runtime.db.writer
    session = factory()
    try:
        yield session
    except BaseException:
        await run_in_threadpool(_abandon, session)
        raise
    await run_in_threadpool(_commit, session)


DbSession = Annotated[Session, Depends(get_session, scope="function")]
