"""Uploads: files users send (photos, scans) and documents the service generates."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Response, UploadFile

from xueji.auth.dependencies import CurrentUser
from xueji.db.dependencies import DbSession
from xueji.models import Station, Upload
from xueji.paging import MAX_ID, RowId
from xueji.runtime import AppRuntime
from xueji.students.repository import get_readable as get_readable_student
from xueji.uploads import service
from xueji.uploads.schemas import UploadOut
from xueji.uploads.storage import storage_for

router = APIRouter(prefix="/uploads", tags=["uploads"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such upload, or not yours to see"}
}


def upload_out(session, upload: Upload) -> UploadOut:
    station = session.get(Station, upload.station_id) if upload.station_id else None
    return UploadOut(
        id=upload.id,
        file_name=upload.file_name,
        content_type=upload.content_type,
        size=upload.size,
        sha256=upload.sha256,
        station=station.code if station else None,
        student=upload.student_id,
        instance_id=upload.instance_id,
        generated=upload.generated,
        uploaded_by=upload.uploaded_by,
        created_at=upload.created_at,
    )


@router.post(
    "",
    status_code=201,
    response_model=UploadOut,
    responses={
        404: {"description": "The student named is not yours to see"},
        413: {"description": "Larger than the configured limit (max_upload_bytes)"},
        422: {"description": "Empty, or not a JPEG/PNG image, PDF or XLSX file"},
    },
)
def create_upload(
    session: DbSession,
    principal: CurrentUser,
    runtime: AppRuntime,
    file: Annotated[UploadFile, File(description="JPEG, PNG, PDF or XLSX")],
    student: Annotated[
        int | None,
        Form(
            ge=1, le=MAX_ID, description="Id of the student the file is about (default: yourself)"
        ),
    ] = None,
) -> UploadOut:
    """Upload a photo, scan or spreadsheet; it belongs to the student and station it is about."""
    limit = runtime.settings.max_upload_bytes
    content = file.file.read(limit + 1)
    service.check_size(content, limit)
    about = get_readable_student(session, principal, student) if student is not None else None
    upload = service.store_upload(
        session, storage_for(runtime.settings), principal, file.filename, content, about
    )
    return upload_out(session, upload)


@router.get("/{upload_id}", response_model=UploadOut, responses=NOT_FOUND)
def get_upload(upload_id: RowId, session: DbSession, principal: CurrentUser) -> UploadOut:
    """An upload's metadata: name, sniffed type, size, SHA-256, owner."""
    return upload_out(session, service.get_readable(session, principal, upload_id))


@router.get(
    "/{upload_id}/content",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, **NOT_FOUND},
)
def get_upload_content(
    upload_id: RowId, session: DbSession, principal: CurrentUser, runtime: AppRuntime
) -> Response:
    """The file's bytes with the type sniffed when it was stored: an image or PDF inline, anything
    else as an attachment; never HTML (an unknown type is application/octet-stream)."""
    upload = service.get_readable(session, principal, upload_id)
    content = service.content_of(upload, storage_for(runtime.settings))
    return Response(content, media_type=None, headers=served_headers(upload))


INLINE = {"image/jpeg", "image/png", "application/pdf"}


def served_headers(upload: Upload) -> dict[str, str]:
    """Headers that keep a browser from running a file: its checked type only (a type we do not
    accept, e.g. from an old row, is served as bytes), no sniffing, no scripts."""
    known = upload.content_type in service.SERVED_TYPES
    content_type = upload.content_type if known else "application/octet-stream"
    disposition = "inline" if content_type in INLINE else "attachment"
    headers = {
        "Content-Type": content_type,
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(upload.file_name)}",
        "X-Content-Type-Options": "nosniff",
    }
    if content_type != "application/pdf":  # a sandboxed PDF does not render in Chromium
        headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return headers
