"""Form fields that name uploads: `"x-upload": KIND` on an integer field (an upload id) or on
an array of them, at the top level, inside an object, or in the `items` of an array.

    image        照片: JPEG or PNG
    document     scans and proofs (专科毕业证复印件, 证明材料): JPEG, PNG or PDF
    spreadsheet  XLSX (标准库 files)
    file         any type the service accepts (JPEG, PNG, PDF, XLSX)

A submitted id is accepted only when the upload exists, belongs to the same process instance
(a document it generated) or was uploaded by the acting user, and is of the kind's types;
otherwise the field is named in a 422. An id of another student's scan is refused even when
the caller could read it: a case carries only files its own people put into it.

Once a form is accepted (a task completed, a process started, a message caught), `attach`
records each upload it names as an attachment of the instance (table `attachments`; the
instance's detail lists them, and whoever reads the instance reads them). An upload about one
student, or used by one student's case, is refused (422 naming the field) in the case of
another student.
Deploying a form that names an unknown kind is refused (`unknown_kinds`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.principal import Principal
from xueji.errors import FormInvalid
from xueji.models import Attachment, ProcessInstance, Upload

KEYWORD = "x-upload"
JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KINDS: dict[str, tuple[frozenset[str], str]] = {
    "image": (frozenset({JPEG, PNG}), "JPEG 或 PNG 图片"),
    "document": (frozenset({JPEG, PNG, PDF}), "JPEG、PNG 图片或 PDF 文件"),
    "spreadsheet": (frozenset({XLSX}), "XLSX 表格"),
    "file": (frozenset({JPEG, PNG, PDF, XLSX}), "图片、PDF 或 XLSX 文件"),
}


def _named(schema: Any, data: Any, path: list[str]) -> Iterator[tuple[str, str, Any]]:
    """(field path, kind, submitted id) for each upload id in `data`."""
    if not isinstance(schema, dict):
        return
    kind = schema.get(KEYWORD)
    if isinstance(kind, str):
        if isinstance(data, list):
            for index, value in enumerate(data):
                yield ".".join([*path, str(index)]), kind, value
        elif data is not None:
            yield ".".join(path), kind, data
        return
    if isinstance(data, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if name in data:
                yield from _named(sub, data[name], [*path, name])
    elif isinstance(data, list) and isinstance(schema.get("items"), dict):
        for index, value in enumerate(data):
            yield from _named(schema["items"], value, [*path, str(index)])


def upload_problems(
    session: Session,
    principal: Principal,
    schema: dict[str, Any] | None,
    data: Any,
    instance_id: str | None,
) -> list[dict[str, str]]:
    """Upload fields whose id is not an upload of this instance or of the caller, or not of
    the expected type, each as {field, message}."""
    if not schema:
        return []
    named = list(_named(schema, data, []))
    ids = {value for _, _, value in named if isinstance(value, int) and not isinstance(value, bool)}
    if not ids:
        return []
    owners = [Upload.uploaded_by == principal.username]
    if instance_id is not None:
        owners.append(Upload.instance_id == instance_id)
        attached = select(Attachment.upload_id).where(Attachment.instance_id == instance_id)
        owners.append(Upload.id.in_(attached))
    found = {
        upload.id: upload
        for upload in session.scalars(select(Upload).where(Upload.id.in_(ids), or_(*owners)))
    }
    problems = []
    for field, kind, value in named:
        upload = found.get(value) if isinstance(value, int) else None
        types, described = KINDS.get(kind, (frozenset(), kind))
        if upload is None:
            problems.append(
                {"field": field, "message": f"没有您上传的、或本流程的编号为 {value} 的文件"}
            )
        elif upload.content_type not in types:
            problems.append({"field": field, "message": f"文件 {upload.file_name} 不是{described}"})
    return problems


def attach(
    session: Session,
    principal: Principal,
    schema: dict[str, Any] | None,
    data: Any,
    instance: ProcessInstance,
    prefix: str = "",
) -> bool:
    """Record the uploads the accepted `data` names as the instance's attachments; 422 naming
    the field (`prefix` + its path) of one about another student, or used by another
    student's case. Whether the data named any upload."""
    if not schema:
        return False
    named = [(f, v) for f, _, v in _named(schema, data, []) if isinstance(v, int)]
    if not named:
        return False
    ids = {v for _, v in named}
    uploads = {u.id: u for u in session.scalars(select(Upload).where(Upload.id.in_(ids)))}
    used_by: dict[int, set[int]] = {}  # upload id → the students of the cases that used it
    rows = session.execute(
        select(Attachment.upload_id, ProcessInstance.student_id)
        .join(ProcessInstance, ProcessInstance.id == Attachment.instance_id)
        .where(Attachment.upload_id.in_(ids))
    )
    for upload_id, student_id in rows:
        if student_id is not None:
            used_by.setdefault(upload_id, set()).add(student_id)
    linked = set(
        session.scalars(
            select(Attachment.upload_id).where(
                Attachment.instance_id == instance.id, Attachment.upload_id.in_(ids)
            )
        )
    )
    problems = []
    for field, value in named:
        upload = uploads.get(value)
        if upload is None or value in linked:
            continue
        owners = set(used_by.get(value, set()))
        if upload.student_id is not None:
            owners.add(upload.student_id)
        if upload.generated and upload.instance_id is not None:
            maker = session.get(ProcessInstance, upload.instance_id)
            if maker is not None and maker.student_id is not None:
                owners.add(maker.student_id)
        if instance.student_id is not None and owners - {instance.student_id}:
            problems.append(
                {"field": prefix + field, "message": f"文件 {upload.file_name} 属于另一学生"}
            )
            continue
        linked.add(value)
        session.add(
            Attachment(
                instance_id=instance.id,
                upload_id=value,
                field=prefix + field,
                attached_by=principal.username,
                attached_at=clock.now(),
            )
        )
    if problems:
        raise FormInvalid(problems)
    session.flush()
    return True


def attachments_of(session: Session, instance_id: str) -> list[Upload]:
    """The uploads the instance's forms named, in the order they were attached."""
    return list(
        session.scalars(
            select(Upload)
            .join(Attachment, Attachment.upload_id == Upload.id)
            .where(Attachment.instance_id == instance_id)
            .order_by(Attachment.attached_at, Upload.id)
        )
    )


def unknown_kinds(schema: Any, path: str = "") -> list[str]:
    """Where a form names an upload kind that does not exist: refused on deploy."""
    if isinstance(schema, list):
        return [w for i, sub in enumerate(schema) for w in unknown_kinds(sub, f"{path}/{i}")]
    if not isinstance(schema, dict):
        return []
    found = []
    kind = schema.get(KEYWORD)
    if kind is not None and kind not in KINDS:
        found.append(f"{path or '/'} {kind!r}")
    for key, sub in schema.items():
        if key != KEYWORD and isinstance(sub, (dict, list)):
            found += unknown_kinds(sub, f"{path}/{key}")
    return found
