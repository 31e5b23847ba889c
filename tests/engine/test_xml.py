"""The hardened XML reader."""

from __future__ import annotations

import threading

import pytest

from tests.helpers import FIXTURES
from xueji.engine.parser import schema_errors
from xueji.engine.xml import XmlRefused, parse_xml


def test_doctype_is_refused_with_its_line():
    with pytest.raises(XmlRefused) as refused:
        parse_xml(b'<?xml version="1.0"?>\n\n<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
    assert refused.value.line == 3


def test_syntax_errors_carry_the_line():
    with pytest.raises(XmlRefused) as refused:
        parse_xml(b"<a>\n<b>\n</a>")
    assert refused.value.line == 3 and "not well-formed" in refused.value.message


def test_schema_validation_gives_the_same_answers_from_many_threads():
    good_xml = (FIXTURES / "review.bpmn").read_bytes()
    bad_xml = good_xml.replace(
        b'<bpmn:endEvent id="done_end"', b'<bpmn:endEvent id="done_end" bogus="1"'
    )
    results: list[tuple[bool, int]] = []

    def work():
        # each thread its own trees, as each request parses its own upload (libxml2 does not
        # allow one tree to be validated by two threads at once)
        good, bad = parse_xml(good_xml), parse_xml(bad_xml)
        for _ in range(20):
            results.append((True, len(schema_errors(good))))
            results.append((False, len(schema_errors(bad))))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {r for r in results if r[0]} == {(True, 0)}
    assert {r for r in results if not r[0]} == {(False, 1)}
