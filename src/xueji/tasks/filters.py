"""The inbox's filters and sort as one dependency, shared by GET /tasks and GET /exports/tasks:
it checks the query string (an unknown parameter or sort key is 422 naming it, never ignored)
and returns the scoped, filtered, ordered query with the filters it was built from."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property
from typing import Annotated, Any

from fastapi import Query, Request
from sqlalchemy import Select

from xueji.auth.dependencies import CurrentUser
from xueji.auth.principal import Principal
from xueji.auth.roles import ROLES, role_for_lane
from xueji.deadlines import BEIJING
from xueji.errors import InvalidInput
from xueji.paging import MAX_ID
from xueji.tasks.repository import SORT_KEYS, InboxFilters, counted_inbox, filtered_inbox

Text = Annotated[str | None, Query(min_length=1, max_length=120)]


@dataclass(frozen=True)
class Inbox:
    """The caller's inbox with its filters: `query` ordered by `filters.sort`, `counted` the
    same rows unordered for counting them (without the instances unless a filter needs them),
    each built when an endpoint first asks for it (a page by cursor counts nothing, the
    counts list nothing)."""

    principal: Principal
    filters: InboxFilters

    @cached_property
    def query(self) -> Select:
        return filtered_inbox(self.principal, self.filters)

    @cached_property
    def counted(self) -> Select:
        return counted_inbox(self.principal, self.filters)


def _problem(field: str, message: str) -> InvalidInput:
    return InvalidInput([{"field": field, "message": message}])


def _checked(filters: InboxFilters) -> InboxFilters:
    """The filters in the query's terms (a role by its key, times with a zone). `station` is
    not checked against the caller: the inbox is scoped already, so a station user naming
    another station, like anyone naming a station that does not exist, gets no tasks (out of
    scope is never told apart from nonexistent)."""
    if filters.sort.removeprefix("-") not in SORT_KEYS:
        raise _problem(
            "sort",
            f"unknown sort key {filters.sort!r}; one of {', '.join(SORT_KEYS)} (- first "
            "for descending)",
        )
    if filters.role is not None:
        role = filters.role if filters.role in ROLES else role_for_lane(filters.role)
        if role is None:
            raise _problem("role", f"unknown role {filters.role!r}")
        filters = replace(filters, role=str(role))
    if filters.due_before is not None and filters.due_before.tzinfo is None:
        # A date or time without a zone is the offices' (Beijing) time.
        filters = replace(filters, due_before=filters.due_before.replace(tzinfo=BEIJING))
    return filters


def inbox_dependency(*extra: str) -> Callable[..., Inbox]:
    """The dependency of an endpoint that lists the inbox; `extra` names the endpoint's own
    other query parameters (paging, format), which are then not unknown."""

    async def inbox(
        request: Request,
        principal: CurrentUser,
        q: Annotated[str | None, Query(min_length=1, max_length=60)] = None,
        process_key: Text = None,
        instance_id: Text = None,
        business_key: Text = None,
        step: Annotated[
            str | None, Query(min_length=1, max_length=300, description="element id or name")
        ] = None,
        station: Annotated[
            str | None, Query(min_length=1, max_length=20, description="station code")
        ] = None,
        kind: Annotated[
            str | None, Query(min_length=1, max_length=40, description="e.g. 休学, 退学, 复学")
        ] = None,
        role: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
        student: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
        due_before: Annotated[
            datetime | None, Query(description="date or time; without a zone, Beijing time")
        ] = None,
        overdue: bool = False,
        assignee: Annotated[str | None, Query(description="only 'me'")] = None,
        unassigned: bool = False,
        sort: Annotated[
            str, Query(description="due, created or student; -due for descending")
        ] = "created",
    ) -> Inbox:
        unknown = sorted(set(request.query_params) - _NAMES - set(extra))
        if unknown:
            raise InvalidInput(
                [{"field": name, "message": "unknown query parameter"} for name in unknown]
            )
        if assignee is not None and assignee != "me":
            raise _problem("assignee", "only 'me' is supported")
        filters = _checked(
            InboxFilters(
                q=q.strip() or None if q else None,
                process_key=process_key,
                instance_id=instance_id,
                business_key=business_key,
                step=step,
                station=station,
                kind=kind,
                role=role,
                student=student,
                due_before=due_before,
                overdue=overdue,
                mine=assignee == "me",
                unassigned=unassigned,
                sort=sort,
            ),
        )
        return Inbox(principal, filters)

    return inbox


_NAMES = {
    "q",
    "process_key",
    "instance_id",
    "business_key",
    "step",
    "station",
    "kind",
    "role",
    "student",
    "due_before",
    "overdue",
    "assignee",
    "unassigned",
    "sort",
}


def encode_cursor(values: list[Any]) -> str:
    """The opaque cursor of the page after a row (its sort value and id)."""
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decoded_cursor(cursor: str, sort: str) -> tuple[Any, str]:
    """The (sort value, id) of the row an `encode_cursor` cursor of the list in order `sort`
    continues after."""
    try:
        value, task_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(task_id, str) or not isinstance(value, str | None):
            raise ValueError
        if value is not None and SORT_KEYS[sort.removeprefix("-")].key != "subject_name":
            return datetime.fromisoformat(value), task_id
        return value, task_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise _problem("cursor", "not a cursor this list gave") from None
