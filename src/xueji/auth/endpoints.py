"""Logging in, the caller, changing one's password (users and API tokens: xueji.accounts)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from xueji import clock
from xueji.auth import service, throttle
from xueji.auth.dependencies import CurrentUser, PasswordChanger
from xueji.auth.schemas import MeOut, PasswordChangeIn, TokenOut
from xueji.auth.tokens import create_access_token
from xueji.db.dependencies import DbSession
from xueji.errors import Forbidden, NotAuthenticated
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
        must_change = bool(user and user.must_change_password)
    if username is None:
        raise NotAuthenticated("wrong username or password")
    throttle.succeeded(runtime.db, attempt, username)
    return TokenOut(
        access_token=create_access_token(
            username, runtime.secret_key, runtime.settings.access_token_minutes, epoch=epoch
        ),
        must_change_password=must_change,
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


@public.post(
    "/auth/password",
    status_code=204,
    response_class=Response,
    responses={
        401: {"description": "Not authenticated"},
        403: {"description": "An API token has no password"},
        422: {"description": "Wrong current password, or the new one breaks the rules"},
    },
)
def change_password(
    body: PasswordChangeIn, principal: PasswordChanger, session: DbSession
) -> Response:
    """Change your own password (the only call allowed while a reset or one-time password
    must be replaced): at least 8 characters, not all digits, not the username."""
    if principal.user_id is None:
        raise Forbidden("an API token has no password")
    service.change_password(session, principal.username, body.current_password, body.new_password)
    return Response(status_code=204)
