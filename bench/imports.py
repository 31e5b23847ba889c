"""A 20,000-row admissions (招生录取库) import, timed side by side in one run on a fresh
database with two baselines: reading the file alone, and writing the same rows the old way
(one ORM object per row, flushed one by one, without any check) in one transaction. Then the
same number of rows posted over HTTP to a running `xueji serve` (its worker runs the job),
timed from the POST to the job's `done`.

    .venv/bin/python bench/imports.py [--rows 20000] [--no-http]
    XUEJI_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/imports.py    # on PostgreSQL: a database made and dropped
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src")]

from openpyxl import Workbook  # noqa: E402
from service import postgres_database  # noqa: E402  (bench/service.py)
from sqlalchemy import delete, func, select  # noqa: E402

from xueji.auth.principal import Principal  # noqa: E402
from xueji.db.migrate import upgrade  # noqa: E402
from xueji.db.session import open_database, session_scope  # noqa: E402
from xueji.imports import service  # noqa: E402
from xueji.imports.kinds import KINDS  # noqa: E402
from xueji.models import Admission, Major, Station  # noqa: E402
from xueji.students.id_numbers import check_digit  # noqa: E402

REGISTRAR = Principal("registrar", "学籍管理员", frozenset({"registrar"}), None, None, None, None)
HEADER = ["KSH", "XM", "XB", "SFZH", "CC", "ZYDM", "ZYMC", "XSH", "NJ"]


def id_number(n: int) -> str:
    first = f"410101{date(1970, 1, 1) + timedelta(days=n // 1000):%Y%m%d}{n % 1000:03d}"
    return first + check_digit(first)


def workbook(rows: int, stations: tuple[str, str] = ("B01", "B02")) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("招生录取库")
    sheet.append(HEADER)
    for n in range(rows):
        station = stations[n % 2]
        sheet.append(
            [
                f"29{n:012d}",
                f"考生{n}",
                "男女"[n % 2],
                id_number(n),
                "专科",
                "630302",
                "会计",
                station,
                "2027",
            ]  # fmt: skip
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def timed(label: str, action) -> float:
    start = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - start
    print(f"{label:<44} {seconds:7.2f} s   {result}")
    return seconds


@contextlib.contextmanager
def fresh_database(tmp: str) -> Iterator[str]:
    """A new database: on the PostgreSQL server of XUEJI_BENCH_DATABASE_URL (made and
    dropped), else a SQLite file under `tmp`."""
    server = os.environ.get("XUEJI_BENCH_DATABASE_URL")
    if not server:
        yield f"sqlite:///{tmp}/bench-{uuid.uuid4().hex[:6]}.sqlite3"
        return
    with postgres_database(server, "xueji_bench") as url:
        yield url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def over_http(rows: int, tmp: str) -> float:
    """Post the rows to a running `xueji serve --demo` (its worker polling every 0.5 s); the
    seconds from the POST to the job's `done`."""
    content = workbook(rows, ("S01", "S02"))
    port = free_port()
    with fresh_database(tmp) as url:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("XUEJI_")},
            "PYTHONPATH": str(ROOT / "src"),
            "XUEJI_DATABASE_URL": url,
            "XUEJI_DATA_DIR": f"{tmp}/serve-var",
            "XUEJI_SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
            "XUEJI_WORKER_POLL_SECONDS": "0.5",
            "XUEJI_MAX_UPLOAD_BYTES": str(50 * 1024 * 1024),
            "XUEJI_PASSWORD_HASHING": "fast",
        }
        serve = subprocess.Popen(
            [sys.executable, "-m", "xueji.cli", "serve", "--demo", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}/api/v1"
            with httpx.Client(base_url=base, timeout=300) as client:
                deadline = time.monotonic() + 120
                while True:
                    try:
                        login = client.post(
                            "/auth/token", data={"username": "registrar", "password": "demo"}
                        )
                        if login.status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline or serve.poll() is not None:
                        raise RuntimeError("xueji serve did not start")
                    time.sleep(0.3)
                headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
                start = time.perf_counter()
                posted = client.post(
                    "/imports/admissions",
                    files={"file": ("录取.xlsx", content)},
                    headers=headers,
                )
                answered = time.perf_counter() - start
                assert posted.status_code == 202, posted.text[:300]
                job = posted.json()
                percents = [job["percent"]]
                while job["state"] in ("queued", "running"):
                    time.sleep(0.2)
                    job = client.get(f"/imports/jobs/{job['id']}", headers=headers).json()
                    if job["percent"] != percents[-1]:
                        percents.append(job["percent"])
                seconds = time.perf_counter() - start
                assert job["state"] == "done" and job["written_rows"] == rows, job
        finally:
            serve.terminate()
            serve.wait(timeout=30)
    print(
        f"{'over HTTP: POST to done (202 in ' + f'{answered:.2f} s)':<44} {seconds:7.2f} s   "
        f"{rows} rows written; percents polled: {percents}"
    )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--no-http", action="store_true", help="Skip the run over HTTP")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fresh_database(tmp) as url:
        db = open_database(url)
        upgrade(db.engine)
        with session_scope(db.writer) as session:
            session.execute(delete(Admission))
            for code in ("B01", "B02"):
                if session.scalar(select(Station).where(Station.code == code)) is None:
                    session.add(Station(code=code, name=f"测试函授站{code}"))
            if session.scalar(select(Major).where(Major.code == "630302")) is None:
                session.add(Major(code="630302", name="会计", level="专科", years="2.5"))
        content = workbook(args.rows)
        kind = KINDS["admissions"]
        print(f"{args.rows} rows, {len(content) / 1e6:.1f} MB XLSX, {db.engine.dialect.name}")

        read = timed(
            "read the file alone", lambda: f"{len(service.read_file(kind, content, 'a.xlsx'))} rows"
        )
        lines = service.read_file(kind, content, "a.xlsx")

        def per_row_orm() -> str:
            with session_scope(db.writer) as session:
                stations = {s.code: s.id for s in session.scalars(select(Station))}
                for _, row in lines:
                    session.add(
                        Admission(
                            exam_number=row["KSH"],
                            name=row["XM"],
                            gender=row["XB"],
                            id_number=row["SFZH"],
                            level=row["CC"],
                            major=row["ZYMC"],
                            station_id=stations[row["XSH"]],
                            intake_year=int(row["NJ"]),
                        )  # fmt: skip
                    )
                    session.flush()
                written = session.scalar(select(func.count()).select_from(Admission))
                session.rollback()  # leave the table empty for the import
            return f"{written} rows (no checks; rolled back)"

        baseline = timed("baseline: one ORM object per row, flushed", per_row_orm)

        def imported() -> str:
            written, problems = service.run_import(db, REGISTRAR, kind, lines, "all_or_nothing")
            assert not problems, problems[:3]
            return f"{written} rows written, every row checked"

        full = timed("import: check every row, bulk insert", imported)
        print(
            f"import of {args.rows} rows: {read + full:.2f} s with reading the file "
            f"({read:.2f} s of it); checks and writes {full:.2f} s, "
            f"{baseline / full:.1f} x faster than per-row ORM writes without any check"
        )
        db.dispose()
        if not args.no_http:
            over_http(args.rows, tmp)


if __name__ == "__main__":
    main()
