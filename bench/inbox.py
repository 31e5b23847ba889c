"""The inbox at volume: a station's inbox among 20,000 open tasks (and as many finished ones),
its first page sorted by due date, a deep page by offset and the same depth by keyset
cursor, a search by 学号, and the tabs' counts, each timed as the endpoints run them.

    .venv/bin/python bench/inbox.py [--tasks 20000]
    XUEJI_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/xueji_bench ... (optional)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src")]

from sqlalchemy import insert, select  # noqa: E402

from xueji import clock  # noqa: E402
from xueji.auth.principal import Principal  # noqa: E402
from xueji.config import Settings  # noqa: E402
from xueji.db.session import session_scope  # noqa: E402
from xueji.models import ProcessDefinition, ProcessInstance, Station, Student, UserTask  # noqa: E402
from xueji.paging import Page  # noqa: E402
from xueji.startup import prepare  # noqa: E402
from xueji.tasks.repository import (  # noqa: E402
    InboxFilters,
    filtered_inbox,
    inbox_counts,
    keyset_page,
    keyset_segments,
    sort_value,
)
from xueji.wiring import build_runtime  # noqa: E402


def seed(runtime, count: int) -> tuple[Principal, str]:
    """`count` open tasks (and as many completed ones) of 学籍异动 cases, half of them S01's,
    written in bulk; the S01 station user and one student's 学号."""
    now = clock.now()
    with session_scope(runtime.db.writer) as session:
        definition = session.scalar(
            select(ProcessDefinition).where(ProcessDefinition.key == "status_change")
        )
        stations = list(session.scalars(select(Station).order_by(Station.code)))[:2]
        students = []
        for n in range(count // 10):
            station = stations[n % 2]
            students.append(
                {
                    "station_id": station.id,
                    "student_number": f"2026{n:08d}",
                    "name": f"学生{n}",
                    "gender": "男",
                    "id_number": f"41010419900101{n:04d}"[:18],
                    "level": "专科",
                    "major": "会计",
                    "intake_year": 2026,
                    "status": "在籍",
                    "created_at": now,
                }
            )
        session.execute(insert(Student), students)
        ids = dict(
            session.execute(
                select(Student.student_number, Student.id).where(
                    Student.student_number.like("2026%")
                )
            ).all()
        )
        instances, tasks = [], []
        for n in range(count * 2):
            s = students[(n // 2) % len(students)]
            instance_id = str(uuid.uuid4())
            instances.append(
                {
                    "id": instance_id,
                    "definition_id": definition.id,
                    "definition_key": definition.key,
                    "business_key": f"YD-{n}",
                    "station_id": s["station_id"],
                    "student_id": ids[s["student_number"]],
                    "state": "running",
                    "engine_state": "{}",
                    "variables": {},
                    "version": 1,
                    "started_by": "bench",
                    "started_at": now,
                    "updated_at": now,
                }
            )
            created = now - timedelta(minutes=n)
            station_name = next(st.name for st in stations if st.id == s["station_id"])
            tasks.append(
                {
                    "id": str(uuid.uuid4()),
                    "instance_id": instance_id,
                    "element_id": "station_review",
                    "name": "函授站签署审核意见",
                    "role": "station",
                    "station_id": s["station_id"],
                    "student_id": ids[s["student_number"]],
                    "state": "ready" if n % 2 else "completed",
                    "created_at": created,
                    "due_at": created + timedelta(days=7, minutes=(n * 37) % 5000),
                    "summary": f"休学 · 2027-春 · {s['name']} ({station_name})",
                    "kind": "休学" if n % 3 else "退学",
                    "subject_name": s["name"],
                    "escalation_level": 0,
                    "version": 1,
                }
            )
        session.execute(insert(ProcessInstance), instances)
        session.execute(insert(UserTask), tasks)
        station = stations[0]
    principal = Principal(
        "bench_station", "函授站", frozenset({"station"}), station.id, station.code, None, None
    )
    return principal, students[0]["student_number"]


def timed(label: str, action, runs: int = 5) -> None:
    best, result = None, None
    for _ in range(runs):
        start = time.perf_counter()
        result = action()
        seconds = time.perf_counter() - start
        best = seconds if best is None else min(best, seconds)
    print(f"{label:<52} {best * 1000:8.1f} ms (best of {runs})   {result}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("XUEJI_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
        settings = Settings(database_url=url, data_dir=Path(tmp), demo=True, run_worker=False)
        runtime = build_runtime(settings)
        prepare(runtime)
        start = time.perf_counter()
        principal, number = seed(runtime, args.tasks)
        # Statistics as the databases' own maintenance keeps them (autovacuum, `ANALYZE`).
        with runtime.db.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        print(
            f"{args.tasks} open + {args.tasks} finished tasks seeded in "
            f"{time.perf_counter() - start:.1f} s ({runtime.db.engine.dialect.name})"
        )
        per_page, depth = 50, 100
        with runtime.db.reader() as session:
            due = InboxFilters(sort="due")
            query = filtered_inbox(principal, due)

            def first_page():
                rows, total = Page(1, per_page).fetch(session, query)
                return f"{len(rows)} rows of {total}"

            def offset_page():
                rows, _total = Page(depth, per_page).fetch(session, query)
                return f"page {depth}: {len(rows)} rows"

            rows = list(session.scalars(query.limit(per_page * (depth - 1))))
            last = rows[-1]
            after = (sort_value(last, "due"), last.id)

            def cursor_page():
                found = keyset_page(session, keyset_segments(query, "due", after), per_page, {})
                return f"page {depth}: {len(found)} rows (no count)"

            def search():
                found = list(
                    session.scalars(
                        filtered_inbox(principal, InboxFilters(q=number, sort="due")).limit(50)
                    )
                )
                return f"{len(found)} rows"

            timed(f"first page, sort=due, with its total ({per_page} a page)", first_page)
            timed(f"page {depth} by page= (offset, with total)", offset_page)
            timed(f"page {depth} by cursor (keyset)", cursor_page)
            timed("search q=学号", search)
            timed("counts per tab (one query)", lambda: inbox_counts(session, principal, query))
        runtime.db.dispose()


if __name__ == "__main__":
    main()
