"""Write processes/*.bpmn from the specs in this folder: `python -m tools.diagrams`."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import tools.diagrams as package

PROCESSES = Path(__file__).resolve().parents[2] / "processes"


def specs():
    """(process id, xml) of every spec module (each has build() -> Diagram)."""
    for module in pkgutil.iter_modules(package.__path__):
        if module.name in ("builder", "__main__"):
            continue
        diagram = importlib.import_module(f"tools.diagrams.{module.name}").build()
        yield diagram.process_id, diagram.to_xml()


def main() -> None:
    for process_id, xml in specs():
        (PROCESSES / f"{process_id}.bpmn").write_text(xml, encoding="utf-8")
        print(f"processes/{process_id}.bpmn")


if __name__ == "__main__":
    main()
