"""Running an import: read the file, check every row (by itself, within the file, against the
records), then write — all rows or none (`all_or_nothing`), or only the valid ones
(`valid_only`) — in one transaction, in chunks, and keep the outcome on an ImportJob row.

The checks run in a read-only session, so a job's percent can be committed as it goes (on
SQLite a writer's transaction would block every other writer); the write transaction runs the
checks against the records once more before it inserts, so what another import wrote meanwhile
is reported, not inserted twice. A large file runs as a job in the worker (imports/jobs.py).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from xueji.auth.principal import Principal
from xueji.db.session import Database, session_scope
from xueji.errors import Forbidden, InvalidInput, NotFound
from xueji.imports.kinds import KINDS, Context, Kind, Lines
from xueji.students import row_checks as rc
from xueji.students import sheet_reading

MODES = ("all_or_nothing", "valid_only")
CHUNK = 2000  # rows checked, and rows written, between two progress reports
# Where the phases start, in percent (a job's reading of its file comes before, from 0).
CHECKING, WRITING = 30, 75

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


def read_file(
    kind: Kind, content: bytes, file_name: str, progress: Callable[[int], None] | None = None
) -> Lines:
    try:
        _, lines = sheet_reading.read(content, file_name, kind.columns, progress)
    except sheet_reading.FileUnreadable as exc:
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
        progress(CHECKING + int(40 * min(start + CHUNK, total) / total))
    found += rc.duplicates([r for _, r in lines], kind.unique, [n for n, _ in lines])
    ctx = Context(session, principal, rc.References(session))
    bad_lines = {p["row"] for p in found}
    # Rows that are bad by themselves are not looked up (their values may not be usable).
    found += kind.check(ctx, [(n, r) for n, r in lines if n not in bad_lines])
    progress(WRITING - 5)
    return sorted(found, key=lambda p: (p["row"], p["column"] or "")), ctx


Finish = Callable[[Session, int, list[dict]], None]


def run_import(
    db: Database,
    principal: Principal,
    kind: Kind,
    lines: Lines,
    mode: str,
    progress: Progress = lambda _: None,
    *,
    finish: Finish | None = None,
    progress_while_writing: bool = True,
) -> tuple[int, list[dict]]:
    """Check and write; the rows written and every problem (nothing written when
    all_or_nothing and any row has a problem). The rows are written CHUNK at a time in one
    transaction, `progress` told after each chunk unless not `progress_while_writing` (its
    report needs a transaction of its own, which SQLite's one writer cannot give); `finish`
    runs inside that transaction, after the rows, when anything was written."""
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
        rows = [(n, r) for n, r in good if n not in late_lines]
        written = 0
        for start in range(0, len(rows), CHUNK):
            written += kind.write(ctx, rows[start : start + CHUNK])
            if progress_while_writing:
                progress(WRITING + int(24 * min(start + CHUNK, len(rows)) / len(rows)))
        problems = sorted(problems + late, key=lambda p: p["row"])
        if finish is not None and written:
            finish(session, written, problems)
    progress(100)
    return written, problems
