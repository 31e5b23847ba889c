"""Due dates from the rules diagrams carry (3 月 15 日前, 春季/秋季, 规定时间, 考试前二周)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from xueji.deadlines import BEIJING, due_at, rule_problem, rule_words

CREATED = datetime(2027, 2, 1, 9, 0, tzinfo=BEIJING)


def test_fixed_day_of_the_instance_year():
    assert due_at("03-15", {"year": 2027}, CREATED) == datetime(
        2027, 3, 15, 23, 59, 59, tzinfo=BEIJING
    )


def test_without_a_year_the_creation_year_counts():
    assert due_at("04-30", {}, CREATED).date() == date(2027, 4, 30)


@pytest.mark.parametrize(
    "season, expected", [("春季", date(2026, 10, 25)), ("秋季", date(2027, 4, 25))]
)
def test_season_picks_its_own_day(season, expected):
    rule = "春季:10-25@-1;秋季:04-25"
    assert due_at(rule, {"year": 2027, "season": season}, CREATED).date() == expected
    assert due_at(rule, {"year": 2027}, CREATED) is None


@pytest.mark.parametrize(
    "term, expected", [("2027-春", date(2027, 3, 15)), ("2027-秋", date(2028, 3, 15))]
)
def test_a_term_gives_the_season_and_the_year(term, expected):
    """10 教学管理 runs per term: 3 月 15 日前 of a spring term is that spring's, of an autumn
    term the next spring's (the plan's next revision), never already past when it starts."""
    rule = "春季:03-15;秋季:03-15@+1"
    assert due_at(rule, {"term": term}, CREATED).date() == expected
    # explicit variables win over the term
    assert due_at(rule, {"term": term, "year": 2030, "season": "春季"}, CREATED).date() == date(
        2030, 3, 15
    )


def test_relative_rules():
    assert due_at("P7D", {}, CREATED) == CREATED + timedelta(days=7)
    assert due_at("P2W", {}, CREATED) == CREATED + timedelta(days=14)
    two_weeks_before = due_at("before:exam_date:P14D", {"exam_date": "2027-06-20"}, CREATED)
    assert two_weeks_before.date() == date(2027, 6, 6)
    assert due_at("before:exam_date:P14D", {}, CREATED) is None


@pytest.mark.parametrize("rule", ["3-15", "13-01", "夏季:04-25", "P", "PT5H", "before:x", "02-30"])
def test_unreadable_rules_are_named(rule):
    assert rule_problem(rule)


@pytest.mark.parametrize(
    "rule", ["03-15", "春季:10-25@-1;秋季:04-25", "P7D", "before:exam_date:P14D"]
)
def test_readable_rules_pass(rule):
    assert rule_problem(rule) is None


@pytest.mark.parametrize(
    "rule, words",
    [
        ("P7D", "7 天"),
        ("P2W", "2 周"),
        ("P1W3D", "1 周 3 天"),
        ("03-15", "3 月 15 日前"),
        ("春季:03-15;秋季:03-15@+1", "春季 3 月 15 日前；秋季 下一年 3 月 15 日前"),
        ("before:start_date:P21D", "开始日期前 21 天"),
        ("13-40", "13-40"),
        ("", None),
    ],
)
def test_rules_in_words(rule, words):
    assert rule_words(rule) == words
