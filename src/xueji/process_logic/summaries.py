"""How each process describes its cases in the inbox: the kind of application and the parts
of its one-line summary, as templates over the case's data (`str.format_map`, `{a[b]}` for
nested values), each with alternatives after `|`: the first one the case's data can fill
is taken, and a part none fills is left out. The student (or, for a case without one, the
`name` template) and the station are added by xueji.instances.summaries:

    休学 · 2027-春 · 张伟 (S01 郑州函授站)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from string import Formatter
from typing import Any

_FORMATTER = Formatter()


@dataclass(frozen=True)
class Summary:
    kind: str = ""
    parts: tuple[str, ...] = ()
    name: str = ""

    def __call__(self, data: Mapping[str, Any]) -> tuple[str | None, list[str], str | None]:
        """(kind, parts, name) of a case with this data."""
        parts = [text for part in self.parts if (text := _first(part, data))]
        return _first(self.kind, data), parts, _first(self.name, data)


def _fill(template: str, data: Mapping[str, Any]) -> str | None:
    try:
        values = [
            _FORMATTER.get_field(field, (), data)[0]
            for _text, field, _spec, _conv in _FORMATTER.parse(template)
            if field is not None
        ]
    except (KeyError, IndexError, TypeError):
        return None
    if any(value in (None, "", [], {}) for value in values):
        return None
    return template.format_map(data)


def _first(alternatives: str, data: Mapping[str, Any]) -> str | None:
    filled = (_fill(template, data) for template in alternatives.split("|") if template)
    return next((text for text in filled if text), None)


SUMMARIES: dict[str, Summary] = {
    "enrollment_checkin": Summary("新生报到", ("{year}级", "考生号 {exam_number}"), "{name}"),
    "enrollment_registration": Summary("新生注册", ("{year}级",)),
    "daily_records": Summary("日常学籍"),
    "status_change": Summary(
        "{application[kind]}|{kind}", ("{application[effective_term]}|{effective_term}",)
    ),
    "photo_collection": Summary("图像采集", ("{year}届",)),
    "photo_verification": Summary("图像校对", ("{year}届",)),
    "graduation_registration": Summary("毕业注册", ("{year} {season}",)),
    "grade_management": Summary("{kind}|成绩管理", ("{year} {term}",)),
    "thesis": Summary("毕业论文", ("{year}届",)),
    "teaching_management": Summary("教学管理", ("{year} {term}",)),
}
