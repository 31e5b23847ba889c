"""The benchmark suite (issue 14): every figure beside the baseline it is judged against,
measured in the same run, as a table and as bench/results/latest.json.

    .venv/bin/python bench/run.py --quick              # under two minutes (SQLite)
    .venv/bin/python bench/run.py --db both            # the full run (tens of minutes)
    .venv/bin/python bench/run.py --quick --db pg --show-sql

PostgreSQL: a fresh database on XUEJI_BENCH_PG_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres), dropped afterwards. The machine is
shared, so timings are noisy; the counts of statements are exact.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "src")]

import batch  # noqa: E402
import counts  # noqa: E402
import inbox_volume as inbox  # noqa: E402
import load  # noqa: E402
import scaleout  # noqa: E402
from engine_floor import engine_step_ms  # noqa: E402
from service import Database, Service  # noqa: E402

RESULTS = HERE / "results" / "latest.json"
# Service figures are the median of this many rounds (the machine's speed drifts).
ROUNDS = 3
QUICK = {
    "floor_instances": 20,
    "single_instances": 9,
    "clients": 4,
    "seconds": 8,
    "inbox": (1_000, 10_000, 100_000),
    "inbox_rounds": 100,
    "touched": 1_000,
    "batch": (20, 200),
    "scaleout_seconds": 8,
}
FULL = {
    "floor_instances": 100,
    "single_instances": 30,
    "clients": 4,
    "seconds": 30,
    "inbox": (1_000, 100_000, 1_000_000),
    "inbox_rounds": 100,
    "touched": 10_000,
    "batch": (20, 2000),
    "scaleout_seconds": 30,
}
# key (without its _sqlite/_pg) -> (comparison, bound) of issue 14
TARGETS = {
    "sql_statements_per_complete": ("<=", 10),
    "commits_per_complete": ("<=", 1),
    "flushes_per_complete": ("<=", 1),
    "api_to_engine_ratio_sqlite": ("<=", 8),
    "api_to_engine_ratio_pg": ("<=", 10),
    "throughput_instances_per_s": (">=", 10),
    "inbox_growth_ratio": ("<=", 1.5),
    "batch_growth_ratio": ("<=", 2),
    "rss_mb_10k_instances": ("<=", 250),
    "cpu_2proc_to_1proc_ratio": ("<=", 1.2),
    "lock_waits": ("<=", 0),
}


def _service_figures(kind: str, workdir: Path, size: dict) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    database = Database(kind, workdir)
    figures: dict = {}
    try:
        with Service(database, workdir) as service:
            url = service.urls[0]
            load.deploy(url)
            with closing(load.login(url)) as client:
                load.single_client(client, 2)  # warm up
                figures |= _single_client(service, client, size)
            # the median of three loads in turn (the machine's speed drifts over minutes)
            rates = [
                load.concurrent(service.urls, size["clients"], size["seconds"] / ROUNDS)[0]
                for _ in range(ROUNDS)
            ]
            figures["throughput_instances_per_s"] = statistics.median(rates)
            figures["throughput_instances_per_s_rounds"] = rates
            figures |= _memory(service, size["touched"], size["clients"])
            small, large, completed = size["inbox"]
            figures |= inbox.inbox(url, database.url, small, large, completed, size["inbox_rounds"])
    finally:
        database.close()
    return figures


def _single_client(service: Service, client, size: dict) -> dict:
    """One client's instances in ROUNDS rounds, each right after a measure of the engine's
    floor of its own, so that a ratio compares two figures of the same minute: the median
    round's figures (every round's ratio in `api_to_engine_ratio_rounds`)."""
    rounds = []
    for _ in range(ROUNDS):
        step = engine_step_ms(max(5, size["floor_instances"] // ROUNDS))
        cpu = service.cpu_ms()
        single = load.single_client(client, max(1, size["single_instances"] // ROUNDS))
        cpu_per_instance = (service.cpu_ms() - cpu) / single.instances
        complete_p50 = load.p50(single.complete_ms)
        rounds.append(
            {
                "api_complete_ms_p50": complete_p50,
                "api_complete_ms_p95": load.p95(single.complete_ms),
                "api_to_engine_ratio": complete_p50 / step["engine_step_ms"],
                "engine_step_ms_beside": step["engine_step_ms"],
                # CPU of the service processes per instance (its start, and ten times
                # the inbox and a completion) over ten bare engine cycles' CPU
                "service_cpu_ms_per_instance": cpu_per_instance,
                "service_cpu_to_engine_ratio": cpu_per_instance / (10 * step["engine_step_cpu_ms"]),
                "inbox_by_instance_ms_p50": load.p50(single.inbox_ms),
                "instance_ms_single_client": load.p50(single.instance_ms),
            }
        )
    rounds.sort(key=lambda r: r["api_to_engine_ratio"])
    median = rounds[len(rounds) // 2]
    return median | {"api_to_engine_ratio_rounds": [r["api_to_engine_ratio"] for r in rounds]}


def _memory(service: Service, touched: int, clients: int) -> dict:
    """Resident memory of the API process before and after `touched` more instances."""
    import threading

    before = service.rss_mb()
    sessions = [load.login(service.urls[0]) for _ in range(clients)]

    def start(client, count: int) -> None:
        for _ in range(count):
            client.post(
                f"/process-definitions/{load.PROCESS}/start", json={"variables": {}}
            ).raise_for_status()

    threads = [threading.Thread(target=start, args=(c, touched // clients)) for c in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in sessions:
        client.close()
    label = inbox.label(touched)
    return {"rss_mb_before": before, f"rss_mb_{label}_instances": service.rss_mb()}


def _batch(database_url: str, sizes: tuple[int, int]) -> dict:
    from xueji.config import Settings
    from xueji.db.migrate import upgrade
    from xueji.wiring import build_runtime

    small, large = sizes
    with tempfile.TemporaryDirectory() as tmp:
        runtime = build_runtime(
            Settings(
                database_url=database_url or f"sqlite:///{tmp}/batch.sqlite3",
                data_dir=Path(tmp),
                secret_key="bench",
                run_worker=False,
            )
        )
        upgrade(runtime.db.engine)
        ids = batch.setup(runtime, large)
        small_run = batch.run_batch(runtime, ids[:small], timed_steps=small - 1)
        large_run = batch.run_batch(runtime, ids, timed_steps=small - 1)
        runtime.db.dispose()
    return {
        f"batch_step_ms_{small}": small_run["step"] * 1000,
        f"batch_step_ms_{large}": large_run["step"] * 1000,
        "batch_growth_ratio": large_run["step"] / small_run["step"],
    }


def measure(kinds: list[str], size: dict, show_sql: bool) -> dict:
    figures: dict = {}
    floor = engine_step_ms(size["floor_instances"])
    figures |= floor
    for kind in kinds:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            database = Database(kind, workdir) if kind == "pg" else None
            try:
                found, shown = counts.counts(database.url if database else None)
            finally:
                if database:
                    database.close()
            if show_sql:
                print(f"--- {kind}\n" + "\n".join(shown), file=sys.stderr)
            per_db = found
            per_db |= _service_figures(kind, workdir / "service", size)
            pg = Database(kind, workdir) if kind == "pg" else None
            try:
                per_db |= _batch(pg.url if pg else "", size["batch"])
            finally:
                if pg:
                    pg.close()
            if kind == "pg":
                per_db |= scaleout.scaleout(
                    workdir / "scaleout", size["clients"], size["scaleout_seconds"]
                )
        figures |= {f"{key}_{kind}": value for key, value in per_db.items()}
        # the counts are the same on every run: the worst database is the figure
        for key in ("sql_statements_per_complete", "commits_per_complete"):
            figures[key] = max(figures.get(key, 0), found[key])
        figures["flushes_per_complete"] = max(
            figures.get("flushes_per_complete", 0), found["flushes_per_complete"]
        )
        for key in ("sql_statements_per_inbox_page", "sql_statements_per_full_inbox_page"):
            figures[key] = max(figures.get(key, 0), found[key])
    return figures


def _verdict(key: str, value) -> str:
    for name, (op, bound) in TARGETS.items():
        if key == name or key.removesuffix("_sqlite").removesuffix("_pg") == name:
            met = value <= bound if op == "<=" else value >= bound
            return f"{op} {bound}: {'met' if met else 'MISSED'}"
    return ""


def table(figures: dict) -> str:
    floor = figures["engine_step_ms"]
    rows = [("figure", "value", "vs engine step", "target")]
    for key, value in figures.items():
        if isinstance(value, list | dict):
            continue
        ratio = f"{value / floor:.1f}x" if key.startswith("api_complete_ms") else ""
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        rows.append((key, shown, ratio, _verdict(key, value)))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, under two minutes")
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="sqlite")
    parser.add_argument("--show-sql", action="store_true", help="print the counted statements")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    # stopped (SIGTERM): unwind, so that the service processes stop and databases are dropped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    kinds = ["sqlite", "pg"] if args.db == "both" else [args.db]
    size = QUICK if args.quick else FULL
    began = time.monotonic()
    figures = measure(kinds, size, args.show_sql)
    result = {
        "run": {
            "setting": "quick" if args.quick else "full",
            "databases": kinds,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(time.monotonic() - began, 1),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
            "sizes": size,
        },
        "figures": figures,
        "targets": {key: f"{op} {bound}" for key, (op, bound) in TARGETS.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(table(figures))
    print(f"\n{result['run']['setting']} run, {result['run']['seconds']} s; wrote {args.out}")


if __name__ == "__main__":
    main()
