"""Bodies and answers of migrations, repairs and incident actions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from xueji.models.states import InstanceState
from xueji.paging import MAX_ID

MAX_LISTED_INSTANCES = 1000


class ElementPair(BaseModel):
    source: str = Field(min_length=1, max_length=120)
    target: str = Field(min_length=1, max_length=120)


class MigrationFilter(BaseModel):
    """Which instances of the process move (all unfinished ones not on the target yet)."""

    version: int | None = Field(None, ge=1, le=MAX_ID, description="only instances of this version")
    business_key: str | None = Field(None, max_length=120, description="a prefix")
    state: Literal[InstanceState.RUNNING, InstanceState.SUSPENDED, InstanceState.ERROR] | None = (
        None
    )
    instance_ids: list[Annotated[str, Field(max_length=36)]] | None = Field(
        None, max_length=MAX_LISTED_INSTANCES
    )


class MigrationPlan(BaseModel):
    """Move instances of process `key` to its version `target_version`: every active element
    to the element of the same id, or to the one a pair names."""

    key: str = Field(min_length=1, max_length=120)
    target_version: int = Field(ge=1, le=MAX_ID)
    pairs: list[ElementPair] = Field(default_factory=list, max_length=500)
    filter: MigrationFilter = Field(default_factory=MigrationFilter)


class MigrationRun(MigrationPlan):
    # Instances are read this many at a time; each moves in its own transaction.
    batch_size: int = Field(50, ge=1, le=500)


class MoveItem(BaseModel):
    task_id: str
    source: str
    source_name: str | None
    target: str | None
    target_name: str | None
    kind: str
    state: str


class BlockerItem(BaseModel):
    element_id: str
    code: str
    message: str


class InstanceMigration(BaseModel):
    id: str
    business_key: str | None
    version: int
    state: str
    moves: list[MoveItem] = Field(default_factory=list)
    blockers: list[BlockerItem] = Field(default_factory=list)
    # After execution: migrated | blocked | failed (with `error`).
    outcome: str | None = None
    error: dict[str, Any] | None = None


class MigrationReport(BaseModel):
    key: str
    source_versions: list[int]
    target_version: int
    total: int
    movable: int
    blocked: int
    migrated: int = 0
    failed: int = 0
    # The first MAX_LISTED_INSTANCES of them.
    instances: list[InstanceMigration]


class MoveBody(BaseModel):
    """Start this element again (one the case has passed): its later steps are cancelled."""

    element_id: str = Field(min_length=1, max_length=120)


class VariableBody(BaseModel):
    value: Any


IncidentActionName = Literal["retry", "skip", "terminate_caller", "dismiss"]


class IncidentAction(BaseModel):
    action: IncidentActionName
    # With `skip` of a terminated child: the data the skipped child hands its caller.
    outputs: dict[str, Any] = Field(default_factory=dict)
