"""Batch cost: a step in a child of a 20-student batch vs a 2,000-student batch, and the whole
batch run to its end, in one run on a fresh database.

    .venv/bin/python bench/batch.py [--small 20] [--large 2000]
    XUEJI_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/xueji_bench ... (optional)

Targets (issue 3): child step ratio large/small <= 2; whole large batch <= 1.5 x
(large/small) x the small batch's total.
"""

from __future__ import annotations

import argparse
import os
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
from xueji.definitions.repository import get_definition  # noqa: E402
from xueji.definitions.service import deploy  # noqa: E402
from xueji.instances.service import start_instance  # noqa: E402
from xueji.models import ProcessInstance, Station, Student, UserTask  # noqa: E402
from xueji.students.id_numbers import check_digit  # noqa: E402
from xueji.tasks import service as tasks  # noqa: E402
from xueji.wiring import build_runtime  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
REGISTRAR = Principal("registrar", "学籍管理员", frozenset({"registrar"}), None, None, None, None)


def student_principal(student: Student) -> Principal:
    return Principal(
        f"stu{student.id}",
        student.name,
        frozenset({"student"}),
        student.station_id,
        None,
        student.id,
        None,
    )


def setup(runtime, students: int) -> list[int]:
    with session_scope(runtime.db.writer) as session:
        station = Station(code="B01", name="测试函授站")
        session.add(station)
        session.flush()
        now = datetime.now(UTC)
        for index in range(students):
            digits = f"410102199001{index:05d}"[:17]
            session.add(
                Student(
                    station_id=station.id,
                    name=f"学生{index}",
                    gender="男",
                    id_number=digits + check_digit(digits),
                    level="专科",
                    major="会计",
                    intake_year=2026,
                    created_at=now,
                )
            )
        files = {
            p.name: p.read_bytes()
            for p in (FIXTURES / "batch_child.bpmn", FIXTURES / "batch_parent.bpmn")
        }
        deploy(session, files, "bench", 1 << 24, runtime.services)
    with runtime.db.reader() as session:
        return list(session.scalars(select(Student.id).order_by(Student.id)))


def run_batch(runtime, student_ids: list[int], timed_steps: int) -> dict:
    began = time.perf_counter()
    with session_scope(runtime.db.writer) as session:
        definition = get_definition(session, "batch_parent")
        parent, _attached = start_instance(
            session, runtime, REGISTRAR, definition, "bench", {"students": student_ids}
        )
        parent_id = parent.id
    started = time.perf_counter()
    with runtime.db.reader() as session:
        rows = session.execute(
            select(UserTask.id, Student)
            .join(ProcessInstance, ProcessInstance.id == UserTask.instance_id)
            .join(Student, Student.id == ProcessInstance.student_id)
            .where(ProcessInstance.parent_id == parent_id, UserTask.state == "ready")
        ).all()
    step_times = []
    for index, (task_id, student) in enumerate(rows):
        t0 = time.perf_counter()
        with session_scope(runtime.db.writer) as session:
            tasks.complete(session, runtime, student_principal(student), task_id, {"answer": "yes"})
        if index < timed_steps:  # children whose completion does not wake the parent
            step_times.append(time.perf_counter() - t0)
    with session_scope(runtime.db.writer) as session:
        summary = session.scalar(
            select(UserTask).where(UserTask.instance_id == parent_id, UserTask.state == "ready")
        )
        instance = tasks.complete(session, runtime, REGISTRAR, summary.id, {}).instance
        assert instance.state == "completed"
        assert len(instance.variables["results"]) == len(student_ids)
    return {
        "start": started - began,
        "total": time.perf_counter() - began,
        "step": statistics.median(step_times),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=20)
    parser.add_argument("--large", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("XUEJI_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
        runtime = build_runtime(
            Settings(database_url=url, data_dir=Path(tmp), secret_key="bench", run_worker=False)
        )
        upgrade(runtime.db.engine)
        ids = setup(runtime, args.large)
        small = run_batch(runtime, ids[: args.small], timed_steps=args.small - 1)
        large = run_batch(runtime, ids, timed_steps=args.small - 1)
        runtime.db.dispose()
    scale = args.large / args.small
    print(f"database: {runtime.db.engine.dialect.name}")
    print(f"{'batch':>8}{'start s':>10}{'child step ms':>15}{'total s':>10}")
    for n, r in ((args.small, small), (args.large, large)):
        print(f"{n:>8}{r['start']:>10.2f}{r['step'] * 1000:>15.2f}{r['total']:>10.2f}")
    print(f"child step ratio large/small: {large['step'] / small['step']:.2f} (target <= 2)")
    linear = large["total"] / (scale * small["total"])
    print(f"total large / ({scale:.0f} x total small): {linear:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
