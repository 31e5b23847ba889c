"""The request's session: one per request, committed in one place when the endpoint succeeds."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from xueji.db.session import abandon, commit_and_close

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
T = TypeVar("T")


async def get_session(request: Request) -> AsyncIterator[Session]:
    """An async dependency, so that making the session (no I/O: the connection is taken at
    its first statement, in the endpoint's thread) costs no trip to the thread pool; the
    commit (or rollback) and close are one trip there after the endpoint, unless the
    endpoint committed in its own (`committed`): then closing is no I/O."""
    runtime = request.app.state.runtime
    factory = runtime.db.reader if request.method in _READ_METHODS else runtime.db.writer
    session = factory()
    try:
        yield session
    except BaseException:
        await run_in_threadpool(abandon, session)
        raise
    if session.in_transaction():
        await run_in_threadpool(commit_and_close, session)
    else:
        session.close()


async def committed(session: Session, work: Callable[[], T]) -> T:
    """Run an async endpoint's work in the thread pool and commit the request's session in
    the same trip (a sync endpoint takes three: its work, the validation of its answer and
    the commit). For the endpoints of every step and inbox page: `work` builds the whole
    answer, so nothing reads the database after the commit; what raises is rolled back."""

    def run() -> T:
        answer = work()
        session.commit()
        return answer

    return await run_in_threadpool(run)


DbSession = Annotated[Session, Depends(get_session, scope="function")]
