"""How long refusing hostile XML takes, beside parsing an ordinary diagram, in one run.

.venv/bin/python bench/hostile_xml.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.api.test_deployments import HOSTILE  # noqa: E402
from xueji.engine.validation import Catalog, inspect_upload  # noqa: E402

BASELINE = (ROOT / "tests" / "fixtures" / "review.bpmn").read_bytes()


def timed(content: bytes, name: str, runs: int = 20) -> float:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        inspect_upload(
            {name: content},
            Catalog(
                forms={
                    "review_start.schema.json": {},
                    "review_apply.schema.json": {},
                    "review_apply.uischema.json": {},
                    "review_decide.schema.json": {},
                },
                role_for_lane=lambda name: "student",
            ),
        )
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def main() -> None:
    baseline = timed(BASELINE, "review.bpmn")
    print(f"{'document':<24}{'bytes':>10}{'median ms':>12}{'x baseline':>12}")
    print(f"{'review.bpmn (baseline)':<24}{len(BASELINE):>10}{baseline * 1000:>12.2f}{1:>12.2f}")
    for name, content in sorted(HOSTILE.items()):
        seconds = timed(content, name)
        print(f"{name:<24}{len(content):>10}{seconds * 1000:>12.2f}{seconds / baseline:>12.2f}")


if __name__ == "__main__":
    main()
