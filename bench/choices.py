"""Cost of a form's choice lists: fetching a form with a student field (resolve) and checking a
submitted list of students (choice_problems), for a station of 100 and of 5,000 students.

    .venv/bin/python bench/choices.py [--students 100 5000]

A station at or below choices.INLINE_LIMIT gets the list inline (oneOf); above it, x-lookup
and one query of INLINE_LIMIT + 1 rows. The check is one query per 500 values sent.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src")]

from sqlalchemy import select  # noqa: E402

from xueji.auth.principal import Principal  # noqa: E402
from xueji.config import Settings  # noqa: E402
from xueji.db.migrate import upgrade  # noqa: E402
from xueji.db.session import session_scope  # noqa: E402
from xueji.forms import choices  # noqa: E402
from xueji.models import Station, Student  # noqa: E402
from xueji.students.id_numbers import check_digit  # noqa: E402
from xueji.wiring import build_runtime  # noqa: E402

FORM = {
    "type": "object",
    "properties": {
        "student": {"type": "integer", "x-choices": "students"},
        "students": {"type": "array", "items": {"type": "integer", "x-choices": "students"}},
    },
}


def station_of(runtime, code: str, students: int) -> tuple[Principal, list[int]]:
    with session_scope(runtime.db.writer) as session:
        station = Station(code=code, name=f"测试函授站{code}")
        session.add(station)
        session.flush()
        now = datetime.now(UTC)
        for index in range(students):
            digits = f"41{code[-2:]}02199001{index:05d}"[:17]
            session.add(
                Student(
                    station_id=station.id,
                    name=f"学生{index}",
                    gender="男",
                    id_number=digits + check_digit(digits),
                    student_number=f"{code}{index:08d}",
                    level="专科",
                    major="会计",
                    intake_year=2026,
                    created_at=now,
                )
            )
        station_id = station.id
    principal = Principal(
        f"station-{code}", code, frozenset({"station"}), station_id, code, None, None
    )
    with runtime.db.reader() as session:
        ids = list(session.scalars(select(Student.id).where(Student.station_id == station_id)))
    return principal, ids


def timed(fn, repeat: int = 20) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def measure(runtime, principal: Principal, ids: list[int]) -> tuple[str, float, float, float]:
    with runtime.db.reader() as session:
        schema, _ = choices.resolve(session, principal, FORM)
        assert schema is not None
        shape = "lookup" if "x-lookup" in schema["properties"]["student"] else "inline"
        fetch = timed(lambda: choices.resolve(session, principal, FORM))
        one = timed(lambda: choices.choice_problems(session, principal, FORM, {"student": ids[0]}))
        every = {"students": ids}
        assert choices.choice_problems(session, principal, FORM, every) == []
        check_all = timed(
            lambda: choices.choice_problems(session, principal, FORM, every), repeat=5
        )
    return shape, fetch, one, check_all


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, nargs="+", default=[100, 5000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runtime = build_runtime(
            Settings(
                database_url=f"sqlite:///{tmp}/bench.sqlite3",
                data_dir=Path(tmp),
                secret_key="bench",
                run_worker=False,
            )
        )
        upgrade(runtime.db.engine)
        print(f"{'students':>9}{'form':>8}{'fetch ms':>10}{'check 1 ms':>12}{'check all ms':>14}")
        for index, n in enumerate(args.students):
            principal, ids = station_of(runtime, f"B{index:02d}", n)
            shape, fetch, one, check_all = measure(runtime, principal, ids)
            print(f"{n:>9}{shape:>8}{fetch:>10.2f}{one:>12.2f}{check_all:>14.2f}")
        runtime.db.dispose()


if __name__ == "__main__":
    main()
