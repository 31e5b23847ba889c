"""Users, roles, API tokens and failed logins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from xueji.db.base import Base

user_roles = Table(
    "user_roles",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role_key", ForeignKey("roles.key", ondelete="CASCADE"), primary_key=True),
)


class Role(Base):
    __tablename__ = "roles"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(String(200), default="")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    # Stamped into each access token issued; bumped when the user is disabled, which ends
    # every session they had (tokens carrying an older one are refused, enabled again or not).
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    # Set by an administrator's password reset and on accounts made with a one-time password
    # (check-in): every API call but POST /auth/password is refused until a new one is chosen.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default="0")

    roles: Mapped[list[Role]] = relationship(secondary=user_roles, lazy="selectin")
    station = relationship("Station", lazy="joined")


class ApiToken(Base):
    """A long-lived token of one role for an integration; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    role_key: Mapped[str] = mapped_column(ForeignKey("roles.key"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]
    # Every token expires (settings api_token_default_days / api_token_max_days).
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(80))
    # When a request last used it, to the nearest few minutes (not written on every request).
    last_used_at: Mapped[datetime | None]

    station = relationship("Station", lazy="joined")


class LoginAttempt(Base):
    """A login that failed (or is being checked) for throttling, shared by every process.

    Rows older than the throttling window are pruned as new ones come. `username` is cleared
    when that user logs in, so the row no longer counts for the username but still does for
    the address it came from."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "attempted_at"),
        Index("ix_login_attempts_address_at", "address", "attempted_at"),
        Index("ix_login_attempts_attempted_at", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime]
