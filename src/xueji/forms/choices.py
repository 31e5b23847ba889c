"""Choice lists of forms, filled by the server for the user who fetches or submits a form.

A field of a form (at the top level, inside an object, or the `items` of an array) that says
`"x-choices": KIND` takes its value from a list the server keeps, scoped to the caller:

    stations       函授站 the caller acts for: all for college-wide roles, else their own
    all_stations   every 函授站 (a destination, e.g. 转入函授站)
    majors         专业 (by name)
    students       学生 the caller may see (a station's own, a student themself), by id,
                   titled with name, 学号 and a masked ID number
    candidates     admitted candidates (招生录取库) without a record yet, by 考生号
    courses        课程 (by code)
    terms          学期 around today, as "2027-春"

A field that also says `"x-choices-open": true` offers its list as suggestions only
(`x-suggestions: [{value, title}]`, or `x-lookup`): the user may choose or type a value not on
it, and the process decides what such a value means (新生入学报到: a candidate the station's
admissions list does not have goes to 向当地招生部门查询). Its value is not checked here.

The keyword is honoured in `properties` and `items`, not inside conditional branches
(allOf, if/then, …); deploying a form that puts it there, or names an unknown list, is refused.

When a form is fetched (`resolve`), each such field gets `oneOf: [{const, title}]` (which the
web UI renders as a select with names). When the list is longer than INLINE_LIMIT the field
gets `x-lookup` instead, the URL of GET /choices/{kind}?q=, which searches the same scoped list.
When the caller's scope leaves one value only and it comes from the session — a station
user's own station, a student's own record — a top-level field is not shown at all, and on
submit (`prepare`) it is filled from the session. Either way a submitted value is checked
against the same scoped list (by a query for the values sent, not by building the list):
a value outside it is a 422 naming the field.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy import ColumnElement, Select, false, func, or_, select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.principal import Principal, scope_filter
from xueji.auth.roles import Role
from xueji.errors import FormInvalid
from xueji.forms.attachments import upload_problems
from xueji.forms.validation import form_errors
from xueji.models import Admission, Course, Major, Station, Student
from xueji.paging import MAX_ID

KEYWORD = "x-choices"
OPEN_KEYWORD = "x-choices-open"
SUGGESTIONS_KEYWORD = "x-suggestions"
LOOKUP_KEYWORD = "x-lookup"
LOOKUP_URL = "/api/v1/choices/{kind}"  # the web UI's lookup widget calls it
INLINE_LIMIT = 500  # longer lists are searched through the lookup endpoint
LOOKUP_LIMIT = 50


@dataclass(frozen=True)
class Choice:
    value: str | int
    title: str


def _masked(id_number: str | None) -> str:
    if not id_number or len(id_number) < 10:
        return id_number or ""
    return f"{id_number[:6]}********{id_number[-4:]}"


def _station_scope(principal: Principal, column) -> ColumnElement[bool] | None:
    """College-wide roles: every station (None); anyone else their own station only."""
    if principal.sees_all_stations:
        return None
    if principal.station_id is None:
        return false()
    return column == principal.station_id


@dataclass(frozen=True)
class Kind:
    """One list: a query of (value, *title parts), the value column, the searched columns."""

    name: str
    title: str  # what a value is, in the message of a refused one
    query: Callable[[Principal], Select]
    value: Any  # the value column
    searched: Callable[[], list[Any]]
    label: Callable[[Any], str]
    own: Callable[[Principal], str | int | None] = lambda _p: None
    station: Any = None  # the station column, for lists narrowed to a case's station

    def scoped(self, principal: Principal, station_id: int | None) -> Select:
        query = self.query(principal)
        if station_id is not None and self.station is not None:
            query = query.where(self.station == station_id)
        return query

    def options(
        self,
        session: Session,
        principal: Principal,
        q: str | None,
        limit: int,
        station_id: int | None = None,
    ):
        query = self.scoped(principal, station_id)
        if q:
            pattern = f"%{q.strip()}%"
            query = query.where(or_(*(column.like(pattern) for column in self.searched())))
        rows = session.execute(query.limit(limit)).all()
        return [Choice(row[0], self.label(row)) for row in rows]

    def allowed(
        self, session: Session, principal: Principal, values: set, station_id: int | None = None
    ) -> set:
        found: set = set()
        # only values of the column's type (and, for ids, in INTEGER's range: PostgreSQL
        # cannot even compare a larger number with the column) can be in the list
        if self.value.type.python_type is int:
            values = {v for v in values if isinstance(v, int) and 0 < v <= MAX_ID}
        else:
            values = {v for v in values if isinstance(v, str)}
        ordered = sorted(values)
        for start in range(0, len(ordered), 500):  # bound the statement's parameters
            chunk = ordered[start : start + 500]
            query = self.scoped(principal, station_id).where(self.value.in_(chunk))
            found |= {row[0] for row in session.execute(query).all()}
        return found


def _stations(principal: Principal) -> Select:
    query = select(Station.code, Station.name).order_by(Station.code)
    clause = _station_scope(principal, Station.id)
    return query if clause is None else query.where(clause)


def _own_station(principal: Principal) -> str | None:
    return None if principal.sees_all_stations else principal.station_code


def _students(principal: Principal) -> Select:
    query = select(
        Student.id, Student.name, Student.student_number, Student.id_number, Station.name
    ).join(Station, Station.id == Student.station_id)
    clause = scope_filter(principal, Student.station_id, Student.id)
    query = query if clause is None else query.where(clause)
    return query.order_by(Student.station_id, Student.student_number, Student.id)


def _own_student(principal: Principal) -> int | None:
    if Role.STUDENT in principal.roles and not principal.sees_all_stations:
        if principal.roles & {Role.STATION, Role.ADVISOR}:
            return None
        return principal.student_id
    return None


def _student_label(row) -> str:
    _id, name, number, id_number, station = row
    return f"{name}（学号 {number or '未编'}，身份证 {_masked(id_number)}，{station}）"


def _candidates(principal: Principal) -> Select:
    query = (
        select(
            Admission.exam_number,
            Admission.name,
            Admission.level,
            Admission.major,
            Admission.intake_year,
            Station.name,
        )
        .join(Station, Station.id == Admission.station_id)
        .outerjoin(Student, Student.exam_number == Admission.exam_number)
        .where(Student.id.is_(None))
        .order_by(Admission.intake_year.desc(), Admission.exam_number)
    )
    if principal.sees_all_stations:
        return query
    if principal.roles & {Role.STATION, Role.ADVISOR} and principal.station_id is not None:
        return query.where(Admission.station_id == principal.station_id)
    return query.where(false())


def _candidate_label(row) -> str:
    number, name, level, major, year, station = row
    return f"{name}（考生号 {number}，{year} 年录取，{level}{major}，{station}）"


def _majors(principal: Principal) -> Select:
    """Majors by name; for a student, those of their own level (专科, 本科, 专升本)."""
    query = select(Major.name, func.min(Major.code))
    if _own_student(principal) is not None:
        level = select(Student.level).where(Student.id == principal.student_id)
        query = query.where(Major.level == level.scalar_subquery())
    return query.group_by(Major.name).order_by(func.min(Major.code))


def _courses(_principal: Principal) -> Select:
    return select(Course.code, Course.name).order_by(Course.code)


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "stations",
            "函授站",
            _stations,
            Station.code,
            lambda: [Station.code, Station.name],
            lambda row: f"{row[1]}（{row[0]}）",
            _own_station,
        ),
        Kind(
            "all_stations",
            "函授站",
            lambda _p: select(Station.code, Station.name).order_by(Station.code),
            Station.code,
            lambda: [Station.code, Station.name],
            lambda row: f"{row[1]}（{row[0]}）",
        ),
        Kind(
            "majors",
            "专业",
            _majors,
            Major.name,
            lambda: [Major.name, Major.code],
            lambda row: row[0],
        ),
        Kind(
            "students",
            "学生",
            _students,
            Student.id,
            lambda: [Student.name, Student.student_number, Student.id_number, Student.exam_number],
            _student_label,
            _own_student,
            Student.station_id,
        ),
        Kind(
            "candidates",
            "录取考生",
            _candidates,
            Admission.exam_number,
            lambda: [Admission.exam_number, Admission.name, Admission.id_number],
            _candidate_label,
            station=Admission.station_id,
        ),
        Kind(
            "courses",
            "课程",
            _courses,
            Course.code,
            lambda: [Course.code, Course.name],
            lambda row: f"{row[0]} {row[1]}",
        ),
    )
}

TERM_YEARS_BACK, TERM_YEARS_AHEAD = 3, 3


def terms() -> list[Choice]:
    """Terms from a few years back to a few ahead of today, as "2027-春" (春 before 秋)."""
    year = clock.now().year
    return [
        Choice(f"{y}-{season}", f"{y} 年{season}季学期")
        for y in range(year - TERM_YEARS_BACK, year + TERM_YEARS_AHEAD + 1)
        for season in ("春", "秋")
    ]


KIND_NAMES = (*KINDS, "terms")


def options(
    session: Session,
    principal: Principal,
    kind: str,
    q: str | None = None,
    limit: int = 50,
    station_id: int | None = None,
) -> list[Choice]:
    """The caller's choices of a kind (searched by `q` when given; students and candidates
    narrowed to `station_id`, the station of the case a task belongs to, when given)."""
    if kind == "terms":
        found = terms()
        if q:
            found = [c for c in found if q in str(c.value) or q in c.title]
        return found[:limit]
    return KINDS[kind].options(session, principal, q, limit, station_id)


_CONDITIONAL = {"allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas"}


def unknown_kinds(schema: Any, path: str = "", branch: bool = False) -> list[str]:
    """Where a form names a choice list that does not exist, or names one inside a
    conditional branch (where it would be neither filled nor checked): refused on deploy."""
    if isinstance(schema, list):
        return [
            w for i, sub in enumerate(schema) for w in unknown_kinds(sub, f"{path}/{i}", branch)
        ]
    if not isinstance(schema, dict):
        return []
    found = []
    kind = schema.get(KEYWORD)
    if kind is not None and not isinstance(kind, dict):
        if kind not in KIND_NAMES:
            found.append(f"{path or '/'} {kind!r}")
        elif branch:
            found.append(f"{path} {kind!r} (only in properties and items, not in a branch)")
    for key, sub in schema.items():
        if key != KEYWORD and isinstance(sub, (dict, list)):
            found += unknown_kinds(sub, f"{path}/{key}", branch or key in _CONDITIONAL)
    return found


def _own(kind: str, principal: Principal) -> str | int | None:
    return KINDS[kind].own(principal) if kind in KINDS else None


# --- walking a schema and its data ------------------------------------------------------


def _fields(schema: dict[str, Any], data: Any, path: list[str]) -> Iterator[tuple[str, str, Any]]:
    """(dotted path, kind, value) of every value in `data` that a choice field holds."""
    if not isinstance(schema, dict):
        return
    kind = schema.get(KEYWORD)
    if isinstance(kind, str):
        if data is not None and schema.get(OPEN_KEYWORD) is not True:
            yield ".".join(path), kind, data
        return
    if isinstance(data, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if name in data:
                yield from _fields(sub, data[name], [*path, name])
    elif isinstance(data, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(data):
            yield from _fields(schema["items"], item, [*path, str(index)])


def _refused(kind: str, value: Any) -> str:
    what = KINDS[kind].title if kind in KINDS else "学期"
    return f"“{value}”不在可选的{what}中 ({value!r} is not one of your choices)"


def choice_problems(
    session: Session,
    principal: Principal,
    schema: dict[str, Any] | None,
    data: Any,
    station_id: int | None = None,
) -> list[dict[str, str]]:
    """Values of choice fields outside the caller's lists, each as {field, message}."""
    if not schema or not isinstance(data, dict):
        return []
    found = list(_fields(schema, data, []))
    by_kind: dict[str, set] = {}
    for _path, kind, value in found:
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            by_kind.setdefault(kind, set()).add(value)
    allowed: dict[str, set] = {}
    for kind, values in by_kind.items():
        if kind == "terms":
            allowed[kind] = {c.value for c in terms()}
        elif kind in KINDS:
            allowed[kind] = KINDS[kind].allowed(session, principal, values, station_id)
        else:
            allowed[kind] = set()
    problems = []
    for path, kind, value in found:
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            if value not in allowed.get(kind, set()):
                problems.append({"field": path, "message": _refused(kind, value)})
    return problems


def from_session(schema: dict[str, Any] | None, principal: Principal) -> dict[str, Any]:
    """Top-level fields the caller does not see, with the value the session gives them."""
    if not schema:
        return {}
    filled = {}
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, dict) and isinstance(sub.get(KEYWORD), str):
            own = _own(sub[KEYWORD], principal)
            if own is not None:
                filled[name] = own
    return filled


def fill(schema: dict[str, Any] | None, principal: Principal, data: Any) -> Any:
    """The submitted data with the fields the session decides filled in (those not sent)."""
    if not isinstance(data, dict):
        return data
    return {**from_session(schema, principal), **data}


def resolve(
    session: Session,
    principal: Principal,
    schema: dict[str, Any] | None,
    ui_schema: dict[str, Any] | None = None,
    station_id: int | None = None,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The form as this caller sees it: choices filled in, session-decided fields left out."""
    if not schema:
        return schema, ui_schema
    schema = copy.deepcopy(schema)
    hidden = set(from_session(schema, principal))
    properties = schema.get("properties") or {}
    for name in hidden:
        properties.pop(name, None)
    if hidden and isinstance(schema.get("required"), list):
        schema["required"] = [n for n in schema["required"] if n not in hidden]
    cache: dict[str, list[Choice]] = {}
    _fill_choices(session, principal, schema, cache, station_id)
    if hidden and ui_schema:
        ui_schema = {k: v for k, v in ui_schema.items() if k not in hidden}
        if isinstance(ui_schema.get("ui:order"), list):
            ui_schema["ui:order"] = [n for n in ui_schema["ui:order"] if n not in hidden]
    return schema, ui_schema


def _fill_choices(
    session, principal, schema: Any, cache: dict[str, list[Choice]], station_id: int | None
) -> None:
    if not isinstance(schema, dict):
        return
    kind = schema.get(KEYWORD)
    if isinstance(kind, str) and kind in KIND_NAMES:
        if kind not in cache:
            cache[kind] = options(
                session, principal, kind, limit=INLINE_LIMIT + 1, station_id=station_id
            )
        found = cache[kind]
        if len(found) > INLINE_LIMIT:
            url = LOOKUP_URL.format(kind=kind)
            narrowed = kind in KINDS and KINDS[kind].station is not None
            if station_id is not None and narrowed:
                code = session.scalar(select(Station.code).where(Station.id == station_id))
                url += f"?station={quote(code or '')}"
            schema[LOOKUP_KEYWORD] = url
        elif schema.get(OPEN_KEYWORD) is True:
            schema[SUGGESTIONS_KEYWORD] = [{"value": c.value, "title": c.title} for c in found]
        elif found:
            schema["oneOf"] = [{"const": c.value, "title": c.title} for c in found]
        else:
            schema["readOnly"] = True
            schema["description"] = "（没有可选项）"
        return
    for sub in (schema.get("properties") or {}).values():
        _fill_choices(session, principal, sub, cache, station_id)
    _fill_choices(session, principal, schema.get("items"), cache, station_id)


def checked(
    session: Session,
    principal: Principal,
    schema: dict[str, Any] | None,
    data: Any,
    station_id: int | None = None,
    instance_id: str | None = None,
) -> tuple[Any, list[dict[str, str]]]:
    """Submitted data with the session's fields filled in, and every problem: the schema's
    (closed form, types, required) first, then values outside the caller's choices and
    upload ids that are not the instance's or the caller's (forms/attachments.py)."""
    data = fill(schema, principal, data)
    problems = form_errors(schema, data)
    if not problems:
        problems = choice_problems(session, principal, schema, data, station_id)
        problems += upload_problems(session, principal, schema, data, instance_id)
    return data, problems


def prepare(
    session: Session,
    principal: Principal,
    schema: dict[str, Any] | None,
    data: Any,
    station_id: int | None = None,
    instance_id: str | None = None,
) -> Any:
    """`checked`, raising FormInvalid (422, each field named) when there is a problem."""
    data, problems = checked(session, principal, schema, data, station_id, instance_id)
    if problems:
        raise FormInvalid(problems)
    return data
