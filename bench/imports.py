"""A 20,000-row admissions (招生录取库) import, timed side by side in one run on a fresh
database with two baselines: reading the file alone, and writing the same rows the old way
(one ORM object per row, flushed one by one, without any check) in one transaction.

    .venv/bin/python bench/imports.py [--rows 20000]
    XUEJI_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/xueji_bench ... (optional)
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src")]

from openpyxl import Workbook  # noqa: E402
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


def workbook(rows: int) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("招生录取库")
    sheet.append(HEADER)
    for n in range(rows):
        station = "B01" if n % 2 else "B02"
        sheet.append(
            [
                f"27{n:012d}",
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("XUEJI_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
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


if __name__ == "__main__":
    main()
