"""Task bodies and responses."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from xueji.forms.schemas import FormOut
from xueji.instances.schemas import TaskItem


class DocumentLink(BaseModel):
    """A document the step works from (学籍异动审批表, 验印名单), generated when followed."""

    title: str
    url: str


class TaskDetail(TaskItem):
    form: FormOut
    data: dict[str, Any]
    documentation: str | None
    documents: list[DocumentLink] = Field(default_factory=list)


class TaskPage(BaseModel):
    items: list[TaskItem]
    # Left out (null) on a page asked for by `cursor`; on the first page counted up to a cap.
    total: int | None
    # The first page's `total` is the cap, and there are more (GET /tasks/counts: how many).
    total_capped: bool = False
    page: int
    per_page: int
    # Give it as `cursor` for the next page; null on the last page.
    next_cursor: str | None = None


class TaskCounts(BaseModel):
    all: int
    mine: int
    unassigned: int
    overdue: int
    # The processes the caller's inbox (unfiltered) holds tasks of, for the process filter.
    process_keys: list[str]


class CompleteBody(BaseModel):
    data: dict[str, Any] = Field(default_factory=dict)


class BatchItem(BaseModel):
    id: str
    data: dict[str, Any] = Field(default_factory=dict)


class CompleteBatchBody(BaseModel):
    tasks: list[BatchItem] = Field(min_length=1, max_length=500)


class CompleteBatchResult(BaseModel):
    completed: int
    # The instances the tasks belonged to, in the order first completed.
    instances: list[str]
    # Tasks of those instances that are ready for the caller afterwards.
    next_tasks: list[TaskItem]


class AssignBody(BaseModel):
    username: str
    # The task's version as the caller read it: 409 if it changed since. Needed to take a
    # task from someone who holds it (registrars, admins).
    version: int | None = Field(None, ge=1)


class VersionBody(BaseModel):
    # The task's version as the caller read it: 409 if it changed since.
    version: int | None = Field(None, ge=1)
