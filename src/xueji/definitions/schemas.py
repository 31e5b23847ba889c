"""Definition responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from xueji.forms.schemas import FormOut


class DeployedDefinition(BaseModel):
    key: str
    version: int
    name: str
    kind: str
    new: bool


class DeploymentOut(BaseModel):
    id: int
    definitions: list[DeployedDefinition]


class ProblemOut(BaseModel):
    file: str
    line: int | None
    element_id: str | None
    message: str


class ValidationOut(BaseModel):
    valid: bool
    problems: list[ProblemOut]


class DefinitionItem(BaseModel):
    key: str
    version: int
    name: str
    kind: str
    deployed_by: str
    deployed_at: datetime
    startable: bool


class LaneOut(BaseModel):
    name: str
    role: str


class DefinitionDetail(DefinitionItem):
    file_name: str
    start_role: str | None
    start_form: FormOut
    # the titles of the fields of every form the version uses, for showing a case's data
    field_titles: dict[str, str] = Field(default_factory=dict)
    lanes: list[LaneOut]
    versions: list[int]
    instance_counts: dict[str, Any]
