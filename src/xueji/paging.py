"""Paging of list endpoints: `page` (from 1) and `per_page` (at most 200)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


class Page:
    def __init__(
        self,
        page: Annotated[int, Query(ge=1)] = 1,
        per_page: Annotated[int, Query(ge=1, le=200)] = 50,
    ):
        self.page = page
        self.per_page = per_page

    def fetch(self, session: Session, query: Select) -> tuple[list, int]:
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        rows = session.scalars(query.offset((self.page - 1) * self.per_page).limit(self.per_page))
        return list(rows.unique()), total or 0


Paging = Annotated[Page, Depends()]
