"""Correlation: which waiting instances a message reaches, or which processes it starts.

Correlation (see xueji.engine.messages for how an element declares it): a message reaches an
instance waiting at element E only when

- every correlation key E declares is given in the message, and
- every key the message gives equals the instance's value: `business_key`, `student` (the
  instance's student id), `station` (its station's code), any other key a process variable
  of that name (e.g. `batch`).

So a message without correlation never reaches an element that declares keys, and a key the
sender names is never ignored. An element declaring no keys takes the message in every
waiting instance the sender may reach. When nothing waits, the message starts each process
(latest version) whose start events are message start events catching it; when nothing
starts either, the answer is 404 naming the message and its correlation.

Who may send: holders of the role of the catching element's lane, registrars and admins;
integrations use an API token of that role. Senders reach only instances in their scope
(a station its own, a student their own). A message one instance throws to others is sent
with the sender's scope (its station's, or college-wide for a college process), never an
administrator's.

Finding the waiting instances stays cheap without tables of its own: the catching elements
of each definition version are read from its XML once and cached by (id, content hash); the
running instances of the definitions that catch the message are filtered by the correlation
columns (business_key, student_id, station_id) in SQL and by variables in Python, and only
those are locked and loaded (xueji.instances.flows).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from xueji.auth.principal import Principal
from xueji.auth.roles import Role
from xueji.definitions.repository import form_content
from xueji.engine.messages import MessageCatch, message_catches
from xueji.engine.xml import parse_xml
from xueji.errors import FormInvalid, InvalidInput
from xueji.forms.attachments import upload_problems
from xueji.forms.validation import form_errors
from xueji.instances.repository import readable_by
from xueji.models import ProcessDefinition, ProcessInstance, Station, Student
from xueji.models.states import InstanceState
from xueji.paging import MAX_ID

COLUMNS = ("business_key", "student", "station")
SENDERS = (Role.REGISTRAR,)  # besides the lane's role (admins may do anything)

_cache: OrderedDict[tuple[int, str], list[MessageCatch]] = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 512


def sender_principal(sender: ProcessInstance) -> Principal:
    """Who sends a message an instance throws: the engine, with the sender's scope."""
    if sender.station_id is None:
        roles = frozenset({Role.REGISTRAR})  # a college process: college-wide, not admin
    else:
        roles = frozenset({Role.STATION})
    return Principal(
        username="system:message",
        display_name="系统",
        roles=roles,
        station_id=sender.station_id,
        station_code=sender.station.code if sender.station else None,
        student_id=None,
        user_id=None,
    )


def thrown_correlation(session: Session, sender: ProcessInstance, name: str) -> dict[str, Any]:
    """The correlation keys the catching elements declare, with the sender's values (its
    business key, student, station, or variables of those names)."""
    keys = {key for candidate in catches_of(session, name) for key in candidate.catch.correlation}
    own = {
        "business_key": sender.business_key,
        "student": sender.student_id,
        "station": sender.station.code if sender.station else None,
    }
    correlation = {
        key: own[key] if key in COLUMNS else (sender.variables or {}).get(key) for key in keys
    }
    return {key: value for key, value in correlation.items() if value is not None}


@dataclass(frozen=True)
class Catch:
    definition: ProcessDefinition
    catch: MessageCatch
    latest: bool  # the newest version of its process: the one a message may start


def nothing(name: str, correlation: dict[str, Any]) -> dict[str, Any]:
    return {
        "message": f"nothing waits for or starts on the message {name!r} with this correlation",
        "name": name,
        "correlation": correlation,
    }


def normalised(correlation: dict[str, Any]) -> dict[str, Any]:
    """Correlation values as compared: the student an integer id, other columns strings."""
    result: dict[str, Any] = {}
    problems = []
    for key, value in correlation.items():
        if key == "student":
            if isinstance(value, str) and value.isdigit():
                value = int(value)
            # (beyond MAX_ID PostgreSQL's INTEGER column cannot even be compared with it)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ID:
                problems.append({"field": "correlation.student", "message": "a student id"})
                continue
        elif key in COLUMNS and not isinstance(value, str):
            problems.append({"field": f"correlation.{key}", "message": "must be a string"})
            continue
        result[key] = value
    if problems:
        raise InvalidInput(problems)
    return result


def catches_of(session: Session, name: str) -> list[Catch]:
    """Every element of any deployed process version that catches message `name`."""
    definitions = session.scalars(
        select(ProcessDefinition)
        .where(ProcessDefinition.kind == "bpmn")
        .options(defer(ProcessDefinition.xml))
        .order_by(ProcessDefinition.id)
    ).all()
    newest: dict[str, int] = {}
    for definition in definitions:
        newest[definition.key] = max(newest.get(definition.key, 0), definition.version)
    return [
        Catch(definition, catch, definition.version == newest[definition.key])
        for definition in definitions
        for catch in element_catches(definition)
        if catch.message == name
    ]


def element_catches(definition: ProcessDefinition) -> list[MessageCatch]:
    """The message catches of a definition version: parsed once, then from the cache."""
    key = (definition.id, definition.content_hash)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    catches = message_catches(parse_xml(definition.xml.encode()), definition.key)
    with _cache_lock:
        _cache[key] = catches
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return catches


def may_send(principal: Principal, candidate: Catch) -> bool:
    if principal.has_role(*SENDERS):
        return True
    lane = candidate.catch.lane
    role = candidate.definition.lanes.get(lane) if lane else None
    return role is not None and role in principal.roles


def matches(instance: ProcessInstance, correlation: dict[str, Any]) -> bool:
    """Every value the message gives equals the instance's (columns and variables)."""
    for key, value in correlation.items():
        if key == "business_key":
            ok = instance.business_key == value
        elif key == "student":
            ok = instance.student_id == value
        elif key == "station":
            ok = instance.station is not None and instance.station.code == value
        else:
            ok = (instance.variables or {}).get(key) == value
        if not ok:
            return False
    return True


def candidates(
    session: Session, principal: Principal, correlation: dict[str, Any], definition_ids: set[int]
) -> list[str]:
    """Running instances of those definitions whose correlation values match, without state."""
    query = readable_by(principal, select(ProcessInstance.id, ProcessInstance.variables)).where(
        ProcessInstance.definition_id.in_(definition_ids),
        ProcessInstance.state == InstanceState.RUNNING,
    )
    if "business_key" in correlation:
        query = query.where(ProcessInstance.business_key == correlation["business_key"])
    if "student" in correlation:
        query = query.where(ProcessInstance.student_id == correlation["student"])
    if "station" in correlation:
        station = select(Station.id).where(Station.code == correlation["station"])
        query = query.where(ProcessInstance.station_id == station.scalar_subquery())
    variables = {k: v for k, v in correlation.items() if k not in COLUMNS}
    return [
        instance_id
        for instance_id, values in session.execute(query.order_by(ProcessInstance.id))
        if all((values or {}).get(k) == v for k, v in variables.items())
    ]


def catch_form(session: Session, target: Catch) -> dict[str, Any] | None:
    """The form a catching element (or the start event it starts) checks a payload against."""
    form = target.catch.form
    if form is None and target.catch.start:
        form = target.definition.start_form
    return form_content(session, target.definition, form)


def validate_payload(
    session: Session,
    principal: Principal | None,
    payload: dict[str, Any],
    targets: Sequence[tuple[str | None, Catch]],
) -> None:
    """The payload as storable data, and against the form of each (instance, element) it goes
    to; with the sender's `principal` (a message from outside), its upload ids as a task's
    (forms/attachments.py)."""
    problems: list[dict[str, str]] = []
    checks = [(None, None)] + [(iid, catch_form(session, t)) for iid, t in targets]
    for instance_id, schema in checks:
        found = form_errors(schema, payload)
        if not found and principal is not None:
            found = upload_problems(session, principal, schema, payload, instance_id)
        for problem in found:
            field = f"payload.{problem['field']}" if problem["field"] else "payload"
            entry = {"field": field, "message": problem["message"]}
            if entry not in problems:
                problems.append(entry)
    if problems:
        raise FormInvalid(problems)


def new_scope(
    session: Session, principal: Principal, correlation: dict[str, Any]
) -> tuple[Station | None, Student | None] | None:
    """(station, student) of an instance the message starts, or None if out of reach."""
    student = None
    if "student" in correlation:
        student = session.get(Student, correlation["student"])
        if student is None:
            return None
    elif (
        Role.STUDENT in principal.roles and principal.student_id and not principal.sees_all_stations
    ):
        student = session.get(Student, principal.student_id)
    station = student.station if student else None
    if "station" in correlation:
        named = session.scalar(select(Station).where(Station.code == correlation["station"]))
        if named is None or (station is not None and named.id != station.id):
            return None
        station = named
    if principal.sees_all_stations:
        return station, student
    if Role.STUDENT in principal.roles and principal.student_id is not None:
        own = student is not None and student.id == principal.student_id
        return (station, student) if own else None
    if principal.station_id is None:
        return None
    if station is None:
        station = session.get(Station, principal.station_id)
    if station is None or station.id != principal.station_id:
        return None
    return station, student
