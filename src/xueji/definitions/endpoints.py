"""Deployments and process definitions."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, File, Path, Query, Response, UploadFile
from sqlalchemy import func, select

from xueji.audit.dependencies import Audited
from xueji.auth.dependencies import AdminUser, CurrentUser
from xueji.auth.principal import Principal
from xueji.db.dependencies import DbSession
from xueji.deadlines import rule_problem, rule_words
from xueji.definitions import service
from xueji.definitions.auth import may_start
from xueji.definitions.diff import compare
from xueji.definitions.repository import form_content, get_definition, latest_versions
from xueji.definitions.schemas import (
    DeadlineWordsOut,
    DefinitionDetail,
    DefinitionItem,
    DeployedDefinition,
    DeploymentOut,
    DiffOut,
    LaneOut,
    ValidationOut,
)
from xueji.errors import DeploymentInvalid
from xueji.forms import choices
from xueji.forms.schemas import FormOut
from xueji.models import ProcessDefinition, ProcessInstance
from xueji.paging import VersionFilter
from xueji.runtime import AppRuntime

router = APIRouter(tags=["definitions"])

INVALID = {422: {"description": "Problems, each as {file, line, element_id, code, message}"}}
NOT_FOUND = {404: {"description": "No such definition"}}


async def _read_files(files: list[UploadFile], limit: int) -> dict[str, bytes]:
    contents: dict[str, bytes] = {}
    for upload in files:
        name = service.clean_file_name(upload.filename)
        data = await upload.read(limit + 1)
        if name in contents:
            raise DeploymentInvalid(
                [
                    {
                        "file": name,
                        "line": None,
                        "element_id": None,
                        "code": "FileUploadedTwice",
                        "message": "同一文件名上传了两次",
                    }
                ]
            )
        contents[name] = data
    return contents


@router.post(
    "/deployments",
    dependencies=[Audited("deploy")],
    status_code=201,
    response_model=DeploymentOut,
    responses=INVALID,
)
async def create_deployment(
    principal: AdminUser,
    session: DbSession,
    runtime: AppRuntime,
    files: Annotated[list[UploadFile], File()],
) -> DeploymentOut:
    """Deploy .bpmn, .dmn and form .json files; unchanged content keeps its version."""
    contents = await _read_files(files, runtime.settings.max_upload_bytes)
    deployed = service.deploy(
        session,
        contents,
        principal.username,
        runtime.settings.max_upload_bytes,
        runtime.services,
    )
    return DeploymentOut(
        id=deployed.deployment.id,
        definitions=[
            DeployedDefinition(key=d.key, version=d.version, name=d.name, kind=d.kind, new=new)
            for d, new in deployed.definitions
        ],
    )


@router.post("/deployments/validate", response_model=ValidationOut)
async def validate_deployment(
    principal: AdminUser,
    session: DbSession,
    runtime: AppRuntime,
    files: Annotated[list[UploadFile], File()],
) -> ValidationOut:
    """Check files as a deployment would, without deploying them."""
    contents = await _read_files(files, runtime.settings.max_upload_bytes)
    report = service.validate_upload(
        session, contents, runtime.settings.max_upload_bytes, runtime.services
    )
    return ValidationOut(valid=not report.problems, problems=[p.as_dict() for p in report.problems])


def _item(definition: ProcessDefinition, principal: Principal) -> DefinitionItem:
    return DefinitionItem(
        key=definition.key,
        version=definition.version,
        name=definition.name,
        kind=definition.kind,
        deployed_by=definition.deployed_by,
        deployed_at=definition.deployed_at,
        startable=definition.kind == "bpmn" and may_start(principal, definition),
    )


def _field_titles(session, definition: ProcessDefinition) -> dict[str, str]:
    """The titles of the top-level fields of the version's forms; a field that two forms
    title differently (a step's own 意见) has none here: the start form's title, if any."""
    titles: dict[str, set[str]] = {}
    for name in definition.forms:
        content = form_content(session, definition, name)
        properties = content.get("properties") if isinstance(content, dict) else None
        for key, prop in (properties or {}).items():
            if isinstance(prop, dict) and isinstance(prop.get("title"), str):
                titles.setdefault(key, set()).add(prop["title"])
    return {key: next(iter(names)) for key, names in titles.items() if len(names) == 1}


def _field_choices(session, definition: ProcessDefinition) -> dict[str, dict[str, str]]:
    """Per top-level field, the names the version's forms give its values (a schema's oneOf
    titles, or its enum with the UI schema's ui:enumNames); a field whose forms name a value
    differently keeps only the values they agree on."""
    named: dict[str, dict[str, set[str]]] = {}
    for name in definition.forms:
        if not name.endswith(".schema.json"):
            continue
        content = form_content(session, definition, name)
        ui = form_content(session, definition, name.replace(".schema.json", ".uischema.json"))
        properties = content.get("properties") if isinstance(content, dict) else None
        for key, prop in (properties or {}).items():
            if not isinstance(prop, dict):
                continue
            pairs = [
                (c["const"], c["title"])
                for c in prop.get("oneOf") or []
                if isinstance(c, dict) and isinstance(c.get("title"), str) and "const" in c
            ]
            shown = (ui or {}).get(key) if isinstance(ui, dict) else None
            names = shown.get("ui:enumNames") if isinstance(shown, dict) else None
            if isinstance(prop.get("enum"), list) and isinstance(names, list):
                pairs += list(zip(prop["enum"], names, strict=False))
            for value, title in pairs:
                if isinstance(value, str) and isinstance(title, str):
                    named.setdefault(key, {}).setdefault(value, set()).add(title)
    return {
        key: {value: next(iter(titles)) for value, titles in values.items() if len(titles) == 1}
        for key, values in named.items()
    }


def _detail(session, definition: ProcessDefinition, principal: Principal) -> DefinitionDetail:
    versions = session.scalars(
        select(ProcessDefinition.version)
        .where(ProcessDefinition.key == definition.key)
        .order_by(ProcessDefinition.version)
    )
    counts = dict(
        session.execute(
            select(ProcessInstance.state, func.count())
            .where(ProcessInstance.definition_id == definition.id)
            .group_by(ProcessInstance.state)
        ).all()
    )
    schema, ui_schema = choices.resolve(
        session,
        principal,
        form_content(session, definition, definition.start_form),
        form_content(session, definition, definition.start_ui_form),
    )
    return DefinitionDetail(
        **_item(definition, principal).model_dump(),
        file_name=definition.file_name,
        start_role=definition.start_role,
        start_form=FormOut(schema=schema, ui_schema=ui_schema),
        field_titles=_field_titles(session, definition),
        field_choices=_field_choices(session, definition),
        lanes=[LaneOut(name=n, role=r) for n, r in definition.lanes.items()],
        versions=list(versions),
        instance_counts=counts,
    )


@router.get("/process-definitions", response_model=list[DefinitionItem])
def list_definitions(session: DbSession, principal: CurrentUser) -> list[DefinitionItem]:
    """The latest version of each process, with whether the caller may start it."""
    return [_item(d, principal) for d in latest_versions(session)]


@router.get("/process-definitions/{key}", response_model=DefinitionDetail, responses=NOT_FOUND)
def get_latest(key: str, session: DbSession, principal: CurrentUser) -> DefinitionDetail:
    """The latest version of a process: start form, lanes and their roles."""
    return _detail(session, get_definition(session, key), principal)


@router.get(
    "/process-definitions/{key}/versions/{version}",
    response_model=DefinitionDetail,
    responses=NOT_FOUND,
)
def get_version(
    key: str,
    version: Annotated[int, Path(ge=1, le=1_000_000)],  # as VersionFilter; int4 on PostgreSQL
    session: DbSession,
    principal: CurrentUser,
) -> DefinitionDetail:
    """One version of a process."""
    return _detail(session, get_definition(session, key, version), principal)


XML = {200: {"content": {"application/xml": {}}}, **NOT_FOUND}


@router.get("/process-definitions/{key}/xml", response_class=Response, responses=XML)
def get_xml(
    key: str, session: DbSession, principal: CurrentUser, version: VersionFilter = None
) -> Response:
    """The BPMN XML exactly as deployed (latest version, or ?version=)."""
    definition = get_definition(session, key, version)
    return Response(definition.xml.encode("utf-8"), media_type="application/xml")


@router.get("/decision-definitions/{key}/xml", response_class=Response, responses=XML)
def get_decision_xml(
    key: str, session: DbSession, principal: CurrentUser, version: VersionFilter = None
) -> Response:
    """A DMN decision table exactly as deployed."""
    definition = get_definition(session, key, version, kind="dmn")
    return Response(definition.xml.encode("utf-8"), media_type="application/xml")


@router.get("/definitions/{key}/diff", response_model=DiffOut, responses=NOT_FOUND)
def diff_versions(
    key: str,
    session: DbSession,
    principal: AdminUser,
    from_version: Annotated[int, Query(alias="from", ge=1, le=1_000_000)],
    to_version: Annotated[int, Query(alias="to", ge=1, le=1_000_000)],
) -> DiffOut:
    """What changed from one version of a process to another: tasks, flows, lanes, forms,
    deadlines, timers and conditions added, removed, renamed or changed (layout ignored)."""
    before = get_definition(session, key, from_version)
    after = get_definition(session, key, to_version)
    changes = compare(before.xml.encode("utf-8"), after.xml.encode("utf-8"))
    return DiffOut(
        key=key,
        from_version=from_version,
        to_version=to_version,
        changes=[asdict(c) for c in changes],
    )


@router.get("/deadline-rules/words", response_model=DeadlineWordsOut)
def deadline_words(
    principal: CurrentUser, rule: Annotated[str, Query(min_length=1, max_length=200)]
) -> DeadlineWordsOut:
    """A dueDate rule (P7D, 03-15, 春季:10-25@-1;秋季:04-25, before:exam_date:P14D) in words."""
    problem = rule_problem(rule)
    return DeadlineWordsOut(rule=rule, words=None if problem else rule_words(rule), problem=problem)
