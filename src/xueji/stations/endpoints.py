"""Stations: everyone may list them (names for the UI); administrators add and rename them."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from xueji.audit.dependencies import Audited
from xueji.auth.dependencies import AdminUser, CurrentUser
from xueji.db.dependencies import DbSession
from xueji.errors import Conflict, NotFound
from xueji.models import Station
from xueji.stations import repository

router = APIRouter(prefix="/stations", tags=["stations"])


class StationIn(BaseModel):
    code: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=120)


class StationRename(BaseModel):
    name: str = Field(min_length=1, max_length=120)


class StationOut(BaseModel):
    code: str
    name: str
    staff: int
    students: int


def _out(session, station: Station) -> StationOut:
    staff, students = repository.head_counts(session, station)
    return StationOut(code=station.code, name=station.name, staff=staff, students=students)


@router.get("", response_model=list[StationOut])
def list_stations(session: DbSession, principal: CurrentUser) -> list[StationOut]:
    """All stations with their numbers of staff accounts and students."""
    return [_out(session, s) for s in repository.all_stations(session)]


@router.post(
    "",
    dependencies=[Audited("station.create")],
    status_code=201,
    response_model=StationOut,
    responses={409: {"description": "The code is taken"}},
)
def create_station(body: StationIn, session: DbSession, principal: AdminUser) -> StationOut:
    """Add a station (admins only)."""
    if repository.by_code(session, body.code) is not None:
        raise Conflict(f"station {body.code!r} exists")
    station = Station(code=body.code, name=body.name)
    session.add(station)
    session.flush()
    return _out(session, station)


@router.put(
    "/{code}",
    dependencies=[Audited("station.rename")],
    response_model=StationOut,
    responses={404: {"description": "No such station"}},
)
def rename_station(
    code: str, body: StationRename, session: DbSession, principal: AdminUser
) -> StationOut:
    """Rename a station (its code, which records and accounts refer to, stays)."""
    station = repository.by_code(session, code)
    if station is None:
        raise NotFound(f"no station {code!r}")
    station.name = body.name
    return _out(session, station)
