"""Who is calling: the Principal, resolved from a bearer token, and its scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, false, or_, select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.roles import COLLEGE_WIDE, Role
from xueji.auth.tokens import hash_api_token
from xueji.models import ApiToken, Station, Student, User, user_roles


@dataclass(frozen=True)
class Principal:
    username: str
    display_name: str
    roles: frozenset[str]
    station_id: int | None
    station_code: str | None
    student_id: int | None
    user_id: int | None  # None for an API token
    api_token_id: int | None = None  # the API token's row, for one
    # Only POST /auth/password is allowed until the user chooses a new password.
    must_change_password: bool = False

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    @property
    def sees_all_stations(self) -> bool:
        return bool(self.roles & COLLEGE_WIDE)

    def has_role(self, *roles: str) -> bool:
        return self.is_admin or bool(self.roles & set(roles))


def scope_filter(principal: Principal, station_column, student_column):
    """The one rule of who sees what, as a WHERE clause on a row's station and student columns:
    college-wide roles everything (None), station staff and advisors their station, a student
    themself; anyone else nothing."""
    if principal.sees_all_stations:
        return None
    scopes = []
    if principal.roles & {Role.STATION, Role.ADVISOR} and principal.station_id is not None:
        scopes.append(station_column == principal.station_id)
    if Role.STUDENT in principal.roles and principal.student_id is not None:
        scopes.append(student_column == principal.student_id)
    return or_(*scopes) if scopes else false()


def principal_from_user(session: Session, user: User) -> Principal:
    student_id = session.scalar(select(Student.id).where(Student.user_id == user.id))
    return principal_of(user, student_id)


def principal_of(user: User, student_id: int | None) -> Principal:
    """The principal of a user row and their student record's id (None: not a student)."""
    return Principal(
        username=user.username,
        display_name=user.display_name,
        roles=frozenset(role.key for role in user.roles),
        station_id=user.station_id,
        station_code=user.station.code if user.station else None,
        student_id=student_id,
        user_id=user.id,
        must_change_password=user.must_change_password,
    )


# The user, their roles, station and student record in one statement (on every request):
# plain columns, one row per role, no ORM objects to build; the statement built once.
_USER_BY_NAME = (
    select(
        User.id,
        User.display_name,
        User.station_id,
        User.is_active,
        User.session_epoch,
        User.must_change_password,
        Station.code,
        Student.id,
        user_roles.c.role_key,
    )
    .outerjoin(Station, Station.id == User.station_id)
    .outerjoin(Student, Student.user_id == User.id)
    .outerjoin(user_roles, user_roles.c.user_id == User.id)
    .where(User.username == bindparam("username"))
)


def api_token_principal(session: Session, token: str) -> Principal | None:
    """The principal of an integration's API token, read afresh (on every request: a token
    revoked or past its expiry is refused at once), or None."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_api_token(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= clock.now():
        return None
    return Principal(
        username=f"token:{row.name}",
        display_name=row.name,
        roles=frozenset({row.role_key}),
        station_id=row.station_id,
        station_code=row.station.code if row.station else None,
        student_id=None,
        user_id=None,
        api_token_id=row.id,
    )


@dataclass(frozen=True)
class UserState:
    """What a user's row says of their tokens: the session epoch they must carry, whether
    they may sign in, and the principal they stand for."""

    epoch: int
    active: bool
    principal: Principal


def read_user(session: Session, username: str) -> UserState | None:
    """The user's state, read afresh (one statement), or None when there is no such user."""
    rows = session.execute(_USER_BY_NAME, {"username": username}).all()
    if not rows:
        return None
    user_id, display_name, station_id, active, epoch, must_change, station_code, student_id, _ = (
        rows[0]
    )
    principal = Principal(
        username=username,
        display_name=display_name,
        roles=frozenset(row.role_key for row in rows if row.role_key is not None),
        station_id=station_id,
        station_code=station_code,
        student_id=student_id,
        user_id=user_id,
        must_change_password=must_change,
    )
    return UserState(epoch, active, principal)


def accepted(state: UserState | None, claims: dict[str, Any]) -> Principal | None:
    """The principal an access token's claims stand for, given its user's state: None when the
    user is gone or disabled, or was disabled after the token was issued (enabled again or
    not: the token's `epoch` is older than the user's `session_epoch`)."""
    if state is None or not state.active or claims.get("epoch", 0) != state.epoch:
        return None
    return state.principal
