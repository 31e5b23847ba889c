"""Message bodies and responses."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from xueji.instances.schemas import MessageResult

__all__ = ["MessageBody", "MessageResult"]


class MessageBody(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    # business_key, student (id), station (code), or any process variable (e.g. batch).
    correlation: dict[str, Any] = Field(default_factory=dict)
    payload: dict[str, Any] = Field(default_factory=dict)
