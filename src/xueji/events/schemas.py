"""Webhook bodies and responses."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from xueji.events.service import EVENT_TYPES


class WebhookIn(BaseModel):
    url: str = Field(pattern=r"^https?://", max_length=500)
    event_types: list[str] = Field(min_length=1)
    secret: str | None = Field(None, min_length=16, max_length=200)

    @field_validator("event_types")
    @classmethod
    def known_types(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(EVENT_TYPES))
        if unknown:
            raise ValueError(f"unknown event types {unknown}; known: {', '.join(EVENT_TYPES)}")
        return value


class WebhookOut(BaseModel):
    id: int
    url: str
    event_types: list[str]
    active: bool
    created_by: str
    created_at: datetime
    secret: str | None = None  # only in the answer that creates it
