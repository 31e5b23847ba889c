"""Reading a flat file sent back (XLSX or CSV) as rows of named columns: what the imports and
the process steps that take the same files (process 8's uploaded grade sheet) read.

A header cell names its column by the national short name (`KSH`, as the templates write it
with the Chinese after it: `KSH 考生号`) or by its Chinese name alone (`考生号`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence

from openpyxl import load_workbook

from xueji.students.row_checks import Column

_KEY = re.compile(r"[A-Za-z]+")
READ_EVERY = 1000  # rows read between two progress reports


class FileUnreadable(ValueError):
    """Not an XLSX or CSV file of this template (the reason in Chinese)."""


def _text(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%Y%m%d")  # type: ignore[union-attr]
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).strip()


def _key(cell: str, columns: Sequence[Column]) -> str:
    by_label = {c.label: c.key for c in columns}
    if cell in by_label:
        return by_label[cell]
    match = _KEY.match(cell)
    return match[0].upper() if match else ""


def _lines(content: bytes, file_name: str) -> Iterator[Sequence[object]]:
    if is_csv(content, file_name):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = content.decode("gb18030")
            except UnicodeDecodeError:
                raise FileUnreadable(
                    "不是 XLSX 文件，也不是 UTF-8 或 GB18030 编码的 CSV 文件"
                ) from None
        yield from csv.reader(io.StringIO(text))
        return
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not XLSX
        raise FileUnreadable("无法读取此 XLSX 文件") from None
    try:
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    finally:
        workbook.close()


def is_csv(content: bytes, file_name: str) -> bool:
    return file_name.lower().endswith(".csv") or not content.startswith(b"PK")


def read(
    content: bytes,
    file_name: str,
    columns: Sequence[Column],
    progress: Callable[[int], None] | None = None,
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header's column keys and the non-blank rows with their sheet line (header = 1);
    `progress` hears the number of lines read every READ_EVERY."""
    lines = _lines(content, file_name)
    header = [_key(_text(cell), columns) for cell in next(lines, None) or ()]
    known = {c.key for c in columns}
    missing = [c.key for c in columns if c.required and c.key not in header]
    if missing:
        raise FileUnreadable("第一行应为列名（可下载模板）；缺少列：" + "、".join(missing))
    rows = []
    for line, values in enumerate(lines, 2):
        if progress is not None and line % READ_EVERY == 0:
            progress(line)
        texts = [_text(v) for v in values]
        if not any(texts):
            continue
        row = {c.key: "" for c in columns}
        for key, text in zip(header, texts, strict=False):
            if key in known:
                row[key] = text
        if "SFZH" in row:
            row["SFZH"] = row["SFZH"].upper()
        rows.append((line, {k: v for k, v in row.items() if k in known}))
    return header, rows
