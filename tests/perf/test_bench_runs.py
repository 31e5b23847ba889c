"""The README's benchmark commands, run as the README says (a subprocess, a fresh
interpreter): `bench/run.py --quick` reports every figure of issue 14 for SQLite and writes
them as JSON; `bench/ab.py` compares the tree with a revision. Its timings are the machine's; what is checked here is that every figure is
there and the exact counts meet their targets (the suite runs it once, on SQLite: the
PostgreSQL run of the suite leaves it out)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEYS = [
    "engine_step_ms",
    "sql_statements_per_complete_sqlite",
    "commits_per_complete_sqlite",
    "flushes_per_complete_sqlite",
    "sql_statements_per_inbox_page_sqlite",
    "sql_statements_per_full_inbox_page_sqlite",
    "api_complete_ms_p50_sqlite",
    "api_complete_ms_p95_sqlite",
    "api_to_engine_ratio_sqlite",
    "instance_ms_single_client_sqlite",
    "throughput_instances_per_s_sqlite",
    "rss_mb_1k_instances_sqlite",
    "inbox_p95_ms_1k_sqlite",
    "inbox_p95_ms_10k_sqlite",
    "inbox_last_page_p95_ms_10k_sqlite",
    "inbox_growth_ratio_sqlite",
    "batch_step_ms_20_sqlite",
    "batch_step_ms_200_sqlite",
    "batch_growth_ratio_sqlite",
]


@pytest.mark.skipif(
    bool(os.environ.get("XUEJI_TEST_DATABASE_URL")), reason="run once, with the SQLite suite"
)
def test_the_quick_benchmark_reports_every_figure(tmp_path):
    out = tmp_path / "quick.json"
    done = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    figures = result["figures"]
    missing = [key for key in KEYS if key not in figures]
    assert not missing, missing
    assert all(figures[key] > 0 for key in KEYS if not key.startswith("sql_")), figures
    assert figures["sql_statements_per_complete_sqlite"] <= 10
    assert figures["commits_per_complete_sqlite"] == 1
    assert figures["flushes_per_complete_sqlite"] == 1
    assert result["run"]["setting"] == "quick" and result["run"]["databases"] == ["sqlite"]
    assert "| api_to_engine_ratio_sqlite" in done.stdout  # the table


@pytest.mark.skipif(
    bool(os.environ.get("XUEJI_TEST_DATABASE_URL")), reason="run once, with the SQLite suite"
)
def test_the_side_by_side_comparison_runs():
    """`bench/ab.py` (the README's way to compare a change with a revision before it) drives
    both versions in turns and prints their medians side by side."""
    done = subprocess.run(
        [sys.executable, "bench/ab.py", "--base", "HEAD", "--turns", "1", "--instances", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "turn 1 base: complete_ms_p50" in done.stdout
    assert "turn 1 this: complete_ms_p50" in done.stdout
    assert "| service_cpu_ms_per_instance |" in done.stdout
