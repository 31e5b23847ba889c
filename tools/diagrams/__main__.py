"""Write processes/*.bpmn from the specs in this folder: `python -m tools.diagrams`."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import tools.diagrams as package
from tools.diagrams.builder import render

PROCESSES = Path(__file__).resolve().parents[2] / "processes"


def specs():
    """(file stem, xml) of every spec module; build() returns a Diagram, or a list of them
    (the main process first, then the per-student processes it calls)."""
    for module in pkgutil.iter_modules(package.__path__):
        if module.name in ("builder", "layout", "__main__"):
            continue
        built = importlib.import_module(f"tools.diagrams.{module.name}").build()
        diagrams = built if isinstance(built, list) else [built]
        yield diagrams[0].process_id, render(diagrams)


def main() -> None:
    for process_id, xml in specs():
        (PROCESSES / f"{process_id}.bpmn").write_text(xml, encoding="utf-8")
        print(f"processes/{process_id}.bpmn")


if __name__ == "__main__":
    main()
