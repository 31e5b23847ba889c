"""Student records: search, a student's record, statistics (学籍数据统计)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from xueji.auth.dependencies import CurrentUser
from xueji.db.dependencies import DbSession
from xueji.paging import Paging, RowId
from xueji.students import service
from xueji.students.cross_table import cross_table
from xueji.students.repository import StudentFilters, get_readable
from xueji.students.schemas import CrossTableOut, StatisticsOut, StudentDetail, StudentPage


def student_filters(
    station: Annotated[str | None, Query(description="Station code, e.g. S01")] = None,
    level: Annotated[str | None, Query(description="专科, 本科 or 专升本")] = None,
    major: Annotated[str | None, Query(description="Major name (ZYMC)")] = None,
    intake: Annotated[int | None, Query(ge=1900, le=2999, description="Intake year")] = None,
    status: Annotated[str | None, Query(description="学籍状态, e.g. 在籍")] = None,
) -> StudentFilters:
    return StudentFilters(station, level, major, intake, status)


Filters = Annotated[StudentFilters, Depends(student_filters)]

router = APIRouter(tags=["students"])


@router.get("/students", response_model=StudentPage)
def list_students(
    session: DbSession,
    principal: CurrentUser,
    paging: Paging,
    filters: Filters,
    q: Annotated[
        str | None, Query(max_length=40, description="Part of the name, 学号 or ID number")
    ] = None,
) -> StudentPage:
    """Students the caller may see (own station, or self), filtered and searched, in id order."""
    rows, total = paging.fetch(session, service.list_query(principal, filters, q))
    return StudentPage(
        items=[service.student_item(principal, s) for s in rows],
        total=total,
        page=paging.page,
        per_page=paging.per_page,
    )


@router.get("/students/statistics/cross", response_model=CrossTableOut)
def student_cross_table(
    session: DbSession, principal: CurrentUser, filters: Filters
) -> CrossTableOut:
    """学籍数据统计 as a cross table (函授站 × 层次 × 专业 × 学籍状态) within the caller's scope;
    `intake` (年级) and the other student filters narrow it."""
    return cross_table(session, principal, filters)


@router.get(
    "/students/{student_id}",
    response_model=StudentDetail,
    responses={404: {"description": "No such student, or not yours to see"}},
)
def get_student(student_id: RowId, session: DbSession, principal: CurrentUser) -> StudentDetail:
    """A student's whole record with status history, grades, theses and process instances."""
    student = get_readable(session, principal, student_id)
    return service.student_detail(session, principal, student)


@router.get(
    "/statistics/students",
    response_model=StatisticsOut,
    responses={422: {"description": "An unknown group_by key (named in the detail)"}},
)
def student_statistics(
    session: DbSession,
    principal: CurrentUser,
    filters: Filters,
    group_by: Annotated[
        list[str] | None,
        Query(description="Comma-separated: any of station, level, major, status, intake"),
    ] = None,
) -> StatisticsOut:
    """Student counts (学籍数据统计) within the caller's scope, grouped by the given keys."""
    keys = service.parse_group_by(group_by or [])
    return service.statistics(session, principal, keys, filters)
