"""Auth bodies and responses."""

from __future__ import annotations

from datetime import datetime

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    # True: every call but POST /auth/password is 403 PasswordChangeRequired until then.
    must_change_password: bool = False


class PasswordChangeIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=200)


class PasswordResetOut(BaseModel):
    username: str
    # The one-time password, shown once; the user must replace it at their next login.
    password: str


class MeOut(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    station: str | None
    student: int | None = None


class UserIn(BaseModel):
    username: str = Field(min_length=2, max_length=80, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=1, max_length=200)  # the rules: auth.service
    display_name: str = Field(min_length=1, max_length=120)
    roles: list[str] = Field(min_length=1)
    station: str | None = None


class UserOut(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    station: str | None
    is_active: bool
    must_change_password: bool = False


class UserPatch(BaseModel):
    """What an admin may change of a user; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    is_active: bool | None = None
    display_name: str | None = Field(None, min_length=1, max_length=120)
    roles: list[str] | None = Field(None, min_length=1)
    station: str | None = None


class ApiTokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    role: str
    station: str | None = None
    # Days until it expires: the setting api_token_default_days (365) when not given, at
    # most api_token_max_days (730). `days` is the older name, still accepted.
    expires_in_days: int | None = Field(
        None, ge=1, le=36500, validation_alias=AliasChoices("expires_in_days", "days")
    )


class ApiTokenOut(BaseModel):
    id: int
    name: str
    role: str
    station: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime
    # False once revoked or past its expiry.
    active: bool
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    # When a request last used it, to within a few minutes; null: never used.
    last_used_at: datetime | None = None
    # Shown once, in the answer to the POST that created it.
    token: str | None = None
