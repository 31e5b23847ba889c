"""Running an import: read the file, check every row (by itself, within the file, against the
records), then write — all rows or none (`all_or_nothing`), or only the valid ones
(`valid_only`) — in one transaction, and keep the outcome on an ImportJob row.

The checks run in a read-only session, so the job's percent can be committed as it goes (on
SQLite a writer's transaction would block every other writer); the write transaction runs the
checks against the records once more before it inserts, so what another import wrote meanwhile
is reported, not inserted twice.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from xueji import clock
from xueji.auth.principal import Principal
from xueji.auth.roles import Role
from xueji.db.session import Database, session_scope
from xueji.errors import Forbidden, InvalidInput, NotFound
from xueji.imports import files
from xueji.imports.kinds import KINDS, Context, Kind, Lines
from xueji.models import ImportJob
from xueji.students import row_checks as rc

log = logging.getLogger(__name__)

MODES = ("all_or_nothing", "valid_only")
# A file with more rows than this runs as a background job (202); smaller ones in the request.
SYNC_ROWS = 1000
CHUNK = 2000  # rows checked between two progress reports
# A job not heard of for this long was cut off (its process stopped): it shows as failed.
STALE_AFTER = timedelta(minutes=10)
INTERRUPTED = "导入中断（服务已停止），没有写入任何数据，请重新导入"

Progress = Callable[[int], None]


def kind_for(principal: Principal, key: str) -> Kind:
    kind = KINDS.get(key)
    if kind is None:
        raise NotFound(f"no import kind {key!r}; known: {', '.join(KINDS)}")
    if not principal.has_role(*kind.roles):
        raise Forbidden(f"importing {key} needs one of the roles: {', '.join(kind.roles)}")
    return kind


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise InvalidInput(f"mode must be one of: {', '.join(MODES)}")
    return mode


def read_file(kind: Kind, content: bytes, file_name: str) -> Lines:
    try:
        _, lines = files.read(content, file_name, kind.columns)
    except files.FileUnreadable as exc:
        raise InvalidInput(f"{file_name}：{exc}") from None
    return lines


def _problems(
    session, principal: Principal, kind: Kind, lines: Lines, progress: Progress
) -> tuple[list[dict], Context]:
    found: list[dict] = []
    total = max(len(lines), 1)
    for start in range(0, len(lines), CHUNK):
        chunk = lines[start : start + CHUNK]
        found += [p for line, row in chunk for p in rc.check_row(kind.columns, line, row)]
        progress(int(50 * min(start + CHUNK, total) / total))
    found += rc.duplicates([r for _, r in lines], kind.unique, [n for n, _ in lines])
    ctx = Context(session, principal, rc.References(session))
    bad_lines = {p["row"] for p in found}
    # Rows that are bad by themselves are not looked up (their values may not be usable).
    found += kind.check(ctx, [(n, r) for n, r in lines if n not in bad_lines])
    progress(80)
    return sorted(found, key=lambda p: (p["row"], p["column"] or "")), ctx


def run_import(
    db: Database,
    principal: Principal,
    kind: Kind,
    lines: Lines,
    mode: str,
    progress: Progress = lambda _: None,
) -> tuple[int, list[dict]]:
    """Check and write; the rows written and every problem (nothing written when
    all_or_nothing and any row has a problem)."""
    with session_scope(db.reader) as session:
        problems, _ = _problems(session, principal, kind, lines, progress)
    if problems and mode == "all_or_nothing":
        return 0, problems
    bad = {p["row"] for p in problems}
    good = [(n, r) for n, r in lines if n not in bad]
    if not good:
        return 0, problems
    with session_scope(db.writer) as session:
        ctx = Context(session, principal, rc.References(session))
        late = kind.check(ctx, good)  # what changed since the first check
        if late and mode == "all_or_nothing":
            return 0, sorted(problems + late, key=lambda p: p["row"])
        late_lines = {p["row"] for p in late}
        written = kind.write(ctx, [(n, r) for n, r in good if n not in late_lines])
    progress(100)
    return written, sorted(problems + late, key=lambda p: p["row"])


# --- jobs ------------------------------------------------------------------------------


def create_job(
    db: Database, principal: Principal, kind: Kind, file_name: str, mode: str, total: int
) -> str:
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
            )
        )
    return job_id


def _set(db: Database, job_id: str, **values) -> None:
    with session_scope(db.writer) as session:
        session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id)
            .values(**values, updated_at=datetime.now(UTC))
        )


def run_job(
    db: Database, principal: Principal, kind: Kind, job_id: str, lines: Lines, mode: str
) -> None:
    """Run an import as the job `job_id`, its percent and outcome committed on its row."""
    last = [-1]

    def progress(percent: int) -> None:
        if percent != last[0] and percent < 100:
            last[0] = percent
            _set(db, job_id, percent=percent)

    _set(db, job_id, state="running")
    try:
        written, problems = run_import(db, principal, kind, lines, mode, progress)
    except Exception as exc:
        log.exception("import job %s failed", job_id)
        _set(db, job_id, state="failed", error=str(exc)[:500], finished_at=clock.now())
        return
    rows = lines if problems else []
    _set(
        db,
        job_id,
        state="rejected" if problems and not written and mode == "all_or_nothing" else "done",
        percent=100,
        written_rows=written,
        problems=problems,
        report=files.report(kind.title, kind.columns, rows, problems) if problems else None,
        finished_at=clock.now(),
    )


def start_job(
    db: Database, principal: Principal, kind: Kind, job_id: str, lines: Lines, mode: str
) -> None:
    """Run the job in a background thread of this process."""
    thread = threading.Thread(
        target=run_job,
        args=(db, principal, kind, job_id, lines, mode),
        name=f"import-{job_id[:8]}",
        daemon=True,
    )
    thread.start()


def readable_job(session, principal: Principal, job_id: str) -> ImportJob:
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
    if job.state in ("queued", "running") and job.updated_at < datetime.now(UTC) - STALE_AFTER:
        # Shown, not stored: the reader may be a GET; the write transaction never committed.
        session.expunge(job)
        job.state, job.error = "failed", INTERRUPTED
    return job
