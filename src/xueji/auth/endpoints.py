"""Tokens, the caller, users and API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from xueji import clock
from xueji.auth import service, throttle
from xueji.auth.dependencies import AdminUser, CurrentUser
from xueji.auth.schemas import (
    ApiTokenIn,
    ApiTokenOut,
    MeOut,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from xueji.auth.tokens import create_access_token
from xueji.db.dependencies import DbSession
from xueji.errors import NotAuthenticated, NotFound
from xueji.models import ApiToken, User
from xueji.paging import RowId
from xueji.runtime import AppRuntime

public = APIRouter(tags=["auth"])
router = APIRouter(tags=["auth"])


@public.post(
    "/auth/token",
    response_model=TokenOut,
    responses={
        401: {"description": "Wrong username or password, or the account is disabled"},
        429: {
            "description": "TooManyAttempts: too many failed logins for this username or from "
            "this address; the Retry-After header says in how many seconds to try again",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        },
    },
)
def issue_token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    runtime: AppRuntime,
) -> TokenOut:
    """Exchange username and password for a bearer token (OAuth2 password flow).

    Throttled per username and per client address (see xueji.auth.throttle): after
    `login_failures_per_username` (5) failures for a username, or `login_failures_per_address`
    (20) from an address, within `login_window_seconds` (900), further attempts are 429 with
    Retry-After, even with the right password, until the window has passed; a success clears
    the username's count. An unknown username, a wrong password and a disabled account are
    the same 401 and take the same time."""
    attempt = throttle.begin_attempt(
        runtime.db,
        form.username,
        throttle.client_address(request),
        throttle.Limits.from_settings(runtime.settings),
        clock.now(),
    )
    # No write transaction is held while argon2 works.
    with runtime.db.reader() as session:
        user = service.check_password(session, form.username, form.password)
        username, epoch = (user.username, user.session_epoch) if user else (None, 0)
    if username is None:
        raise NotAuthenticated("wrong username or password")
    throttle.succeeded(runtime.db, attempt, username)
    return TokenOut(
        access_token=create_access_token(
            username, runtime.secret_key, runtime.settings.access_token_minutes, epoch=epoch
        )
    )


@router.get("/me", response_model=MeOut)
def me(principal: CurrentUser) -> MeOut:
    """Who the caller is: roles and station."""
    return MeOut(
        username=principal.username,
        display_name=principal.display_name,
        roles=sorted(principal.roles),
        station=principal.station_code,
        student=principal.student_id,
    )


def _user_out(user: User) -> UserOut:
    return UserOut(
        username=user.username,
        display_name=user.display_name,
        roles=sorted(r.key for r in user.roles),
        station=user.station.code if user.station else None,
        is_active=user.is_active,
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
def create_user(body: UserIn, principal: AdminUser, session: DbSession) -> UserOut:
    """Create a user with roles and, for station staff, a station (admins only)."""
    return _user_out(
        service.create_user(
            session, body.username, body.password, body.display_name, body.roles, body.station
        )
    )


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
    username: str, body: UserPatch, principal: AdminUser, session: DbSession
) -> UserOut:
    """Disable or enable a user (admins only): `{"is_active": false}`.

    A disabled user cannot log in (the same 401 as a wrong password) and every access token
    they hold is refused from the next request on; enabling them again lets them log in, but
    tokens issued before they were disabled stay refused."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    if body.is_active is not None:
        user = service.set_active(session, username, body.is_active, principal)
    return _user_out(user)


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
    body: ApiTokenIn, principal: AdminUser, session: DbSession, runtime: AppRuntime
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
    return _token_out(row, token)


@router.delete(
    "/api-tokens/{token_id}",
    status_code=204,
    response_class=Response,
    responses={403: {"description": "Admins only"}, 404: {"description": "No such API token"}},
)
def revoke_api_token(token_id: RowId, principal: AdminUser, session: DbSession) -> Response:
    """Revoke an API token (admins only): the next request with it is 401. It stays listed
    with `include_revoked=true`."""
    service.revoke_api_token(session, token_id, principal.username)
    return Response(status_code=204)
