"""Two versions of the service side by side, in turns: the working tree against a git
revision (a worktree of it made for the run), both driven over real HTTP by one client on a
fresh database each turn, so that the machine's drift (tens of percent over minutes) falls
on both alike. Prints the median of the turns of each, side by side.

    .venv/bin/python bench/ab.py --base HEAD~3 --db pg --turns 3 --instances 30

Each turn starts `xueji serve` and `xueji worker` of one version (its `src/` first on
PYTHONPATH), warms it up, and drives `--instances` instances (start, then ten times: my
task, submit), measuring a completion's p50, the inbox-by-instance p50 and the CPU time of
the service processes per instance.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from contextlib import closing
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE)]

import load  # noqa: E402
from service import ROOT, Database, Service  # noqa: E402

FIGURES = ("complete_ms_p50", "inbox_ms_p50", "service_cpu_ms_per_instance", "instances_per_s")


def turn(src: Path, kind: str, instances: int) -> dict[str, float]:
    """One version's figures on a fresh database."""
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(src) + (os.pathsep + previous if previous else "")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            database = Database(kind, workdir)
            try:
                with Service(database, workdir) as service:
                    load.deploy(service.urls[0])
                    with closing(load.login(service.urls[0])) as client:
                        load.single_client(client, 3)  # warm up
                        cpu = service.cpu_ms()
                        timings = load.single_client(client, instances)
                        cpu = service.cpu_ms() - cpu
            finally:
                database.close()
    finally:
        if previous is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = previous
    return {
        "complete_ms_p50": load.p50(timings.complete_ms),
        "inbox_ms_p50": load.p50(timings.inbox_ms),
        "service_cpu_ms_per_instance": cpu / timings.instances,
        "instances_per_s": 1000 / load.p50(timings.instance_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="git revision to compare against")
    parser.add_argument("--db", choices=["sqlite", "pg"], default="sqlite")
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--instances", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), args.base],
            check=True,
            capture_output=True,
        )
        try:
            results: dict[str, list[dict[str, float]]] = {"base": [], "this": []}
            for number in range(args.turns):
                for name, src in (("base", base / "src"), ("this", ROOT / "src")):
                    results[name].append(turn(src, args.db, args.instances))
                    shown = ", ".join(f"{k} {v:.2f}" for k, v in results[name][-1].items())
                    print(f"turn {number + 1} {name}: {shown}", flush=True)
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=True
            )
    print(f"\n{args.db}, {args.turns} turns of {args.instances} instances, medians:")
    print(f"| figure | {args.base} | this tree | this / base |\n| --- | --- | --- | --- |")
    for key in FIGURES:
        before = statistics.median(r[key] for r in results["base"])
        now = statistics.median(r[key] for r in results["this"])
        print(f"| {key} | {before:.2f} | {now:.2f} | {now / before:.2f} |")


if __name__ == "__main__":
    main()
