"""Users (create, check a password, disable) and API tokens (create, list, revoke, use)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.passwords import burn_verification, hash_password, verify_password
from xueji.auth.principal import Principal
from xueji.auth.roles import ROLES
from xueji.auth.tokens import new_api_token
from xueji.config import Settings, get_settings
from xueji.db.session import Database, session_scope
from xueji.errors import Conflict, InvalidInput, NotFound, PasswordChangeRequired
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
    must_change_password: bool = False,
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
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    return user


MIN_PASSWORD_LENGTH = 8


def password_problems(username: str, password: str) -> list[str]:
    """What is wrong with a new password (in the users' words); empty when it may be used."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"密码至少 {MIN_PASSWORD_LENGTH} 位")
    if password.isdigit():
        problems.append("密码不能全是数字")
    if password.casefold() == username.casefold():
        problems.append("密码不能与用户名相同")
    return problems


def check_password_rules(username: str, password: str, field: str = "password") -> None:
    """Refuse a new password that breaks the rules (422, each problem named)."""
    problems = password_problems(username, password)
    if problems:
        raise InvalidInput([{"field": field, "message": m} for m in problems])


def one_time_password() -> str:
    """A random password to hand over once (reset, new student account): letters and digits
    a person can read out, never all digits; the user must replace it at first login."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(10))
        if not password.isdigit():
            return password


def require_current_password(principal: Principal) -> None:
    """Every API call but POST /auth/password is refused while the user must choose a new
    password (after a reset, or with a new account's one-time password)."""
    if principal.must_change_password:
        raise PasswordChangeRequired(
            "choose a new password first: POST /api/v1/auth/password (请先修改密码)"
        )


def change_password(session: Session, username: str, current: str, new: str) -> User:
    """The user's own change: the current password proves it is them; the new one follows
    the rules and differs from it. Clears `must_change_password`."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not verify_password(user.password_hash, current):
        raise InvalidInput([{"field": "current_password", "message": "当前密码不正确"}])
    check_password_rules(username, new, "new_password")
    if new == current:
        raise InvalidInput([{"field": "new_password", "message": "新密码不能与当前密码相同"}])
    user.password_hash = hash_password(new)
    user.must_change_password = False
    session.flush()
    return user


def reset_password(session: Session, username: str) -> tuple[User, str]:
    """An administrator's reset: a one-time password (returned once), every session ended,
    and a new password to choose at the next login."""
    user = _user(session, username)
    password = one_time_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.session_epoch += 1
    session.flush()
    return user, password


def update_user(
    session: Session,
    username: str,
    by: Principal,
    *,
    display_name: str | None = None,
    roles: list[str] | None = None,
    station: str | None = None,
    set_station: bool = False,
) -> User:
    """Change a user's name, roles or station; station users keep a station."""
    user = _user(session, username)
    if display_name is not None:
        user.display_name = display_name
    if roles is not None:
        if user.id == by.user_id and "admin" not in roles:
            raise InvalidInput([{"field": "roles", "message": "you cannot remove your own admin"}])
        user.roles = _roles(session, roles)
    if set_station:
        user.station_id = _station_id(session, station)
    keys = {role.key for role in user.roles}
    if {"station", "advisor"} & keys and user.station_id is None:
        raise InvalidInput([{"field": "station", "message": "station users need a station"}])
    session.flush()
    session.refresh(user)
    return user


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
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


def set_active(session: Session, username: str, active: bool, by: Principal) -> User:
    """Enable or disable a user. Disabling ends their sessions at once: access tokens issued
    before it stay refused even after the user is enabled again."""
    user = _user(session, username)
    if not active and user.id == by.user_id:
        raise InvalidInput([{"field": "is_active", "message": "you cannot disable yourself"}])
    if user.is_active and not active:
        user.session_epoch += 1
    user.is_active = active
    session.flush()
    return user


def token_lifetime(days: int | None, settings: Settings) -> timedelta:
    """The lifetime asked for, or the default one; more than the maximum is refused."""
    days = settings.api_token_default_days if days is None else days
    if days > settings.api_token_max_days:
        raise InvalidInput(
            [
                {
                    "field": "expires_in_days",
                    "message": f"at most {settings.api_token_max_days} days",
                }
            ]
        )
    return timedelta(days=days)


def create_api_token(
    session: Session,
    name: str,
    role: str,
    created_by: str,
    station: str | None = None,
    days: int | None = None,
    settings: Settings | None = None,
) -> tuple[ApiToken, str]:
    """A new API token of one role, valid for `days` (default and maximum: settings); the
    token text is returned once and never stored."""
    lifetime = token_lifetime(days, settings or get_settings())
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
        expires_at=now + lifetime,
    )
    session.add(row)
    session.flush()
    return row, token


def list_api_tokens(session: Session, include_revoked: bool = False) -> list[ApiToken]:
    """API tokens, newest first; expired ones included, revoked ones only when asked."""
    query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    return list(session.scalars(query))


def revoke_api_token(session: Session, token_id: int, by: str) -> ApiToken:
    """Revoke a token: the next request with it is refused. Revoking twice keeps the first."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no API token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        row.revoked_by = by
        session.flush()
    return row


# How precisely `last_used_at` is kept: a token is written at most once in this period.
TOKEN_USE_RESOLUTION = timedelta(minutes=5)


def record_token_use(db: Database, token_id: int) -> None:
    """Note that a token was used (after the response, in a transaction of its own), unless
    it was noted less than TOKEN_USE_RESOLUTION ago."""
    now = clock.now()
    stale = now - TOKEN_USE_RESOLUTION
    with db.reader() as session:
        last = session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == token_id))
    if last is not None and last > stale:
        return
    with session_scope(db.writer) as session:
        session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token_id,
                or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= stale),
            )
            .values(last_used_at=now)
        )
