"""A form as the API returns it: JSON Schema and UI schema."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class FormOut(BaseModel):
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    ui_schema: dict[str, Any] | None = None

    model_config = {"populate_by_name": True}
