"""Imports (`/imports/...`: templates, imports, jobs and their reports) and the admissions list
(`/admissions`)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import false, func, or_, select

from xueji.audit.dependencies import Audited
from xueji.auth.dependencies import CurrentUser
from xueji.auth.principal import Principal
from xueji.auth.roles import Role
from xueji.db.dependencies import DbSession
from xueji.errors import NotFound
from xueji.imports import files, jobs, service
from xueji.imports.kinds import KINDS
from xueji.models import Admission, ImportJob, Station
from xueji.paging import Paging
from xueji.runtime import AppRuntime
from xueji.students.service import FULL_ID_NUMBER_ROLES, mask_id_number
from xueji.uploads.service import check_size

router = APIRouter(tags=["imports"])

KindKey = Annotated[str, Path(max_length=30, description="; ".join(KINDS))]
JobId = Annotated[str, Path(min_length=36, max_length=36, description="The job's UUID")]


def _xlsx(content: bytes, file_name: str) -> Response:
    return _download(content, files.XLSX_TYPE, file_name)


def _download(content: bytes, media_type: str, file_name: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(file_name)}",
            "X-Content-Type-Options": "nosniff",
        },
    )


class ImportProblem(BaseModel):
    row: int = Field(description="Line of the sheet (the header is line 1)")
    column: str | None = Field(description="National column name, e.g. SFZH")
    message: str = Field(description="The reason, in Chinese")
    KSH: str = ""
    XM: str = ""


class ImportJobOut(BaseModel):
    id: str
    kind: str
    mode: str
    file_name: str
    state: str = Field(description="queued, running, done, rejected (nothing written), failed")
    percent: int
    total_rows: int
    written_rows: int
    problems: list[ImportProblem] = Field(description="Every problem, by row and column")
    report: str | None = Field(description="The file with its bad cells marked (XLSX)")
    error: str | None
    created_by: str


def job_out(job: ImportJob) -> ImportJobOut:
    return ImportJobOut(
        id=job.id,
        kind=job.kind,
        mode=job.mode,
        file_name=job.file_name,
        state=job.state,
        percent=job.percent,
        total_rows=job.total_rows,
        written_rows=job.written_rows,
        problems=[ImportProblem(**p) for p in job.problems or []],
        report=f"/api/v1/imports/jobs/{job.id}/report" if job.report is not None else None,
        error=job.error,
        created_by=job.created_by,
    )


@router.get(
    "/imports/{kind}/template",
    response_class=Response,
    responses={
        200: {"content": {files.XLSX_TYPE: {}, "text/csv": {}}},
        404: {"description": "Unknown kind"},
    },
)
def get_template(
    kind: KindKey,
    principal: CurrentUser,
    format: Annotated[
        str, Query(pattern="^(xlsx|csv)$", description="xlsx (default) or csv (UTF-8)")
    ] = "xlsx",
) -> Response:
    """The empty template of an import (anyone may read it): its header row names exactly the
    columns the import reads."""
    spec = KINDS.get(kind)
    if spec is None:
        raise NotFound(f"no import kind {kind!r}; known: {', '.join(KINDS)}")
    if format == "csv":
        content = files.csv_template(spec.columns)
        return _download(content, "text/csv; charset=utf-8", f"{spec.title}模板.csv")
    return _xlsx(files.template(spec.title, spec.columns), f"{spec.title}模板.xlsx")


@router.post(
    "/imports/{kind}",
    dependencies=[Audited("import")],
    response_model=ImportJobOut,
    responses={
        202: {"model": ImportJobOut, "description": "A large file: the job runs; poll it"},
        403: {"description": "Not a role that imports this kind"},
        404: {"description": "Unknown kind"},
        413: {"description": "Larger than the configured limit (max_upload_bytes)"},
        422: {"description": "Not a readable file of the template, or an unknown mode"},
    },
)
def post_import(
    kind: KindKey,
    session: DbSession,
    principal: CurrentUser,
    runtime: AppRuntime,
    file: Annotated[UploadFile, File(description="XLSX or CSV with the template's header")],
    mode: Annotated[
        str, Form(description="all_or_nothing (default) or valid_only")
    ] = "all_or_nothing",
) -> Any:
    """Import a file: every row checked; a small file is done when this answers (state done or
    rejected, with the problems); a large one (over 1,000 rows) is stored and answers 202 at
    once, before it is read: the worker runs it as a job to poll."""
    spec = service.kind_for(principal, kind)
    service.check_mode(mode)
    # The request's transaction ends here: on SQLite it would hold the write lock that the
    # import's own transactions need.
    session.commit()
    limit = runtime.settings.max_upload_bytes
    content = file.file.read(limit + 1)
    check_size(content, limit)
    name = file.filename or f"{spec.title}.xlsx"
    db = runtime.db
    queued = files.row_estimate(content, name) > jobs.SYNC_ROWS
    if queued:
        job_id = jobs.queue_file(runtime, principal, spec, name, mode, content)
    else:
        lines = service.read_file(spec, content, name)
        job_id = jobs.create_job(db, principal, spec, name, mode, len(lines))
        jobs.run_job(db, principal, spec, job_id, lines, mode)
    with db.reader() as reader:
        out = job_out(jobs.readable_job(reader, principal, job_id))
    if queued:
        return JSONResponse(out.model_dump(), status_code=202)
    return out


@router.get(
    "/imports/jobs/{job_id}",
    response_model=ImportJobOut,
    responses={404: {"description": "No such job, or not yours to see"}},
)
def get_job(job_id: JobId, session: DbSession, principal: CurrentUser) -> ImportJobOut:
    """An import's state and percent (poll while queued or running), problems and report."""
    return job_out(jobs.readable_job(session, principal, job_id))


@router.get(
    "/imports/jobs/{job_id}/report",
    response_class=Response,
    responses={
        200: {"content": {files.XLSX_TYPE: {}}},
        404: {"description": "No such job, not yours, or no problems to report"},
    },
)
def get_report(job_id: JobId, session: DbSession, principal: CurrentUser) -> Response:
    """The imported file again, every bad cell filled red with its reasons as a comment."""
    job = jobs.readable_job(session, principal, job_id)
    if job.report is None:
        raise NotFound("this import has no problems to report")
    title = KINDS[job.kind].title
    return _xlsx(job.report, f"{title}导入校验结果.xlsx")


# --- the admissions list (招生录取库) --------------------------------------------------


class AdmissionOut(BaseModel):
    id: int
    exam_number: str = Field(description="考生号 (KSH)")
    name: str
    gender: str
    id_number: str = Field(description="身份证号; digits 7-14 masked for roles that see less")
    level: str
    major: str
    station: str
    intake_year: int


class AdmissionPage(BaseModel):
    items: list[AdmissionOut]
    total: int
    page: int
    per_page: int


def _admission_scope(principal: Principal):
    """College-wide roles see every admission, station staff their station's, others none."""
    if principal.sees_all_stations:
        return None
    if principal.roles & {Role.STATION, Role.ADVISOR} and principal.station_id is not None:
        return Admission.station_id == principal.station_id
    return false()


@router.get("/admissions", response_model=AdmissionPage)
def list_admissions(
    session: DbSession,
    principal: CurrentUser,
    paging: Paging,
    station: Annotated[str | None, Query(max_length=20, description="Station code")] = None,
    intake: Annotated[int | None, Query(ge=1900, le=2999, description="年级")] = None,
    q: Annotated[str | None, Query(max_length=40, description="Part of 考生号 or name")] = None,
) -> AdmissionPage:
    """The admissions list (招生录取库) the caller may see, in 考生号 order."""
    query = select(Admission, Station.code).join(Station, Station.id == Admission.station_id)
    if (clause := _admission_scope(principal)) is not None:
        query = query.where(clause)
    if station:
        query = query.where(Station.code == station)
    if intake is not None:
        query = query.where(Admission.intake_year == intake)
    if q and q.strip():
        pattern = f"%{q.strip()}%"
        query = query.where(or_(Admission.exam_number.like(pattern), Admission.name.like(pattern)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(Admission.exam_number)
        .offset((paging.page - 1) * paging.per_page)
        .limit(paging.per_page)
    ).all()
    full = principal.has_role(*FULL_ID_NUMBER_ROLES)
    return AdmissionPage(
        items=[
            AdmissionOut(
                id=a.id,
                exam_number=a.exam_number,
                name=a.name,
                gender=a.gender,
                id_number=a.id_number if full else mask_id_number(a.id_number),
                level=a.level,
                major=a.major,
                station=code,
                intake_year=a.intake_year,
            )
            for a, code in rows
        ],
        total=total,
        page=paging.page,
        per_page=paging.per_page,
    )
