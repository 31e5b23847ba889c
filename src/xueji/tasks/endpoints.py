"""The task inbox: list, detail with form, claim, unclaim, assign, complete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from xueji.audit.dependencies import Audited
from xueji.auth.dependencies import CurrentUser
from xueji.db.dependencies import DbSession, committed
from xueji.instances.repository import get_readable_task as get_readable
from xueji.instances.schemas import CompleteResult, instance_detail, next_step, task_item
from xueji.instances.steps import children_of
from xueji.paging import Page, Paging
from xueji.runtime import AppRuntime
from xueji.tasks import service
from xueji.tasks.filters import Inbox, decoded_cursor, encode_cursor, inbox_dependency
from xueji.tasks.repository import (
    count_up_to,
    inbox_counts,
    inbox_processes,
    keyset_page,
    page_statements,
    sort_value,
)
from xueji.tasks.schemas import (
    AssignBody,
    CompleteBatchBody,
    CompleteBatchResult,
    CompleteBody,
    TaskCounts,
    TaskDetail,
    TaskItem,
    TaskPage,
    VersionBody,
)

router = APIRouter(prefix="/tasks", tags=["tasks"])

NOT_FOUND = {404: {"description": "No such task, or not yours"}}
CHANGED = {409: {"description": "Completed already, claimed by someone else, or moved on"}}


# The first page counts its total up to this many tasks: an exact count of a large inbox costs
# what reading all of it does (tens of milliseconds at 100,000), on every first page.
TOTAL_CAP = 10_000

TasksInbox = Annotated[Inbox, Depends(inbox_dependency("page", "per_page", "cursor"))]
CountsInbox = Annotated[Inbox, Depends(inbox_dependency())]
BAD_FILTER = {422: {"description": "An unknown query parameter or sort key, or a bad value"}}


@router.get("", response_model=TaskPage, responses=BAD_FILTER)
async def list_tasks(
    session: DbSession,
    inbox: TasksInbox,
    paging: Paging,
    cursor: Annotated[
        str | None, Query(max_length=400, description="`next_cursor` of the page before")
    ] = None,
) -> TaskPage:
    """READY tasks the caller may work on, searched (`q`: student name, 学号, ID number,
    business key), filtered and sorted (`sort`: due, created, student; `-` first for
    descending; oldest first by default).

    Paged by `page` and `per_page`, or by `cursor` (the `next_cursor` of the page before;
    keyset paging, any depth at the same cost): a cursor page leaves `total` out (null), the
    first page gives it, counted up to 10,000: beyond that `total` is 10,000 and
    `total_capped` true (GET /tasks/counts counts exactly). A page by `page` > 1 counts
    exactly. The last page is the first of the reversed sort (`-due`)."""
    return await committed(session, lambda: _task_page(session, inbox, paging, cursor))


def _task_page(session: Session, inbox: Inbox, paging: Page, cursor: str | None) -> TaskPage:
    total, capped = None, False
    if cursor is not None or paging.page == 1:
        after = decoded_cursor(cursor, inbox.filters.sort) if cursor is not None else None
        segments, parameters = page_statements(inbox.principal, inbox.filters, after)
        rows = keyset_page(session, segments, paging.per_page, parameters)
        if cursor is None:
            if len(rows) < paging.per_page:  # a first page that is not full is the inbox
                total, capped = len(rows), False
            else:
                total, capped = count_up_to(session, inbox.counted, TOTAL_CAP)
    else:
        rows = paging.rows(session, inbox.query)
        total = paging.count(session, inbox.counted)
    full = len(rows) == paging.per_page
    last = rows[-1] if full else None
    return TaskPage(
        items=[task_item(t) for t in rows],
        total=total,
        total_capped=capped,
        page=paging.page,
        per_page=paging.per_page,
        next_cursor=encode_cursor([sort_value(last, inbox.filters.sort), last.id])
        if last is not None
        else None,
    )


@router.get("/counts", response_model=TaskCounts, responses=BAD_FILTER)
async def count_tasks(session: DbSession, principal: CurrentUser, inbox: CountsInbox) -> TaskCounts:
    """How many tasks the inbox's tabs hold (all, mine, unassigned, overdue) with the same
    search and filters as GET /tasks, and the processes the whole inbox has tasks of."""
    return await committed(
        session,
        lambda: TaskCounts(
            **inbox_counts(session, principal, inbox.counted),
            process_keys=inbox_processes(session, principal),
        ),
    )


@router.post(
    "/complete-batch",
    response_model=CompleteBatchResult,
    responses={
        404: {"description": "An item's task does not exist or is not yours (index, task_id)"},
        409: {"description": "An item's task was completed, claimed or moved on (index, task_id)"},
        422: {
            "description": "Forms invalid: every problem of every item as {index, task_id, "
            "field, message}; or an item's step failed. Nothing was completed"
        },
    },
)
def complete_tasks(
    body: CompleteBatchBody, session: DbSession, principal: CurrentUser, runtime: AppRuntime
) -> CompleteBatchResult:
    """Complete 1–500 tasks in one transaction, each like POST /tasks/{id}/complete: all or
    none."""
    instances, next_tasks = service.complete_batch(
        session, runtime, principal, [(item.id, item.data) for item in body.tasks]
    )
    return CompleteBatchResult(
        completed=len(body.tasks),
        instances=instances,
        next_tasks=[task_item(t) for t in next_tasks],
    )


@router.get("/{task_id}", response_model=TaskDetail, responses=NOT_FOUND)
async def get_task(
    task_id: str, session: DbSession, principal: CurrentUser, runtime: AppRuntime
) -> TaskDetail:
    """A task with its form (JSON Schema + UI schema), the data it shows and its documentation."""

    def work() -> TaskDetail:
        task = get_readable(session, principal, task_id)
        return service.task_detail(session, runtime, principal, task)

    return await committed(session, work)


STALE = {
    409: {
        "description": "Completed already, claimed by someone else, moved on, or changed since "
        "the `version` sent"
    }
}


@router.post("/{task_id}/claim", response_model=TaskItem, responses={**NOT_FOUND, **STALE})
def claim_task(
    task_id: str, session: DbSession, principal: CurrentUser, body: VersionBody | None = None
) -> TaskItem:
    """Claim a task: it is yours until you complete or unclaim it.

    Optional body `{"version": n}`: only if the task is still at that version (409 if not).
    Claiming a task someone else holds is 409; claiming your own again changes nothing."""
    version = body.version if body else None
    return task_item(service.claim(session, principal, task_id, version))


@router.post("/{task_id}/unclaim", response_model=TaskItem, responses={**NOT_FOUND, **STALE})
def unclaim_task(
    task_id: str, session: DbSession, principal: CurrentUser, body: VersionBody | None = None
) -> TaskItem:
    """Give a claimed task back to its role (its holder, or a registrar).

    Optional body `{"version": n}`: only if the task is still at that version (409 if not)."""
    version = body.version if body else None
    return task_item(service.unclaim(session, principal, task_id, version))


@router.post(
    "/{task_id}/assign",
    dependencies=[Audited("task.assign")],
    response_model=TaskItem,
    responses={
        **NOT_FOUND,
        **STALE,
        403: {"description": "May not assign"},
        422: {"description": "That user cannot work on this task"},
    },
)
def assign_task(
    task_id: str, body: AssignBody, session: DbSession, principal: CurrentUser
) -> TaskItem:
    """Assign a task to a user who holds its role and scope.

    Who: registrars and admins, or holders of the task's role. The rule, so that of two
    assignments made at the same time only one wins (assignments are serialised on the task's
    instance; the second sees what the first did):

    - with `version` (the task's `version` from GET /tasks/{id} or the inbox): 409 if the
      task has changed since (every claim, unclaim, assign and completion bumps it);
    - a task nobody holds may be assigned with or without `version`;
    - a task somebody holds needs `version`, else 409 naming the assignee and the current
      version (even when the caller holds it: it may have been assigned to them a moment
      ago). With it, the caller may hand on a task they hold; only a registrar (or admin)
      may re-assign a task someone else holds — for holders of the role that is 409.

    So two simultaneous assigns of an unassigned task: one 200, one 409 (it now has an
    assignee); two with the same `version`: one 200, one 409 (the version moved on)."""
    return task_item(service.assign(session, principal, task_id, body.username, body.version))


@router.post(
    "/{task_id}/complete",
    response_model=CompleteResult,
    responses={
        **NOT_FOUND,
        **CHANGED,
        422: {"description": "Form invalid (each field named), or the step failed"},
    },
)
async def complete_task(
    task_id: str,
    body: CompleteBody,
    session: DbSession,
    principal: CurrentUser,
    runtime: AppRuntime,
) -> CompleteResult:
    """Complete a task with its form's data; the instance runs on to its next wait.
    `next_steps` says where the case waits now (every open step, whoever's)."""

    def work() -> CompleteResult:
        done = service.complete(session, runtime, principal, task_id, body.data)
        instance, next_tasks = done.instance, done.next_tasks
        return CompleteResult(
            instance=instance_detail(
                session,
                principal,
                instance,
                active_tasks=next_tasks,  # the instance's open tasks the caller may work on
                children=children_of(session, runtime, instance),
                attachments=None if done.attachments else [],
            ),
            next_tasks=[task_item(t) for t in next_tasks],
            next_steps=[next_step(t) for t in done.waiting],
        )

    return await committed(session, work)
