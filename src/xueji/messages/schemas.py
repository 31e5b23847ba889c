"""Message bodies and responses."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class MessageBody(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    # business_key, student (id), station (code), or any process variable (e.g. batch).
    correlation: dict[str, Any] = Field(default_factory=dict)
    payload: dict[str, Any] = Field(default_factory=dict)


class MessageResult(BaseModel):
    name: str
    # Instances that were waiting and caught the message.
    delivered: list[str]
    # Instances the message started (when nothing was waiting for it).
    started: list[str]
