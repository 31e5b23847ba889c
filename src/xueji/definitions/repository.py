"""Queries on definitions and forms."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xueji.engine.specs import SpecCache
from xueji.errors import NotFound
from xueji.models import Form, ProcessDefinition


def latest_versions(session: Session, kind: str | None = "bpmn") -> list[ProcessDefinition]:
    newest = (
        select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
        .group_by(ProcessDefinition.key)
        .subquery()
    )
    query = (
        select(ProcessDefinition)
        .join(
            newest,
            (ProcessDefinition.key == newest.c.key)
            & (ProcessDefinition.version == newest.c.version),
        )
        .order_by(ProcessDefinition.key)
    )
    if kind:
        query = query.where(ProcessDefinition.kind == kind)
    return list(session.scalars(query))


def get_definition(
    session: Session, key: str, version: int | None = None, kind: str = "bpmn"
) -> ProcessDefinition:
    query = select(ProcessDefinition).where(
        ProcessDefinition.key == key, ProcessDefinition.kind == kind
    )
    if version is None:
        query = query.order_by(ProcessDefinition.version.desc()).limit(1)
    else:
        query = query.where(ProcessDefinition.version == version)
    definition = session.scalar(query)
    if definition is None:
        what = f"{key!r}" + (f" version {version}" if version is not None else "")
        raise NotFound(f"no process definition {what}")
    return definition


def latest_forms(session: Session) -> dict[str, Form]:
    newest = select(Form.name, func.max(Form.id).label("id")).group_by(Form.name).subquery()
    rows = session.scalars(select(Form).join(newest, Form.id == newest.c.id))
    return {form.name: form for form in rows}


def dependency_documents(session: Session, definition: ProcessDefinition) -> list[tuple[str, str]]:
    """(file name, xml) of the definitions this one was deployed against."""
    ids = [int(i) for i in definition.dependencies]
    if not ids:
        return []
    rows = session.scalars(select(ProcessDefinition).where(ProcessDefinition.id.in_(ids)))
    return [(row.file_name, row.xml) for row in rows]


def form_content(
    session: Session,
    definition: ProcessDefinition,
    name: str | None,
    cache: SpecCache | None = None,
):
    """The content of form file `name` as deployed with this definition version (or, for a
    form it does not pin, the latest deployed version of that file); a pinned one from
    `cache` when given (the hot path of a step)."""
    if not name:
        return None
    form_id = definition.forms.get(name)
    if form_id is not None:

        def load(form_id: int):
            form = session.get(Form, form_id)
            return form.content if form else None

        return load(form_id) if cache is None else cache.form(form_id, load)
    form = latest_forms(session).get(name)
    return form.content if form else None
