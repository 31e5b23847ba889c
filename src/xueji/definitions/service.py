"""Deploying diagrams, decision tables and forms as new definition versions."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.roles import role_for_lane
from xueji.definitions.repository import latest_forms, latest_versions
from xueji.engine.validation import Catalog, Problem, Report, inspect_upload
from xueji.errors import DeploymentInvalid
from xueji.forms import attachments, choices
from xueji.models import Deployment, Form, ProcessDefinition

ALLOWED_SUFFIXES = (".bpmn", ".bpmn20.xml", ".dmn", ".json")
# Where a definition version came from (ProcessDefinition.source).
DIRECTORY = "directory"  # processes/ and forms/, deployed on start
UPLOAD = "upload"  # the API or `xueji deploy`
SOURCES = (DIRECTORY, UPLOAD)


@dataclass
class Deployed:
    deployment: Deployment
    definitions: list[tuple[ProcessDefinition, bool]]  # (definition, is it a new version)
    # (new version from processes/, the uploaded version it replaced as the latest)
    superseded: list[tuple[ProcessDefinition, ProcessDefinition]] = field(default_factory=list)


def _sha256(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def check_file_names(files: dict[str, bytes], max_bytes: int) -> list[Problem]:
    problems = []
    for name, content in files.items():
        if not name.lower().endswith(ALLOWED_SUFFIXES):
            problems.append(
                Problem(
                    name,
                    None,
                    None,
                    "FileTypeUnsupported",
                    "不支持的文件类型：请上传 .bpmn、.dmn 或表单 .json 文件",
                )
            )
        elif len(content) > max_bytes:
            problems.append(
                Problem(name, None, None, "FileTooLarge", f"文件超过 {max_bytes} 字节的上限")
            )
    return problems


def clean_file_name(name: str | None) -> str:
    base = PurePosixPath((name or "").replace("\\", "/")).name
    return base or "unnamed"


def _catalog(session: Session, services: Collection[str]) -> Catalog:
    definitions = latest_versions(session, kind=None)
    return Catalog(
        forms={name: form.content for name, form in latest_forms(session).items()},
        processes={d.key: (d.file_name, d.xml.encode()) for d in definitions if d.kind == "bpmn"},
        decisions={d.key: (d.file_name, d.xml.encode()) for d in definitions if d.kind == "dmn"},
        services=set(services),
        role_for_lane=role_for_lane,
    )


def validate_upload(
    session: Session, files: dict[str, bytes], max_bytes: int, services: Collection[str]
) -> Report:
    """Everything wrong with an upload, without deploying it."""
    problems = check_file_names(files, max_bytes)
    if problems:
        return Report(problems=problems)
    report = inspect_upload(files, _catalog(session, services))
    for name, form in report.forms.items():
        for where in choices.unknown_kinds(form):
            report.problems.append(
                Problem(
                    name,
                    None,
                    None,
                    "FormChoicesUnknown",
                    f"表单中 {where} 的 x-choices 没有这个列表，或写在了不起作用的位置"
                    f"（可用的列表：{', '.join(choices.KIND_NAMES)}）",
                )
            )
        for where in attachments.unknown_kinds(form):
            report.problems.append(
                Problem(
                    name,
                    None,
                    None,
                    "FormUploadKindUnknown",
                    f"表单中 {where} 的 x-upload 没有这种材料"
                    f"（可用的种类：{', '.join(attachments.KINDS)}）",
                )
            )
    return report


def _last_from_directory(session: Session, key: str) -> ProcessDefinition | None:
    return session.scalar(
        select(ProcessDefinition)
        .where(ProcessDefinition.key == key, ProcessDefinition.source == DIRECTORY)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    )


def deploy(
    session: Session,
    files: dict[str, bytes],
    deployed_by: str,
    max_bytes: int,
    services: Collection[str],
    *,
    source: str = UPLOAD,
) -> Deployed:
    """Deploy an upload; unchanged definitions keep their version. Raises DeploymentInvalid.

    source="upload" (the API, `xueji deploy`): a diagram or decision table is a new version
    when it (or a form it names, or a decision table it uses) differs from the latest version.
    An upload of forms alone gives every process whose latest version uses one of them in
    another version a new version pinned to the uploaded forms (same XML), as a changed
    decision table does (_redeploy_dependents).

    source="directory" (start-up, processes/ and forms/): a file is deployed only when it (with
    the forms it names) differs from the version last deployed *from the directory* under its
    key; an unchanged file leaves the latest version alone, even one an administrator uploaded.
    A changed file is a new release of the product and wins: it becomes a new version even over
    an uploaded latest version, which is listed in `superseded` (start-up logs a warning).
    """
    if source not in SOURCES:
        raise ValueError(f"unknown definition source {source!r}")
    report = validate_upload(session, files, max_bytes, services)
    if report.problems:
        raise DeploymentInvalid([p.as_dict() for p in report.problems])
    now = clock.now()
    deployment = Deployment(
        deployed_by=deployed_by,
        deployed_at=now,
        files=[{"name": n, "sha256": _sha256(c)} for n, c in files.items()],
    )
    session.add(deployment)
    session.flush()

    forms = latest_forms(session)
    for name in report.forms:
        content_hash = _sha256(files[name])
        existing = session.scalar(
            select(Form).where(Form.name == name, Form.content_hash == content_hash)
        )
        if existing is None:
            existing = Form(
                name=name,
                content_hash=content_hash,
                content=report.forms[name],
                deployment_id=deployment.id,
                deployed_at=now,
            )
            session.add(existing)
            session.flush()
        forms[name] = existing

    result: list[tuple[ProcessDefinition, bool]] = []
    superseded: list[tuple[ProcessDefinition, ProcessDefinition]] = []
    latest = {d.key: d for d in latest_versions(session, kind=None)}

    def unchanged_in_directory(key: str, source_hash: str) -> bool:
        """In a directory deployment: is this file as it was when last deployed from there?"""
        if source != DIRECTORY:
            return False
        last = _last_from_directory(session, key)
        if last is None or last.source_hash != source_hash:
            return False
        if key in latest:
            result.append((latest[key], False))
        return True

    def settle(before: ProcessDefinition | None, definition, new: bool, source_hash: str) -> None:
        """In a directory deployment: note an uploaded latest version the file supersedes, or
        take an uploaded version with the file's very content as the directory's from now on
        (so that a later upload is not undone on the next start by this same file)."""
        if source != DIRECTORY:
            return
        if new and before is not None and before.source != DIRECTORY:
            superseded.append((definition, before))
        elif not new and definition.source != DIRECTORY:
            definition.source = DIRECTORY
            definition.source_hash = source_hash

    # Decisions first: processes that call them depend on their new versions.
    for info in report.decisions:
        content = files[info.file_name]
        if unchanged_in_directory(info.key, _sha256(content)):
            continue
        before = latest.get(info.key)
        definition, new = _new_version(
            session,
            latest,
            deployment,
            deployed_by,
            now,
            kind="dmn",
            key=info.key,
            name=info.name,
            file_name=info.file_name,
            content=content,
            content_hash=_sha256(content),
            source=source,
            source_hash=_sha256(content),
        )
        settle(before, definition, new, _sha256(content))
        result.append((definition, new))
    deployed_processes: set[str] = set()
    for info in report.processes:
        content = files[info.file_name]
        used = {name: forms[name] for name in sorted(info.forms)}
        source_hash = _source_hash(content, used)
        if unchanged_in_directory(info.key, source_hash):
            continue
        deployed_processes.add(info.key)
        before = latest.get(info.key)
        # Decision tables are pinned per version; called processes are not: a call starts
        # the latest version of the called process as a child instance.
        needed = sorted(info.called_decisions)
        # A process is a new version when a decision table it uses is: its instances pin them.
        content_hash = _sha256(
            content,
            *(f.content_hash.encode() for f in used.values()),
            *(latest[k].content_hash.encode() for k in needed if k in latest),
        )
        definition, new = _new_version(
            session,
            latest,
            deployment,
            deployed_by,
            now,
            kind="bpmn",
            key=info.key,
            name=info.name,
            file_name=info.file_name,
            content=content,
            content_hash=content_hash,
            lanes=info.lanes,
            start_role=info.start_role,
            start_form=info.start_form,
            start_ui_form=info.start_ui_form,
            forms={name: form.id for name, form in used.items()},
            dependencies=[str(latest[k].id) for k in needed if k in latest],
            source=source,
            source_hash=source_hash,
        )
        settle(before, definition, new, source_hash)
        result.append((definition, new))
    # Forms alone: the processes using them in another version take them (same diagram).
    new_forms = (
        {name: forms[name] for name in report.forms}
        if source == UPLOAD and not report.processes and not report.decisions
        else {}
    )
    result += _redeploy_dependents(
        session,
        latest,
        deployment,
        deployed_by,
        now,
        deployed_processes,
        forms=new_forms,
        source=source,
    )
    return Deployed(deployment, result, superseded)


def _source_hash(content: bytes, forms: dict[str, Form]) -> str:
    """The file and the forms it names (ProcessDefinition.source_hash)."""
    return _sha256(content, *(forms[name].content_hash.encode() for name in sorted(forms)))


def _redeploy_dependents(
    session,
    latest,
    deployment,
    deployed_by,
    now,
    uploaded: set[str],
    *,
    forms: dict[str, Form] | None = None,
    source: str = UPLOAD,
) -> list[tuple[ProcessDefinition, bool]]:
    """New versions of deployed processes (not in this upload) whose decision tables have newer
    versions now, or that use one of `forms` (form name -> the version just uploaded) in
    another version: the same diagram, pinned to the new tables and forms, so that deploying a
    changed .dmn or form alone changes what new instances decide and show.

    A new version keeps the source of the version it copies in a directory deployment (its
    diagram and forms are still that version's); after an upload it is an upload."""
    forms = forms or {}
    redeployed: list[tuple[ProcessDefinition, bool]] = []
    changed = True
    while changed:
        changed = False
        for current in [d for d in latest.values() if d.kind == "bpmn" and d.key not in uploaded]:
            used = [session.get(ProcessDefinition, int(i)) for i in current.dependencies]
            pinned_forms = {
                name: forms[name].id if name in forms else form_id
                for name, form_id in current.forms.items()
            }
            if all(latest[d.key].id == d.id for d in used) and pinned_forms == current.forms:
                continue
            pinned = [latest[d.key] for d in used]
            used_forms = {name: session.get(Form, i) for name, i in pinned_forms.items()}
            xml = current.xml.encode("utf-8")
            definition, _ = _new_version(
                session,
                latest,
                deployment,
                deployed_by,
                now,
                kind="bpmn",
                key=current.key,
                name=current.name,
                file_name=current.file_name,
                content=xml,
                content_hash=_sha256(
                    xml,
                    *(f.content_hash.encode() for f in used_forms.values()),
                    *(d.content_hash.encode() for d in pinned),
                ),
                lanes=current.lanes,
                start_role=current.start_role,
                start_form=current.start_form,
                start_ui_form=current.start_ui_form,
                forms=pinned_forms,
                dependencies=[str(d.id) for d in pinned],
                source=current.source if source == DIRECTORY else UPLOAD,
                source_hash=_source_hash(xml, used_forms),
            )
            redeployed.append((definition, True))
            changed = True
    return redeployed


def _new_version(
    session,
    latest,
    deployment,
    deployed_by,
    now,
    *,
    kind,
    key,
    name,
    file_name,
    content,
    content_hash,
    **extra,
) -> tuple[ProcessDefinition, bool]:
    current = latest.get(key)
    if current is not None and current.content_hash == content_hash and current.kind == kind:
        return current, False
    definition = ProcessDefinition(
        key=key,
        version=(current.version + 1) if current else 1,
        kind=kind,
        name=name,
        file_name=file_name,
        xml=content.decode("utf-8"),
        content_hash=content_hash,
        deployment_id=deployment.id,
        deployed_by=deployed_by,
        deployed_at=now,
        **extra,
    )
    session.add(definition)
    session.flush()
    latest[key] = definition
    return definition, True
