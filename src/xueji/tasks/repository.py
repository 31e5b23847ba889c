"""The inbox query: READY tasks of running instances the caller may work on."""

from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal,
    not_,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session, contains_eager, defer, joinedload, lazyload, load_only

from xueji import clock
from xueji.auth.principal import Principal
from xueji.instances.repository import SCOPE_STATION, SCOPE_STUDENT, tasks_readable_by
from xueji.instances.repository import readable_by as instances_readable_by
from xueji.models import ProcessDefinition, ProcessInstance, Station, Student, UserTask
from xueji.models.states import InstanceState, UserTaskState


@dataclass(frozen=True)
class InboxFilters:
    """What GET /tasks narrows and orders the inbox by (xueji.tasks.filters checks them)."""

    q: str | None = None
    process_key: str | None = None
    instance_id: str | None = None
    business_key: str | None = None
    step: str | None = None
    station: str | None = None
    kind: str | None = None
    role: str | None = None
    student: int | None = None
    due_before: datetime | None = None
    overdue: bool = False
    mine: bool = False
    unassigned: bool = False
    sort: str = "created"


# What a list of tasks shows of their instances (from the query's own join) and definitions:
# not the instance's state and data nor the diagram's XML, which a page would otherwise read
# for every row (and an offset page for every row it skips).
LIST_COLUMNS = (
    contains_eager(UserTask.instance).options(
        load_only(ProcessInstance.business_key, ProcessInstance.definition_id),
        joinedload(ProcessInstance.definition).load_only(
            ProcessDefinition.key, ProcessDefinition.version, ProcessDefinition.name
        ),
        lazyload(ProcessInstance.station),  # a task names its own station
    ),
    joinedload(UserTask.station).load_only(Station.code, Station.name),
    # the 学号 in the page's own query (not a second one by the relationship's selectin)
    joinedload(UserTask.student).load_only(Student.name, Student.student_number),
)


# The rows the inbox shows, written into the SQL as the partial indexes of open tasks say it
# (models/tasks.py INBOX_ROWS; the state not bound): SQLite uses a partial index only for a
# query that says the same in its text. An instance that is not running (suspended) has its
# open tasks marked `suspended`, so no join to the instances is needed to leave them out.
OPEN = and_(
    UserTask.state == literal(UserTaskState.READY, literal_execute=True),
    not_(UserTask.suspended),
)


def inbox_rows(principal: Principal) -> Select:
    """READY tasks of running instances the caller may work on, from user_tasks alone (for
    counts: the instance's columns are not read)."""
    return tasks_readable_by(principal, select(UserTask).where(OPEN))


def inbox_query(principal: Principal) -> Select:
    """READY tasks of running instances the caller may work on, with what a list shows of
    their instances."""
    return (
        inbox_rows(principal)
        .join(ProcessInstance, ProcessInstance.id == UserTask.instance_id)
        .options(defer(UserTask.data), *LIST_COLUMNS)
    )


# Sort keys of the inbox (api.md's `due_at` and `created_at` too) and the columns they order by.
SORT_KEYS = {
    "due": UserTask.due_at,
    "due_at": UserTask.due_at,
    "created": UserTask.created_at,
    "created_at": UserTask.created_at,
    "student": UserTask.subject_name,
}


def filtered_inbox(principal: Principal, filters: InboxFilters) -> Select:
    """The inbox narrowed by the list's filters, in the filters' order (ties by id; rows
    without the sort value last)."""
    query = _narrowed(inbox_query(principal), principal, filters)
    column, descending = SORT_KEYS[filters.sort.removeprefix("-")], filters.sort.startswith("-")
    if descending:
        return query.order_by(column.desc().nulls_last(), UserTask.id.desc())
    return query.order_by(column.asc().nulls_last(), UserTask.id)


def counted_inbox(principal: Principal, filters: InboxFilters) -> Select:
    """The rows of `filtered_inbox` unordered, for counting them: from user_tasks alone
    unless a filter is on the instance's columns (`q` searches business keys too)."""
    if filters.q or filters.business_key or filters.process_key:
        query = inbox_rows(principal).join(
            ProcessInstance, ProcessInstance.id == UserTask.instance_id
        )
    else:
        query = inbox_rows(principal)
    return _narrowed(query, principal, filters)


def _narrowed(query: Select, principal: Principal, f: InboxFilters) -> Select:
    """The filters that are given, each value a parameter named as in `_parameters` (so that
    `page_statements` can keep the statement for the next caller with other values)."""
    if f.process_key:
        query = query.where(
            ProcessInstance.definition_key == bindparam("process_key", f.process_key)
        )
    if f.q:
        query = query.where(_search(f.q))
    conditions = [
        (f.instance_id, lambda: UserTask.instance_id == bindparam("instance_id", f.instance_id)),
        (
            f.business_key,
            lambda: ProcessInstance.business_key == bindparam("business_key", f.business_key),
        ),
        (
            f.step,
            lambda: or_(
                UserTask.element_id == bindparam("step", f.step),
                UserTask.name == bindparam("step", f.step),
            ),
        ),
        (f.station, lambda: UserTask.station_id.in_(_station_ids(f.station))),
        (f.kind, lambda: UserTask.kind == bindparam("kind", f.kind)),
        (f.role, lambda: UserTask.role == bindparam("role", f.role)),
        (f.student, lambda: UserTask.student_id == bindparam("student", f.student)),
        (
            f.due_before,
            lambda: UserTask.due_at < bindparam("due_before", f.due_before, UserTask.due_at.type),
        ),
        (f.mine, lambda: UserTask.assignee == bindparam("username", principal.username)),
        (f.unassigned, lambda: UserTask.assignee.is_(None)),
        (f.overdue, lambda: UserTask.overdue_clause(bindparam("now", clock.now(), _NOW_TYPE))),
    ]
    for given, condition in conditions:
        if given:
            query = query.where(condition())
    return query


_NOW_TYPE = UserTask.due_at.type


def _parameters(principal: Principal, f: InboxFilters) -> dict[str, Any]:
    """The value of every parameter `_narrowed` and `tasks_readable_by` may name."""
    q = f.q or ""
    return {
        SCOPE_STATION: principal.station_id,
        SCOPE_STUDENT: principal.student_id,
        "username": principal.username,
        "now": clock.now(),
        "process_key": f.process_key,
        "instance_id": f.instance_id,
        "business_key": f.business_key,
        "step": f.step,
        "station_code": f.station,
        "kind": f.kind,
        "role": f.role,
        "student": f.student,
        "due_before": f.due_before,
        "q": q,
        "q_upper": q.upper(),
        "q_pattern": _pattern(q),
    }


def _station_ids(code: str | None) -> Select:
    return select(Station.id).where(Station.code == bindparam("station_code", code))


def _pattern(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _search(q: str) -> ColumnElement[bool]:
    """Student name, 学号, ID number, business key, or words of the summary."""
    exact, upper, pattern = (
        bindparam("q", q),
        bindparam("q_upper", q.upper()),
        bindparam("q_pattern", _pattern(q)),
    )
    students = select(Student.id).where(
        or_(Student.student_number == exact, Student.id_number == upper, Student.name == exact)
    )
    return or_(
        UserTask.student_id.in_(students),
        UserTask.subject_name.like(pattern, escape="\\"),
        UserTask.summary.like(pattern, escape="\\"),
        ProcessInstance.business_key.like(pattern, escape="\\"),
    )


def sort_value(task: UserTask, sort: str) -> Any:
    """The value of the row the keyset cursor continues after."""
    return getattr(task, SORT_KEYS[sort.removeprefix("-")].key)


def keyset_segments(query: Select, sort: str, cursor: tuple[Any, str] | None) -> list[Select]:
    """The inbox after the cursor's row (sort value, id), or from its start without one, as
    the ordered selects of its segments: rows with a sort value, then rows without one (in
    `filtered_inbox`'s order, nulls last). Each is one range of a partial index of open tasks
    in its own order, entered at the cursor by a row-value comparison (a seek, not a walk
    from the index's start); a cursor without a value is in the second segment already.
    The cursor's row and the page's size are parameters (`after_value`, `after_id`, `limit`)."""
    column, descending = SORT_KEYS[sort.removeprefix("-")], sort.startswith("-")
    query = query.order_by(None).limit(bindparam("limit", type_=Integer))
    order = [column.desc(), UserTask.id.desc()] if descending else [column, UserTask.id]
    if not column.nullable:
        dated, undated = query.order_by(*order), []
    else:
        dated = query.where(column.is_not(None)).order_by(*order)
        undated = [query.where(column.is_(None)).order_by(*order)]
    if cursor is None:
        return [dated, *undated]
    value, task_id = cursor
    after_id = bindparam("after_id", task_id)
    if value is None:
        beyond = UserTask.id < after_id if descending else UserTask.id > after_id
        return [segment.where(beyond) for segment in undated]
    row, at = (
        tuple_(column, UserTask.id),
        tuple_(bindparam("after_value", value, column.type), after_id),
    )
    return [dated.where(row < at if descending else row > at), *undated]


# page_statements' segments by the shape of the caller and of the page (which filters are
# given, the sort, the kind of cursor); values are the parameters of each execution.
_PAGES: dict[tuple, list[Select]] = {}
_PAGES_MAX = 1024
_PAGE_PARAMETERS = {"limit", "after_value", "after_id"}


def page_statements(
    principal: Principal, filters: InboxFilters, cursor: tuple[Any, str] | None
) -> tuple[list[Select], dict[str, Any]]:
    """`keyset_segments` of the caller's filtered inbox, and the parameters of this caller,
    filters and cursor. The statements are built once per shape (building one, and keying it
    for SQLAlchemy's compiled cache, cost about as much as running it)."""
    after = "none" if cursor is None else "undated" if cursor[0] is None else "dated"
    shape = (
        principal.roles,
        principal.station_id is None,
        principal.student_id is None,
        tuple(bool(value) for value in astuple(filters)[:-1]),
        filters.sort,
        after,
    )
    segments = _PAGES.get(shape)
    if segments is None:
        segments = keyset_segments(filtered_inbox(principal, filters), filters.sort, cursor)
        for segment in segments:
            _check_parameters(segment)
        if len(_PAGES) >= _PAGES_MAX:
            _PAGES.clear()
        _PAGES[shape] = segments
    parameters = _parameters(principal, filters)
    if cursor is not None:
        parameters |= {"after_value": cursor[0], "after_id": cursor[1]}
    return segments, parameters


def _check_parameters(statement: Select) -> None:
    """Every value in a kept statement is one of the named parameters each execution gives:
    none of the first caller's values may reach the next."""
    binds = statement.compile().binds.values()
    named = set(_parameters(_NOBODY, InboxFilters())) | _PAGE_PARAMETERS
    stray = sorted(b.key for b in binds if not b.literal_execute and b.key not in named)
    if stray:
        raise RuntimeError(f"an inbox statement holds values of its own: {stray}")


_NOBODY = Principal("", "", frozenset(), None, None, None, None)


def keyset_page(
    session: Session, segments: list[Select], limit: int, parameters: dict[str, Any]
) -> list[UserTask]:
    """The first `limit` rows of the segments in turn (the next is read only if needed)."""
    rows: list[UserTask] = []
    for segment in segments:
        if len(rows) == limit:
            break
        rows += session.scalars(segment, {**parameters, "limit": limit - len(rows)}).unique()
    return rows


def inbox_counts(session: Session, principal: Principal, query: Select) -> dict[str, int]:
    """The tabs' counts (all, mine, unassigned, overdue) of a `counted_inbox`, in one query."""
    row = session.execute(
        query.with_only_columns(
            func.count(),
            func.count(case((UserTask.assignee == principal.username, 1))),
            func.count(case((UserTask.assignee.is_(None), 1))),
            func.count(case((UserTask.overdue_clause(clock.now()), 1))),
            maintain_column_froms=True,
        )
    ).one()
    return dict(zip(("all", "mine", "unassigned", "overdue"), row, strict=True))


def count_up_to(session: Session, query: Select, cap: int) -> tuple[int, bool]:
    """How many rows a `counted_inbox` holds, counted up to `cap` (the rows beyond are not
    read), and whether there are more than that. The rows are taken in the order of a partial
    index of open tasks, so that they are read from it: unordered, PostgreSQL may choose a
    sequential scan for the first `cap` rows, which reads all the finished tasks in its way
    (and, synchronised with other scans of a large table, starts anywhere in it)."""
    ids = (
        query.with_only_columns(UserTask.id, maintain_column_froms=True)
        .order_by(UserTask.created_at, UserTask.id)
        .limit(cap + 1)
    )
    total = session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    return min(total, cap), total > cap


def inbox_processes(session: Session, principal: Principal) -> list[str]:
    """The keys of the processes the caller's whole inbox holds tasks of."""
    keys = (
        inbox_rows(principal)
        .join(ProcessInstance, ProcessInstance.id == UserTask.instance_id)
        .with_only_columns(ProcessInstance.definition_key)
        .distinct()
        .order_by(ProcessInstance.definition_key)
    )
    return list(session.scalars(keys))


def waiting_steps(session: Session, instance_id: str) -> list[UserTask]:
    """Every open task of an instance, whoever may work on it, oldest first."""
    return list(
        session.scalars(
            select(UserTask)
            .where(UserTask.instance_id == instance_id, UserTask.state == UserTaskState.READY)
            .order_by(UserTask.created_at, UserTask.id)
        )
    )


def overdue_tasks(principal: Principal, limit: int = 1000) -> Select:
    """Open tasks past their due date in every running instance the caller may see."""
    instances = instances_readable_by(principal, select(ProcessInstance.id)).where(
        ProcessInstance.state == InstanceState.RUNNING
    )
    return (
        select(UserTask)
        .where(
            UserTask.state == UserTaskState.READY,
            UserTask.instance_id.in_(instances),
            UserTask.overdue_clause(clock.now()),
        )
        .order_by(UserTask.due_at, UserTask.id)
        .limit(limit)
    )
