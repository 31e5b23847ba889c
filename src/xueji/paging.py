"""Paging of list endpoints (`page` from 1, `per_page` at most 200) and numeric ids in paths:
both validated to a range the databases can hold, so that a huge number is a 422, not a 500."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

# Pages beyond this are refused (at 200 a page, ten million rows).
MAX_PAGE = 50_000
# Row ids are INTEGER columns: 32-bit on PostgreSQL (SQLite's hold more), so a larger id is
# refused before a query compares a column with it (PostgreSQL: "integer out of range").
MAX_ID = 2**31 - 1

RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="A numeric id")]
IdFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]
VersionFilter = Annotated[int | None, Query(ge=1, le=1_000_000)]


class Page:
    def __init__(self, page: int = 1, per_page: int = 50):
        self.page = page
        self.per_page = per_page

    def fetch(self, session: Session, query: Select) -> tuple[list, int]:
        return self.rows(session, query), self.count(session, query)

    def rows(self, session: Session, query: Select) -> list:
        """The rows of this page (by offset)."""
        rows = session.scalars(query.offset((self.page - 1) * self.per_page).limit(self.per_page))
        return list(rows.unique())

    @staticmethod
    def count(session: Session, query: Select) -> int:
        """How many rows the query gives (its order aside)."""
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        return total or 0


async def _paging(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page:
    # async: no trip to the thread pool for reading two numbers
    return Page(page, per_page)


Paging = Annotated[Page, Depends(_paging)]
