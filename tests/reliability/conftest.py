"""The reliability suites' figures, printed at the end of the run (also under -q)."""

from __future__ import annotations

import pytest

_FIGURES: list[str] = []


@pytest.fixture(scope="session")
def figures() -> list[str]:
    """Lines a suite wants shown in the run's summary (route counts, calls, outcomes)."""
    return _FIGURES


def pytest_terminal_summary(terminalreporter):
    if _FIGURES:
        terminalreporter.section("reliability figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)
