"""How each process describes its cases in the inbox: the kind of application and the parts
of its one-line summary, as templates over the case's data (`str.format_map`, `{a[b]}` for
nested values). A template whose values the case does not have (yet) is left out; the first
`kind` template that can be filled is the kind. The student (or, for a case without one, the
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
    kind: tuple[str, ...] = ()
    parts: tuple[str, ...] = ()
    name: tuple[str, ...] = ()

    def __call__(self, data: Mapping[str, Any]) -> tuple[str | None, list[str], str | None]:
        """(kind, parts, name) of a case with this data."""
        parts = [text for template in self.parts if (text := _fill(template, data))]
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


def _first(templates: tuple[str, ...], data: Mapping[str, Any]) -> str | None:
    return next((text for template in templates if (text := _fill(template, data))), None)


SUMMARIES: dict[str, Summary] = {
    "enrollment_checkin": Summary(
        kind=("新生报到",), parts=("{year}级", "考生号 {exam_number}"), name=("{name}",)
    ),
    "enrollment_registration": Summary(kind=("新生注册",), parts=("{year}级",)),
    "daily_records": Summary(kind=("日常学籍",)),
    "status_change": Summary(
        kind=("{application[kind]}", "{kind}"),
        parts=("{application[effective_term]}", "{effective_term}"),
    ),
    "photo_collection": Summary(kind=("图像采集",), parts=("{year}届",)),
    "photo_verification": Summary(kind=("图像校对",), parts=("{year}届",)),
    "graduation_registration": Summary(kind=("毕业注册",), parts=("{year} {season}",)),
    "grade_management": Summary(kind=("{kind}", "成绩管理"), parts=("{year} {term}",)),
    "thesis": Summary(kind=("毕业论文",), parts=("{year}届",)),
    "teaching_management": Summary(kind=("教学管理",), parts=("{year} {term}",)),
}
