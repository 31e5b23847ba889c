"""Creating users and API tokens."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.passwords import burn_verification, hash_password, verify_password
from xueji.auth.roles import ROLES
from xueji.auth.tokens import new_api_token
from xueji.errors import Conflict, InvalidInput
from xueji.models import ApiToken, Role, Station, User


def _station_id(session: Session, code: str | None) -> int | None:
    if code is None:
        return None
    station_id = session.scalar(select(Station.id).where(Station.code == code))
    if station_id is None:
        raise InvalidInput([{"field": "station", "message": f"no station {code!r}"}])
    return station_id


def _roles(session: Session, keys: list[str]) -> list[Role]:
    unknown = [k for k in keys if k not in ROLES]
    if unknown:
        raise InvalidInput([{"field": "roles", "message": f"unknown roles: {', '.join(unknown)}"}])
    return list(session.scalars(select(Role).where(Role.key.in_(keys))))


def create_user(
    session: Session,
    username: str,
    password: str,
    display_name: str,
    roles: list[str],
    station: str | None = None,
) -> User:
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} exists")
    if {"station", "advisor"} & set(roles) and station is None:
        raise InvalidInput([{"field": "station", "message": "station users need a station"}])
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        station_id=_station_id(session, station),
        roles=_roles(session, roles),
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    return user


def check_password(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, or None.

    Every call does the same argon2 work, so that the time taken does not tell which
    usernames exist: an unknown username is verified against a dummy hash made with the
    current parameters, and a disabled user's own hash is verified before refusing them
    exactly as a wrong password is refused."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        burn_verification(password)
        return None
    if not verify_password(user.password_hash, password) or not user.is_active:
        return None
    return user


def create_api_token(
    session: Session,
    name: str,
    role: str,
    created_by: str,
    station: str | None = None,
    days: int | None = None,
) -> tuple[ApiToken, str]:
    """A new API token of one role; the token text is returned once and never stored."""
    _roles(session, [role])
    token, token_hash = new_api_token()
    now = clock.now()
    row = ApiToken(
        name=name,
        role_key=role,
        station_id=_station_id(session, station),
        token_hash=token_hash,
        created_by=created_by,
        created_at=now,
        expires_at=now + timedelta(days=days) if days else None,
    )
    session.add(row)
    session.flush()
    return row, token
