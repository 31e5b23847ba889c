"""Deploying diagrams, decision tables and forms as new definition versions."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.roles import role_for_lane
from xueji.definitions.repository import latest_forms, latest_versions
from xueji.engine.validation import Catalog, Problem, Report, inspect_upload
from xueji.errors import DeploymentInvalid
from xueji.models import Deployment, Form, ProcessDefinition

ALLOWED_SUFFIXES = (".bpmn", ".bpmn20.xml", ".dmn", ".json")


@dataclass
class Deployed:
    deployment: Deployment
    definitions: list[tuple[ProcessDefinition, bool]]  # (definition, is it a new version)


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
                Problem(name, None, None, "unsupported file type: upload .bpmn, .dmn or form .json")
            )
        elif len(content) > max_bytes:
            problems.append(Problem(name, None, None, f"larger than {max_bytes} bytes"))
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
    return inspect_upload(files, _catalog(session, services))


def deploy(
    session: Session,
    files: dict[str, bytes],
    deployed_by: str,
    max_bytes: int,
    services: Collection[str],
) -> Deployed:
    """Deploy an upload; unchanged definitions keep their version. Raises DeploymentInvalid."""
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
    latest = {d.key: d for d in latest_versions(session, kind=None)}
    # Decisions first: processes that call them depend on their new versions.
    for info in report.decisions:
        content = files[info.file_name]
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
        )
        result.append((definition, new))
    for info in report.processes:
        content = files[info.file_name]
        used = {name: forms[name] for name in sorted(info.forms)}
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
        )
        result.append((definition, new))
    uploaded = {info.key for info in report.processes}
    result += _redeploy_dependents(session, latest, deployment, deployed_by, now, uploaded)
    return Deployed(deployment, result)


def _redeploy_dependents(
    session, latest, deployment, deployed_by, now, uploaded: set[str]
) -> list[tuple[ProcessDefinition, bool]]:
    """New versions of deployed processes (not in this upload) whose decision tables have newer
    versions now: the same diagram and forms, pinned to the new tables, so that deploying a
    changed .dmn alone changes what new instances decide."""
    redeployed: list[tuple[ProcessDefinition, bool]] = []
    changed = True
    while changed:
        changed = False
        for current in [d for d in latest.values() if d.kind == "bpmn" and d.key not in uploaded]:
            used = [session.get(ProcessDefinition, int(i)) for i in current.dependencies]
            if all(latest[d.key].id == d.id for d in used):
                continue
            pinned = [latest[d.key] for d in used]
            forms = [session.get(Form, i) for i in current.forms.values()]
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
                content=current.xml.encode("utf-8"),
                content_hash=_sha256(
                    current.xml.encode("utf-8"),
                    *(f.content_hash.encode() for f in forms),
                    *(d.content_hash.encode() for d in pinned),
                ),
                lanes=current.lanes,
                start_role=current.start_role,
                start_form=current.start_form,
                start_ui_form=current.start_ui_form,
                forms=current.forms,
                dependencies=[str(d.id) for d in pinned],
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
