"""Storing uploads (type sniffed from the bytes, never trusted from the client) and who reads
them: the uploader, its station's staff, the student a file is about, college-wide roles; a
generated document whoever reads its process instance."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import PurePosixPath

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.principal import Principal
from xueji.errors import InvalidInput, NotFound, XuejiError
from xueji.instances.repository import readable_by as instances_readable_by
from xueji.models import Attachment, ProcessInstance, Student, Upload
from xueji.spreadsheets import to_bytes
from xueji.students.national_files import DBF_TYPE
from xueji.uploads.storage import Storage

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ACCEPTED = "JPEG or PNG images, PDF documents and XLSX spreadsheets"
# The only types a stored file is served as (sniffed from its bytes when stored).
# (generated national registration files are DBF too).
SERVED_TYPES = frozenset({"image/jpeg", "image/png", "application/pdf", XLSX, DBF_TYPE})


class UploadTooLarge(XuejiError):
    """The file is larger than the service accepts."""

    status_code = 413
    error = "UploadTooLarge"


def sniff_content_type(content: bytes) -> str | None:
    """The type the bytes are (one of the accepted ones), or None."""
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"PK\x03\x04") and _is_xlsx(content):
        return XLSX
    return None


def _is_xlsx(content: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return False
    return {"[Content_Types].xml", "xl/workbook.xml"} <= names


def check_size(content: bytes, limit: int) -> None:
    """Refuse a file of more than `limit` bytes (read `limit + 1` to know)."""
    if len(content) > limit:
        raise UploadTooLarge(f"the file is larger than {limit} bytes")


def store_upload(
    session: Session,
    storage: Storage,
    principal: Principal,
    file_name: str | None,
    content: bytes,
    student: Student | None,
) -> Upload:
    """Keep an uploaded file, tied to the student it is about (else the caller's own record) and
    that student's station (else the caller's station)."""
    if not content:
        raise InvalidInput([{"field": "file", "message": "the file is empty"}])
    content_type = sniff_content_type(content)
    if content_type is None:
        raise InvalidInput(
            [{"field": "file", "message": f"not an accepted file type: {ACCEPTED} only"}]
        )
    if student is None and principal.student_id is not None:
        student = session.get(Student, principal.student_id)
    upload = Upload(
        file_name=_clean_file_name(file_name),
        content_type=content_type,
        size=len(content),
        sha256=_put(storage, content),
        student_id=student.id if student else None,
        station_id=student.station_id if student else principal.station_id,
        generated=False,
        uploaded_by=principal.username,
        created_at=clock.now(),
    )
    session.add(upload)
    session.flush()
    return upload


def store_generated(
    session: Session,
    storage: Storage,
    file_name: str,
    document,
    *,
    instance_id: str,
    actor: str,
    station_id: int | None,
    student_id: int | None = None,
    content_type: str = XLSX,
) -> int:
    """Keep a document a service generated for an instance (an openpyxl workbook, or the bytes
    of an XLSX or of `content_type`); readable by whoever may read the instance. Its upload
    id."""
    content = document if isinstance(document, bytes) else to_bytes(document)
    upload = Upload(
        file_name=_clean_file_name(file_name),
        content_type=content_type,
        size=len(content),
        sha256=_put(storage, content),
        station_id=station_id,
        student_id=student_id,
        instance_id=instance_id,
        generated=True,
        uploaded_by=actor,
        created_at=clock.now(),
    )
    session.add(upload)
    session.flush()
    return upload.id


def _put(storage: Storage, content: bytes) -> str:
    key = hashlib.sha256(content).hexdigest()
    storage.put(key, content)
    return key


def content_of(upload: Upload, storage: Storage) -> bytes:
    """An upload's bytes: from the storage, or from its row when written before storage."""
    return upload.content if upload.content is not None else storage.get(upload.sha256)


def readable_by(principal: Principal, query: Select | None = None) -> Select:
    """Uploads the caller may read; a generated document follows its instance's scope, and
    whoever reads a case reads its attachments."""
    query = query if query is not None else select(Upload)
    if principal.sees_all_stations:
        return query
    own = [Upload.uploaded_by == principal.username]
    if principal.roles & {"station", "advisor"} and principal.station_id is not None:
        own.append(Upload.station_id == principal.station_id)
    if "student" in principal.roles and principal.student_id is not None:
        own.append(Upload.student_id == principal.student_id)
    instances = instances_readable_by(principal, select(ProcessInstance.id))
    attached = select(Attachment.upload_id).where(Attachment.instance_id.in_(instances))
    return query.where(
        or_(
            and_(Upload.generated.is_(False), or_(*own)),
            and_(Upload.generated.is_(True), Upload.instance_id.in_(instances)),
            Upload.id.in_(attached),
        )
    )


def get_readable(session: Session, principal: Principal, upload_id: int) -> Upload:
    upload = session.scalar(readable_by(principal).where(Upload.id == upload_id))
    if upload is None:
        raise NotFound(f"no upload {upload_id}")
    return upload


def _clean_file_name(name: str | None) -> str:
    base = PurePosixPath((name or "").replace("\\", "/")).name.strip()
    return (base or "unnamed")[-200:]
