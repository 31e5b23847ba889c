"""Time the export writers on 20,000 rows of the 毕业生学历注册 file (24 columns):
`.venv/bin/python bench/exports.py`."""

from __future__ import annotations

import time

from xueji.exports.files import Table, to_csv, to_xlsx
from xueji.students.national_files import GRADUATE_COLUMNS, read_dbf, to_dbf
from xueji.students.national_files import to_xlsx as national_xlsx

ROWS = 20_000
SAMPLE = {"XSH": "郑州函授站", "XM": "张伟", "SFZH": "41010519491231002X"}


def timed(make):
    start = time.perf_counter()
    result = make()
    return result, time.perf_counter() - start


def main() -> None:
    cols = list(GRADUATE_COLUMNS)
    rows = [{c: SAMPLE.get(c, "20260301") for c in cols} for _ in range(ROWS)]
    table = Table("毕业生学历注册", cols, [[row[c] for c in cols] for row in rows])
    dbf_file, dbf_write = timed(lambda: to_dbf(cols, rows))
    _, dbf_read = timed(lambda: read_dbf(dbf_file))
    _, list_xlsx = timed(lambda: to_xlsx(table))
    _, nat_xlsx = timed(lambda: national_xlsx("毕业生学历注册", cols, rows))
    _, csv_time = timed(lambda: to_csv(table))
    print(f"{ROWS} rows x {len(cols)} columns:")
    print(f"  DBF write {dbf_write:.1f} s ({len(dbf_file) / 1e6:.1f} MB), read {dbf_read:.1f} s")
    print(f"  XLSX list writer {list_xlsx:.1f} s, national XLSX {nat_xlsx:.1f} s")
    print(f"  CSV {csv_time:.2f} s")


if __name__ == "__main__":
    main()
