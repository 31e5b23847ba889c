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
    code: str = Field(description="What kind of problem, e.g. FormMissing, LaneUnknownRole")
    message: str = Field(description="The problem in Chinese, naming the element by its name")


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
    # a chosen value's name as the forms show it (ui:enumNames, oneOf titles), per field
    field_choices: dict[str, dict[str, str]] = Field(default_factory=dict)
    lanes: list[LaneOut]
    versions: list[int]
    instance_counts: dict[str, Any]


class ChangeOut(BaseModel):
    change: str = Field(description="added, removed, renamed or changed")
    kind: str = Field(description="process, lane, task, event, gateway or flow")
    element_id: str
    element_type: str = Field(description="The BPMN element, e.g. userTask")
    name: str = Field(description="The element's name (its id when it has none)")
    old_name: str | None = Field(description="Before a rename")
    field: str | None = Field(description="What changed: lane, form, due_date, timer, …")
    before: str | None
    after: str | None
    text: str = Field(description="The change in words, e.g. 重命名任务「审核」→「初审」")


class DiffOut(BaseModel):
    key: str
    from_version: int
    to_version: int
    changes: list[ChangeOut]


class DeadlineWordsOut(BaseModel):
    rule: str
    words: str | None = Field(description="The rule in words (7 天, 3 月 15 日前), if readable")
    problem: str | None = Field(description="Why the rule cannot be read, or null")
