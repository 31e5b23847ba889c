"""Auth bodies and responses."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"


class MeOut(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    station: str | None
    student: int | None = None


class UserIn(BaseModel):
    username: str = Field(min_length=2, max_length=80, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=8, max_length=200)
    display_name: str = Field(min_length=1, max_length=120)
    roles: list[str] = Field(min_length=1)
    station: str | None = None


class UserOut(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    station: str | None
    is_active: bool


class ApiTokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    role: str
    station: str | None = None
    days: int | None = Field(None, ge=1, le=3650)


class ApiTokenOut(BaseModel):
    id: int
    name: str
    role: str
    station: str | None
    created_at: datetime
    expires_at: datetime | None
    token: str | None = None
