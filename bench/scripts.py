"""Cost of running diagram code isolated, against the old in-process path, in one run.

    .venv/bin/python bench/scripts.py            # about 30 s (the old bomb alone takes ~15 s)
    .venv/bin/python bench/scripts.py --quick    # without the old path's bomb

Rows: ms per simple condition (new: the in-process fast path), per condition that needs a
worker, per small script (always in a worker), each beside the old in-process
RestrictedPython path (xueji.engine.scripting.InProcessEnvironment); then the latency of a
trivial evaluation in another thread while `x = pow(3, 2**999999, 2**2000 + 1)` runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from xueji.engine.sandbox import ScriptPool  # noqa: E402
from xueji.engine.scripting import (  # noqa: E402
    InProcessEnvironment,
    RestrictedEnvironment,
    ScriptTimeout,
)

BOMB = "x = pow(3, 2**999999, 2**2000 + 1)"
DATA = {
    "outcome": "correct",
    "check": {"problems": []},
    "season": "春季",
    "year": 2027,
    "term_courses": [{"name": f"课程{i}", "sampled": i == 3} for i in range(8)],
    "rows": [{"student": f"S{i:03d}", "score": 50 + i} for i in range(20)],
}
CASES = [
    ("simple condition", "evaluate", 'outcome == "correct" and len(check["problems"]) == 0'),
    ("simple condition (2)", "evaluate", 'season == "春季" and year >= 2027'),
    ("condition in a worker", "evaluate", 'len([c for c in term_courses if c["sampled"]]) > 0'),
    (
        "small script in a worker",
        "execute",
        "total = sum(r['score'] for r in rows)\npassed = [r['student'] for r in rows "
        "if r['score'] >= 60]\naverage = total / len(rows)",
    ),
]


def per_call_ms(run, seconds: float = 1.0) -> float:
    """Median of five rounds of ms per call."""
    run()  # warm caches
    rounds = []
    for _ in range(5):
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds / 5:
            run()
            count += 1
        rounds.append((time.perf_counter() - started) * 1000 / count)
    return statistics.median(rounds)


def call(env, how: str, source: str):
    if how == "evaluate":
        return lambda: env.evaluate(source, DATA)
    return lambda: env.execute(source, dict(DATA))


def latencies_during_bomb(bomb, trivial, rounds: int, between=None) -> tuple[list[float], float]:
    """Latencies (s) of `trivial` calls due every 2 ms in this thread while `bomb` runs in
    another, each from the moment it was due (a call the GIL held back counts its wait)."""
    samples: list[float] = []
    bomb_seconds = 0.0
    for _ in range(rounds):
        running, done = threading.Event(), threading.Event()
        thread = threading.Thread(target=_run_bomb, args=(bomb, running, done))
        started = time.perf_counter()
        # Due times run from a clock read before the bomb starts: a GIL it holds may stop
        # this thread anywhere, even in running.wait().
        due = started + 0.02  # the bomb is in its C call (or its worker) by then
        thread.start()
        running.wait()
        while not done.is_set():
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            trivial()
            finished = time.perf_counter()
            samples.append(finished - due)
            due = max(due + 0.002, finished)  # no backlog of calls that were never made
        # One more call, due while the bomb ran (this thread may have been stopped anywhere
        # above, e.g. right before it saw `done`).
        trivial()
        samples.append(time.perf_counter() - due)
        thread.join()
        bomb_seconds = time.perf_counter() - started
        if between is not None:
            between()
    return samples, bomb_seconds


def _run_bomb(bomb, running: threading.Event, done: threading.Event) -> None:
    running.set()
    try:
        bomb()
    except ScriptTimeout:
        pass
    finally:
        done.set()


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the old path's ~15 s bomb")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    pool = ScriptPool(size=args.workers)
    pool.wait_ready()
    new = RestrictedEnvironment(time_limit=1.0, pool=pool)
    old = InProcessEnvironment(time_limit=1.0)

    print(f"Python {sys.version.split()[0]}, {args.workers} workers, time limit 1.0 s\n")
    print(f"{'case':<36}{'new ms/call':>12}{'old in-process':>16}{'new/old':>9}")
    for name, how, source in CASES:
        jobs = pool.jobs
        new_ms = per_call_ms(call(new, how, source))
        where = "in a worker" if pool.jobs > jobs else "in-process"
        old_ms = per_call_ms(call(old, how, source))
        label = f"{name} [{where}]" if "worker" not in name else name
        print(f"{label:<36}{new_ms:>12.4f}{old_ms:>16.4f}{new_ms / old_ms:>9.1f}")

    print(f"\nA trivial evaluation in another thread while `{BOMB}` runs:")
    print(f"{'':<34}{'calls':>6}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'bomb s':>8}")
    rows = [
        ("new, simple condition (here)", lambda: new.evaluate("x > 1", {"x": 2})),
        ("new, condition in a worker", lambda: new.evaluate("sum([x]) > 1", {"x": 2})),
        ("new, small script in a worker", lambda: new.execute("y = x + 1", {"x": 2})),
    ]
    for label, trivial in rows:
        samples, seconds = latencies_during_bomb(
            lambda: new.execute(BOMB, {}), trivial, rounds=3, between=pool.wait_ready
        )
        print(
            f"{label:<34}{len(samples):>6}{percentile(samples, 0.5) * 1000:>10.2f}"
            f"{percentile(samples, 0.99) * 1000:>10.2f}{max(samples) * 1000:>10.2f}"
            f"{seconds:>8.2f}"
        )
    if args.quick:
        print(f"{'old in-process':<34}  (skipped: --quick)")
    else:
        samples, seconds = latencies_during_bomb(
            lambda: old.execute(BOMB, {}),
            lambda: old.evaluate("x > 1", {"x": 2}),
            rounds=1,
        )
        print(
            f"{'old in-process':<34}{len(samples):>6}{percentile(samples, 0.5) * 1000:>10.2f}"
            f"{percentile(samples, 0.99) * 1000:>10.2f}{max(samples) * 1000:>10.2f}"
            f"{seconds:>8.2f}"
        )
    print(f"\nworkers started {pool.started}, killed over the time limit {pool.killed}")
    pool.close()


if __name__ == "__main__":
    main()
