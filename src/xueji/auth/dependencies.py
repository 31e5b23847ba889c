"""FastAPI dependencies: the authenticated caller, and role guards."""

from __future__ import annotations

from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request
from fastapi.security import OAuth2PasswordBearer
from starlette.concurrency import run_in_threadpool

from xueji.auth import principal_cache
from xueji.auth.principal import Principal
from xueji.auth.service import record_token_use, require_current_password
from xueji.errors import Forbidden, NotAuthenticated
from xueji.runtime import Runtime

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def resolve_principal(
    request: Request,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    background: BackgroundTasks,
) -> Principal:
    """The caller: from the principal cache when it may answer (no statement, no trip to
    the thread pool), else read in a short session of its own (not the request's: a write
    request's transaction, which holds SQLite's writer lock, starts with its own work)."""
    if not token:
        raise NotAuthenticated("missing bearer token")
    runtime = request.app.state.runtime
    principal = principal_cache.cached(runtime.db.shared, token, runtime.secret_key)
    if isinstance(principal, principal_cache.Miss):
        principal = await run_in_threadpool(_read_principal, runtime, token)
    if principal is None:
        raise NotAuthenticated("invalid or expired token")
    if principal.api_token_id is not None:
        # After the response, outside the request's transaction (never a write on a GET's).
        background.add_task(record_token_use, runtime.db, principal.api_token_id)
    return principal


def _read_principal(runtime: Runtime, token: str) -> Principal | None:
    with runtime.db.reader() as session:
        return principal_cache.fresh(session, token, runtime.secret_key)


async def current_principal(
    principal: Annotated[Principal, Depends(resolve_principal)],
) -> Principal:
    require_current_password(principal)
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]
# The caller even while they must change their password (POST /auth/password only).
PasswordChanger = Annotated[Principal, Depends(resolve_principal)]


def require_roles(*roles: str):
    """A dependency that lets through admins and holders of any of `roles`."""

    async def guard(principal: CurrentUser) -> Principal:
        if not principal.has_role(*roles):
            raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")
        return principal

    return guard


AdminUser = Annotated[Principal, Depends(require_roles("admin"))]
