"""The package graph of src/xueji, read from the source: every `import xueji…` and
`from xueji… import …` anywhere in a module (module level, inside functions, and under
TYPE_CHECKING alike), folded to the package it names (xueji.instances.flows → instances)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "xueji"


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    found = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imported(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from xueji import clock` names the module xueji.clock, not the package.
            submodules = {f"{target}.{alias.name}" for alias in node.names}
            names.update(submodules)
            names.add(target)
    return {n for n in names if n == PACKAGE or n.startswith(PACKAGE + ".")}


def unit(module: str) -> str:
    """The package a module belongs to: xueji.instances.flows → instances; top-level
    modules (xueji.clock) are units of their own."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else PACKAGE


def package_graph() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in known.items():
        source = unit(module)
        graph[source]
        for name in _imported(module, path):
            # `from xueji.instances import flows` names a module; `… import Thing` does not.
            while name not in known and "." in name:
                name = name.rsplit(".", 1)[0]
            target = unit(name)
            if target != source and name in known and name != PACKAGE:
                graph[source].add(target)
    return dict(graph)


def module_graph() -> dict[str, set[str]]:
    """The same graph between modules (a package's __init__ counts as a module)."""
    known = modules()
    graph: dict[str, set[str]] = {}
    for module, path in known.items():
        graph[module] = set()
        for name in _imported(module, path):
            while name not in known and "." in name:
                name = name.rsplit(".", 1)[0]
            if name in known and name not in (module, PACKAGE):
                graph[module].add(name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


if __name__ == "__main__":
    g = package_graph()
    for source in sorted(g):
        print(f"{source:16} -> {', '.join(sorted(g[source]))}")
    print("cycles:", cycles(g))
