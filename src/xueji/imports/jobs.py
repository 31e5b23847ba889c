"""Import jobs: each file imported is an ImportJob row, readable from any process.

A file of up to SYNC_ROWS rows is imported in the request that sent it. A larger one is kept in
the upload storage and answered 202 before it is parsed; the worker (`xueji worker`, or the one
inside `xueji serve`) claims it with a lease, like a timer, and runs it: reading, checking and
writing each move its percent, committed in short transactions of their own (each also renews
the lease). The rows and the job's outcome commit together in one transaction, so a job whose
worker died has written nothing: once its lease is past, another worker takes it again, up to
MAX_ATTEMPTS times.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.principal import Principal
from xueji.auth.roles import Role
from xueji.db.session import Database, session_scope
from xueji.errors import NotFound, XuejiError
from xueji.imports import files
from xueji.imports.kinds import KINDS, Kind, Lines
from xueji.imports.service import CHECKING, read_file, run_import
from xueji.models import ImportJob
from xueji.runtime import Runtime
from xueji.uploads.storage import storage_for

log = logging.getLogger(__name__)

# A file with more rows than this runs as a job in the worker (202); smaller ones in the request.
SYNC_ROWS = 1000
LEASE = timedelta(minutes=2)  # renewed by every progress report
MAX_ATTEMPTS = 3  # claims of one job (each a worker that started it) before it is failed
# A request-run job not heard of for this long was cut off (its process stopped).
STALE_AFTER = timedelta(minutes=10)
INTERRUPTED = "导入中断（服务已停止），没有写入任何数据，请重新导入"
UNFINISHED = ("queued", "running")


class LostClaim(Exception):
    """The job's lease passed and another worker took it: this run stops, writing nothing."""


def create_job(
    db: Database,
    principal: Principal,
    kind: Kind,
    file_name: str,
    mode: str,
    total: int,
    file_key: str | None = None,
) -> str:
    """A new job row (committed); with `file_key`, one for the worker to run."""
    job_id = str(uuid.uuid4())
    with session_scope(db.writer) as session:
        session.add(
            ImportJob(
                id=job_id,
                kind=kind.key,
                mode=mode,
                file_name=file_name[:200],
                state="queued",
                percent=0,
                total_rows=total,
                written_rows=0,
                created_by=principal.username,
                station_id=principal.station_id,
                created_at=clock.now(),
                updated_at=datetime.now(UTC),
                file_key=file_key,
                principal={**asdict(principal), "roles": sorted(principal.roles)}
                if file_key
                else None,
            )
        )
    return job_id


def queue_file(
    runtime: Runtime, principal: Principal, kind: Kind, file_name: str, mode: str, content: bytes
) -> str:
    """Keep the file in the upload storage and queue a job for the worker to run it."""
    key = hashlib.sha256(content).hexdigest()
    storage_for(runtime.settings).put(key, content)
    estimate = files.row_estimate(content, file_name)
    job_id = create_job(runtime.db, principal, kind, file_name, mode, estimate, file_key=key)
    runtime.wake.set()
    return job_id


def _set(db: Database, job_id: str, worker: str | None = None, **values: Any) -> None:
    """Change the job in a short transaction of its own; a worker's change renews its lease,
    and raises LostClaim when the job is no longer its own."""
    query = update(ImportJob).where(ImportJob.id == job_id)
    if worker is not None:
        query = query.where(ImportJob.claimed_by == worker)
        values["claim_expires_at"] = clock.now() + LEASE
    with session_scope(db.writer) as session:
        changed = session.execute(query.values(**values, updated_at=datetime.now(UTC))).rowcount
    if worker is not None and not changed:
        raise LostClaim(job_id)


def _outcome(kind: Kind, lines: Lines, mode: str, written: int, problems: list[dict]) -> dict:
    rows = lines if problems else []
    return {
        "state": "rejected" if problems and not written and mode == "all_or_nothing" else "done",
        "percent": 100,
        "written_rows": written,
        "problems": problems,
        "report": files.report(kind.title, kind.columns, rows, problems) if problems else None,
        "finished_at": clock.now(),
        "claimed_by": None,
        "claim_expires_at": None,
    }


def run_job(
    db: Database,
    principal: Principal,
    kind: Kind,
    job_id: str,
    lines: Lines,
    mode: str,
    worker: str | None = None,
) -> None:
    """Import `lines` as the job `job_id`: its percent committed as it goes, its outcome
    committed with the rows written. With `worker`, only while the job is that worker's."""
    last = [-1]

    def progress(percent: int) -> None:
        if percent != last[0] and percent < 100:
            last[0] = percent
            _set(db, job_id, worker, percent=percent)

    def finish(session: Session, written: int, problems: list[dict]) -> None:
        query = update(ImportJob).where(ImportJob.id == job_id)
        if worker is not None:
            query = query.where(ImportJob.claimed_by == worker)
        outcome = _outcome(kind, lines, mode, written, problems)
        if not session.execute(query.values(**outcome, updated_at=datetime.now(UTC))).rowcount:
            raise LostClaim(job_id)  # rolls the rows back with it
        done[0] = True

    done = [False]
    _set(db, job_id, worker, state="running", total_rows=len(lines))
    try:
        written, problems = run_import(
            db,
            principal,
            kind,
            lines,
            mode,
            progress,
            finish=finish,
            progress_while_writing=not db.is_sqlite,
        )
        if not done[0]:  # nothing was written: the outcome alone
            _set(db, job_id, worker, **_outcome(kind, lines, mode, written, problems))
    except LostClaim:
        raise
    except Exception as exc:
        log.exception("import job %s failed", job_id)
        detail = exc.detail if isinstance(exc, XuejiError) else exc
        _set(db, job_id, worker, state="failed", error=str(detail)[:500], finished_at=clock.now())


# --- the worker's side -------------------------------------------------------------------


def claim(db: Database, worker: str, now: datetime) -> str | None:
    """Claim the oldest queued job, or one whose worker's lease is past; its id. One that
    has been started MAX_ATTEMPTS times already is failed instead (and the next looked at)."""
    while True:
        with session_scope(db.writer) as session:
            query = (
                select(ImportJob)
                .where(
                    ImportJob.state.in_(UNFINISHED),
                    ImportJob.file_key.is_not(None),
                    or_(ImportJob.claimed_by.is_(None), ImportJob.claim_expires_at < now),
                )
                .order_by(ImportJob.created_at, ImportJob.id)
                .limit(1)
            )
            if not db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            job = session.scalar(query)
            if job is None:
                return None
            job.updated_at = datetime.now(UTC)
            if job.attempts >= MAX_ATTEMPTS:
                job.state, job.error, job.finished_at = "failed", INTERRUPTED, now
                job.claimed_by = job.claim_expires_at = None
                continue
            job.attempts += 1
            job.state, job.claimed_by, job.claim_expires_at = "running", worker, now + LEASE
            job.percent = 0  # a job taken again starts again
            return job.id


def run_claimed(runtime: Runtime, job_id: str, worker: str) -> None:
    """Run a job this worker claimed: read its stored file, then import it."""
    db = runtime.db
    with db.reader() as session:
        job = session.get(ImportJob, job_id)
        assert job is not None and job.file_key is not None and job.principal is not None
        kind, mode, file_name, key = KINDS[job.kind], job.mode, job.file_name, job.file_key
        fields = dict(job.principal)
    principal = Principal(**{**fields, "roles": frozenset(fields["roles"])})
    try:
        content = storage_for(runtime.settings).get(key)
        estimate = max(files.row_estimate(content, file_name), 1)

        def reading(line: int) -> None:
            _set(db, job_id, worker, percent=min(int(CHECKING * line / estimate), CHECKING - 1))

        lines = read_file(kind, content, file_name, reading)
    except LostClaim:
        raise
    except Exception as exc:  # an unreadable file, a lost object: no use trying again
        detail = exc.detail if isinstance(exc, XuejiError) else exc
        _set(db, job_id, worker, state="failed", error=str(detail)[:500], finished_at=clock.now())
        return
    run_job(db, principal, kind, job_id, lines, mode, worker)


def run_due(runtime: Runtime, worker: str, now: datetime) -> int:
    """Run every job there is to claim, one after another; how many were run."""
    ran = 0
    while (job_id := claim(runtime.db, worker, now)) is not None:
        try:
            run_claimed(runtime, job_id, worker)
        except LostClaim:
            log.warning("import job %s was taken over by another worker", job_id)
        ran += 1
    return ran


def readable_job(session: Session, principal: Principal, job_id: str) -> ImportJob:
    """A job its creator, college-wide staff, or the staff of the creator's station may see."""
    job = session.get(ImportJob, job_id)
    station_staff = principal.has_role(Role.STATION) and principal.station_id is not None
    visible = job is not None and (
        job.created_by == principal.username
        or principal.sees_all_stations
        or (station_staff and job.station_id == principal.station_id)
    )
    if not visible:
        raise NotFound(f"no import job {job_id}")
    assert job is not None
    stale = job.updated_at < datetime.now(UTC) - STALE_AFTER
    if job.file_key is None and job.state in UNFINISHED and stale:
        # A request's job whose process stopped. Shown, not stored: the reader may be a GET;
        # its write transaction never committed. (The worker's jobs are taken again.)
        session.expunge(job)
        job.state, job.error = "failed", INTERRUPTED
    return job
