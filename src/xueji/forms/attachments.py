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
Deploying a form that names an unknown kind is refused (`unknown_kinds`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from xueji.auth.principal import Principal
from xueji.models import Upload

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
