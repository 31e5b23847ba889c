"""GET /choices/{kind}: a form's choice list, searched, scoped to the caller (the lookup a
widget calls when a list is too long to put into the form; see forms/choices.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from xueji.auth.dependencies import CurrentUser
from xueji.db.dependencies import DbSession
from xueji.forms import choices
from xueji.models import Station

router = APIRouter(prefix="/choices", tags=["forms"])

ChoiceKind = Literal[
    "stations", "all_stations", "majors", "students", "candidates", "courses", "terms"
]


class ChoiceOut(BaseModel):
    value: str | int
    title: str


@router.get("/{kind}", response_model=list[ChoiceOut])
def list_choices(
    kind: ChoiceKind,
    session: DbSession,
    principal: CurrentUser,
    q: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = choices.LOOKUP_LIMIT,
    station: Annotated[str | None, Query(max_length=20)] = None,
) -> list[ChoiceOut]:
    """The caller's choices of one kind (students: a station's own, a student only
    themself), optionally searched by `q` in names, codes, 学号, 考生号 and ID numbers.
    `station` (a code) narrows students and candidates to that station, as a task's form
    narrows them to its case's station; an unknown code gives an empty list."""
    station_id = None
    if station:
        station_id = session.scalar(select(Station.id).where(Station.code == station)) or 0
    return [
        ChoiceOut(value=c.value, title=c.title)
        for c in choices.options(session, principal, kind, q, limit, station_id)
    ]
