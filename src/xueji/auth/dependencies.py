"""FastAPI dependencies: the authenticated caller, and role guards."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from xueji.auth.principal import Principal, authenticate
from xueji.db.dependencies import DbSession
from xueji.errors import Forbidden, NotAuthenticated

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def current_principal(
    request: Request, session: DbSession, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    if not token:
        raise NotAuthenticated("missing bearer token")
    principal = authenticate(session, token, request.app.state.runtime.secret_key)
    if principal is None:
        raise NotAuthenticated("invalid or expired token")
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str):
    """A dependency that lets through admins and holders of any of `roles`."""

    def guard(principal: CurrentUser) -> Principal:
        if not principal.has_role(*roles):
            raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")
        return principal

    return guard


AdminUser = Annotated[Principal, Depends(require_roles("admin"))]
