"""Users and API tokens, administered (admins only); every change is audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response
from sqlalchemy import select

from xueji import clock
from xueji.audit.dependencies import Audited, AuditTrail
from xueji.auth import service
from xueji.auth.dependencies import AdminUser
from xueji.auth.schemas import (
    ApiTokenIn,
    ApiTokenOut,
    PasswordResetOut,
    UserIn,
    UserOut,
    UserPatch,
)
from xueji.db.dependencies import DbSession
from xueji.errors import NotFound
from xueji.models import ApiToken, User
from xueji.paging import RowId
from xueji.runtime import AppRuntime

router = APIRouter(tags=["accounts"])


def _user_out(user: User) -> UserOut:
    return UserOut(
        username=user.username,
        display_name=user.display_name,
        roles=sorted(r.key for r in user.roles),
        station=user.station.code if user.station else None,
        is_active=user.is_active,
        must_change_password=user.must_change_password,
    )


@router.get("/users", response_model=list[UserOut])
def list_users(principal: AdminUser, session: DbSession) -> list[UserOut]:
    """All users (admins only)."""
    return [_user_out(u) for u in session.scalars(select(User).order_by(User.username))]


@router.post(
    "/users",
    status_code=201,
    response_model=UserOut,
    responses={409: {"description": "Username taken"}},
)
def create_user(
    body: UserIn,
    principal: AdminUser,
    session: DbSession,
    audit: Annotated[AuditTrail, Audited("user.create")],
) -> UserOut:
    """Create a user with roles and, for station staff, a station (admins only). The password
    has at least 8 characters, is not all digits and is not the username."""
    service.check_password_rules(body.username, body.password)
    out = _user_out(
        service.create_user(
            session, body.username, body.password, body.display_name, body.roles, body.station
        )
    )
    audit.set(f"user:{out.username}", after=out.model_dump())
    return out


@router.patch(
    "/users/{username}",
    response_model=UserOut,
    responses={
        403: {"description": "Admins only"},
        404: {"description": "No such user"},
        422: {"description": "Unknown field, or an admin disabling their own account"},
    },
)
def update_user(
    username: str,
    body: UserPatch,
    principal: AdminUser,
    session: DbSession,
    audit: Annotated[AuditTrail, Audited("user.update")],
) -> UserOut:
    """Change a user (admins only): `is_active`, `display_name`, `roles`, `station` (null for
    none).

    A disabled user cannot log in (the same 401 as a wrong password) and every access token
    they hold is refused from the next request on; enabling them again lets them log in, but
    tokens issued before they were disabled stay refused."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    before = _user_out(user).model_dump()
    user = service.update_user(
        session,
        username,
        principal,
        display_name=body.display_name,
        roles=body.roles,
        station=body.station,
        set_station="station" in body.model_fields_set,
    )
    if body.is_active is not None:
        user = service.set_active(session, username, body.is_active, principal)
    out = _user_out(user)
    audit.set(f"user:{username}", before=before, after=out.model_dump())
    return out


@router.post(
    "/users/{username}/password-reset",
    response_model=PasswordResetOut,
    responses={403: {"description": "Admins only"}, 404: {"description": "No such user"}},
)
def reset_password(
    username: str,
    principal: AdminUser,
    session: DbSession,
    audit: Annotated[AuditTrail, Audited("user.password_reset")],
) -> PasswordResetOut:
    """Reset a user's password (admins only): a one-time password, shown once here, that the
    user must replace at their next login; every session they had ends."""
    user, password = service.reset_password(session, username)
    audit.set(f"user:{username}", after={"must_change_password": True})
    return PasswordResetOut(username=user.username, password=password)


def _token_out(row: ApiToken, token: str | None = None) -> ApiTokenOut:
    return ApiTokenOut(
        id=row.id,
        name=row.name,
        role=row.role_key,
        station=row.station.code if row.station else None,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        active=row.revoked_at is None and row.expires_at > clock.now(),
        revoked_at=row.revoked_at,
        revoked_by=row.revoked_by,
        last_used_at=row.last_used_at,
        token=token,
    )


@router.get("/api-tokens", response_model=list[ApiTokenOut])
def list_api_tokens(
    principal: AdminUser, session: DbSession, include_revoked: bool = False
) -> list[ApiTokenOut]:
    """API tokens (without their secret), newest first (admins only): expired ones too, and
    with `include_revoked=true` the revoked ones."""
    return [_token_out(r) for r in service.list_api_tokens(session, include_revoked)]


@router.post(
    "/api-tokens",
    status_code=201,
    response_model=ApiTokenOut,
    responses={422: {"description": "Unknown role or station, or a lifetime over the maximum"}},
)
def create_api_token(
    body: ApiTokenIn,
    principal: AdminUser,
    session: DbSession,
    runtime: AppRuntime,
    audit: Annotated[AuditTrail, Audited("api_token.create")],
) -> ApiTokenOut:
    """Create a token of one role for an integration (admins only); the token is shown once.

    It expires after `expires_in_days` (default `api_token_default_days`, 365; at most
    `api_token_max_days`, 730)."""
    row, token = service.create_api_token(
        session,
        body.name,
        body.role,
        principal.username,
        body.station,
        body.expires_in_days,
        runtime.settings,
    )
    out = _token_out(row)
    audit.set(f"api_token:{row.id}", after=out.model_dump(exclude={"token"}))
    return _token_out(row, token)


@router.delete(
    "/api-tokens/{token_id}",
    status_code=204,
    response_class=Response,
    responses={403: {"description": "Admins only"}, 404: {"description": "No such API token"}},
)
def revoke_api_token(
    token_id: RowId,
    principal: AdminUser,
    session: DbSession,
    audit: Annotated[AuditTrail, Audited("api_token.revoke")],
) -> Response:
    """Revoke an API token (admins only): the next request with it is 401. It stays listed
    with `include_revoked=true`."""
    row = service.revoke_api_token(session, token_id, principal.username)
    audit.set(f"api_token:{token_id}", after={"name": row.name, "revoked_at": row.revoked_at})
    return Response(status_code=204)
