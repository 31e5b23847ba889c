"""Deadlines of the academic calendar: due dates of tasks from the rules the diagrams carry.

A user task names its deadline in the property `dueDate` (spiffworkflow:properties):

- `03-15`                    3 月 15 日前 of the instance's year (variable `year`)
- `春季:10-25@-1;秋季:04-25`  by season (variable `season`); `@-1` = of the previous year,
                             `@+1` of the next
- a term (variable `term`, e.g. `2027-秋`) gives the season (秋 → 秋季) and the year when
  the variables `season` and `year` are absent: 10 教学管理 runs per term
- `P7D`                      seven days after the task was created (规定时间, 一周内)
- `before:exam_date:P14D`    two weeks before the date in variable `exam_date` (考试前二周)

A day's deadline is the end of that day in Beijing time. An unknown rule is a deploy error
(see `rule_problem`); a rule whose variables are missing gives no due date.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
SEASONS = ("春季", "秋季")

_DAY = re.compile(r"^(\d{2})-(\d{2})(?:@([+-]\d+))?$")
_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?$")


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), BEIJING)


def _duration(text: str) -> timedelta | None:
    match = _DURATION.match(text)
    if not match or not any(match.groups()):
        return None
    weeks, days = (int(g) if g else 0 for g in match.groups())
    return timedelta(weeks=weeks, days=days)


def _day_in_year(text: str, year: int) -> date | None:
    match = _DAY.match(text)
    if not match:
        return None
    month, day, offset = int(match[1]), int(match[2]), int(match[3] or 0)
    return date(year + offset, month, day)


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _term(term: Any) -> tuple[int | None, str | None]:
    """'2027-秋' → (2027, '秋季'); (None, None) for anything else."""
    if isinstance(term, str):
        year, _, half = term.partition("-")
        if year.isdigit() and half in ("春", "秋"):
            return int(year), f"{half}季"
    return None, None


def due_at(rule: str | None, data: dict[str, Any], created: datetime) -> datetime | None:
    """The due instant of a task created at `created`, or None."""
    if not rule:
        return None
    rule = rule.strip()
    if rule.startswith("P"):
        duration = _duration(rule)
        return created + duration if duration else None
    if rule.startswith("before:"):
        _, variable, period = rule.split(":", 2)
        anchor, duration = _as_date(data.get(variable)), _duration(period)
        return end_of_day(anchor - duration) if anchor and duration else None
    term_year, term_season = _term(data.get("term"))
    year = data.get("year", term_year)
    year = (
        int(year)
        if isinstance(year, int | str) and str(year).isdigit()
        else created.astimezone(BEIJING).year
    )
    if ":" in rule:
        season = data.get("season") or term_season
        chosen = dict(part.split(":", 1) for part in rule.split(";")).get(season)
        if chosen is None:
            return None
        rule = chosen
    day = _day_in_year(rule, year)
    return end_of_day(day) if day else None


def rule_problem(rule: str) -> str | None:
    """Why a dueDate rule cannot be read (in Chinese), or None."""
    rule = rule.strip()
    if rule.startswith("P"):
        return None if _duration(rule) else f"办理期限 {rule} 无法识别：时长写作 P7D 或 P2W"
    if rule.startswith("before:"):
        parts = rule.split(":", 2)
        ok = len(parts) == 3 and parts[1] and _duration(parts[2])
        return None if ok else f"办理期限 {rule} 无法识别：写作 before:<日期变量>:P14D"
    parts = rule.split(";") if ":" in rule else [rule]
    for part in parts:
        if ":" in part:
            season, _, part = part.partition(":")
            if season not in SEASONS:
                return f"办理期限 {rule} 无法识别：季节只能是{'或'.join(SEASONS)}"
        match = _DAY.match(part)
        if not match:
            return f"办理期限 {rule} 无法识别：日期写作 MM-DD，上一年加 @-1"
        try:
            date(2000, int(match[1]), int(match[2]))
        except ValueError:
            return f"办理期限 {rule} 无法识别：{part} 不是一年中的日期"
    return None


# The date variables the diagrams' before: rules name, as a registrar says them.
DATE_VARIABLES = {
    "exam_date": "考试日期",
    "start_date": "开始日期",
    "collection_date": "采集日期",
    "teaching_date": "教学日期",
}
_YEAR_OFFSETS = {-1: "上一年 ", 1: "下一年 "}


def _duration_words(text: str) -> str | None:
    match = _DURATION.match(text)
    if not match or not any(match.groups()):
        return None
    weeks, days = match.groups()
    return " ".join(
        part for part in (weeks and f"{int(weeks)} 周", days and f"{int(days)} 天") if part
    )


def _day_words(text: str) -> str | None:
    match = _DAY.match(text)
    if not match:
        return None
    offset = _YEAR_OFFSETS.get(int(match[3] or 0), f"{match[3]} 年 " if match[3] else "")
    return f"{offset}{int(match[1])} 月 {int(match[2])} 日前"


def rule_words(rule: str | None) -> str | None:
    """A dueDate rule as the office says it: P7D → 7 天, 03-15 → 3 月 15 日前,
    春季:10-25@-1;秋季:04-25 → 春季 上一年 10 月 25 日前；秋季 4 月 25 日前,
    before:exam_date:P14D → 考试日期前 14 天. None for no rule, the rule itself when unreadable."""
    if not rule or not rule.strip():
        return None
    rule = rule.strip()
    if rule_problem(rule):
        return rule
    if rule.startswith("P"):
        return _duration_words(rule)
    if rule.startswith("before:"):
        _, variable, period = rule.split(":", 2)
        return f"{DATE_VARIABLES.get(variable, variable)}前 {_duration_words(period)}"
    if ":" in rule:
        parts = (part.partition(":") for part in rule.split(";"))
        return "；".join(f"{season} {_day_words(day)}" for season, _, day in parts)
    return _day_words(rule)


NEVER = "R1/2999-12-31T00:00:00+00:00/P1D"


def deadline_cycle(data: dict[str, Any], rule: str, reminder: str = "P7D") -> str:
    """The ISO 8601 cycle of a task's deadline timer: at the due date, and once more a
    reminder period later (`R2/<due>/<period>`); never, when the rule gives no date.

    Diagrams call it in a non-interrupting boundary timer: `deadline_cycle("03-15")`.
    """
    from xueji import clock

    due = due_at(rule, data, clock.now())
    return f"R2/{due.isoformat()}/{reminder}" if due else NEVER
