"""The 班级学籍注册名单 of a class of 1,000 and of 5,000 students as PDF (reportlab, the
embedded CJK font, the header row repeated on every page), timed next to a baseline in the
same run: the same rows as XLSX (openpyxl), printed side by side.

    .venv/bin/python bench/documents.py [--sizes 1000 5000] [--runs 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src")]

from xueji.config import Settings  # noqa: E402
from xueji.documents import rosters  # noqa: E402
from xueji.documents.layout import Kit, Letterhead  # noqa: E402
from xueji.models import Student  # noqa: E402


def roster(size: int) -> tuple[rosters.Roster, list[list[str]]]:
    students = [Student(name=f"学生{n:05d}", gender="男女"[n % 2]) for n in range(size)]
    head = Letterhead("班级学籍注册名单", "郑州函授站（S01）", f"会计2025级　共 {size} 人")
    cells = [
        [str(n), f"2025001{n:05d}", s.name, s.gender, "1999-05-06",
         f"41010219990506{n % 10000:04d}", "专科", "会计", "函授", "2025-03-01", "已注册", ""]
        for n, s in enumerate(students, start=1)
    ]  # fmt: skip
    return rosters.Roster(head, students, "班级学籍注册名单_bench"), cells


def best_of(runs: int, make) -> tuple[float, bytes]:
    """The fastest of `runs` (the machine is shared), and the output."""
    times, content = [], b""
    for _ in range(runs):
        start = time.perf_counter()
        content = make()
        times.append(time.perf_counter() - start)
    return min(times), content


def measure(kit: Kit, college: str, size: int, runs: int) -> str:
    data, cells = roster(size)
    pdf, pdf_file = best_of(runs, lambda: rosters.class_roster_pdf(kit, data, cells))
    xlsx, xlsx_file = best_of(runs, lambda: rosters.class_roster_xlsx(college, data, cells))
    pages = pdf_file.count(b"/Type /Page\n")
    return (
        f"{size:>6} {pdf:>8.2f} {pages:>6} {len(pdf_file) / 1e6:>7.2f} {xlsx:>8.2f} "
        f"{len(xlsx_file) / 1e6:>8.2f} {pdf / xlsx:>8.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    settings = Settings()
    kit = Kit(settings, date(2027, 3, 1))
    columns = ("rows", "PDF s", "pages", "PDF MB", "XLSX s", "XLSX MB", "PDF/XLSX")
    print(" ".join(f"{c:>{w}}" for c, w in zip(columns, (6, 8, 6, 7, 8, 8, 9), strict=True)))
    for size in args.sizes:
        print(measure(kit, settings.college_name, size, args.runs))


if __name__ == "__main__":
    main()
