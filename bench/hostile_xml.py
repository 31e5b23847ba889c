"""How long refusing hostile XML and form payloads takes, and the memory it peaks at, beside
an ordinary diagram and an ordinary form, in one run.

.venv/bin/python bench/hostile_xml.py
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.api.test_deployments import HOSTILE  # noqa: E402
from xueji.engine.validation import Catalog, inspect_upload  # noqa: E402
from xueji.forms.validation import form_errors  # noqa: E402

BASELINE = (ROOT / "tests" / "fixtures" / "review.bpmn").read_bytes()


def peak_kib(work) -> float:
    """The most memory Python allocated while `work` ran once, in KiB."""
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1] / 1024
    finally:
        tracemalloc.stop()


def inspect(content: bytes, name: str) -> None:
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


def timed(work, runs: int = 20) -> float:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


FORM = json.loads((ROOT / "tests" / "fixtures" / "review_apply.schema.json").read_text())
GOOD = {"reason": "因工作调动申请休学", "effective_term": "2027-春"}
HOSTILE_FORMS = {
    "900-deep array in a field": {**GOOD, "reason": nested(900)},
    "1,000 undeclared fields": {**GOOD, **{f"x{i}": i for i in range(1000)}},
    "1 MB text in a field": {**GOOD, "reason": "x" * 10**6},
    "100,000-item list": {**GOOD, "reason": list(range(100_000))},
}


def main() -> None:
    head = f"{'bytes':>10}{'median ms':>12}{'x baseline':>12}{'peak KiB':>10}"
    baseline = timed(lambda: inspect(BASELINE, "review.bpmn"))
    print(f"{'document':<28}{head}")
    peak = peak_kib(lambda: inspect(BASELINE, "review.bpmn"))
    print(
        f"{'review.bpmn (baseline)':<28}{len(BASELINE):>10}{baseline * 1000:>12.2f}{1:>12.2f}"
        f"{peak:>10.0f}"
    )
    for name, content in sorted(HOSTILE.items()):
        seconds = timed(lambda c=content, n=name: inspect(c, n))
        peak = peak_kib(lambda c=content, n=name: inspect(c, n))
        print(
            f"{name:<28}{len(content):>10}{seconds * 1000:>12.2f}{seconds / baseline:>12.2f}"
            f"{peak:>10.0f}"
        )
    print()
    base = timed(lambda: form_errors(FORM, GOOD))
    print(f"{'form data':<28}{head}  problems")
    size = len(json.dumps(GOOD, ensure_ascii=False).encode())
    peak = peak_kib(lambda: form_errors(FORM, GOOD))
    print(f"{'ordinary (baseline)':<28}{size:>10}{base * 1000:>12.3f}{1:>12.2f}{peak:>10.0f}  0")
    for name, data in HOSTILE_FORMS.items():
        seconds = timed(lambda d=data: form_errors(FORM, d), runs=5)
        peak = peak_kib(lambda d=data: form_errors(FORM, d))
        found = form_errors(FORM, data)
        size = len(json.dumps(data, ensure_ascii=False).encode()) if "deep" not in name else 0
        print(
            f"{name:<28}{size:>10}{seconds * 1000:>12.3f}{seconds / base:>12.2f}{peak:>10.0f}"
            f"  {len(found)}: {found[0]['message'][:40] if found else '-'}"
        )


if __name__ == "__main__":
    main()
