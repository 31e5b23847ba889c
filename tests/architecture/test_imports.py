"""The package graph has no cycles and its layers point one way; every module imports on its
own in a fresh interpreter (the way `xueji worker` starts), not only after the app did."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

from tests.architecture.imports import SRC, cycles, module_graph, modules, package_graph, unit

# Lower layers first; a package may import packages of its own layer's predecessors only.
LAYERS: list[set[str]] = [
    {"xueji", "config", "clock", "errors", "paging"},
    {"deadlines", "web", "request_limits", "openapi", "spreadsheets"},
    {"db", "engine"},
    {"models", "runtime", "backup"},
    {"auth"},
    {"audit"},
    {"accounts", "events", "forms"},
    {"history"},
    {"definitions"},
    {"instances"},
    {"operations"},
    {"students", "stations"},
    {"uploads"},
    {"documents"},
    {"process_logic"},
    {"imports"},
    {"tasks", "messages", "scheduler", "health"},
    {"exports"},
    {"demo", "wiring"},
    {"startup", "demo_endpoints"},
    {"app"},
    {"cli"},
]


def test_no_package_imports_another_that_imports_it_back():
    assert cycles(package_graph()) == []


def test_no_module_imports_another_that_imports_it_back():
    assert cycles(module_graph()) == []


def test_packages_import_only_lower_layers():
    level = {name: index for index, layer in enumerate(LAYERS) for name in layer}
    graph = package_graph()
    assert set(graph) <= set(level), f"packages without a layer: {set(graph) - set(level)}"
    upward = sorted(
        f"{source} -> {target}"
        for source, targets in graph.items()
        for target in targets
        if level[target] >= level[source]
    )
    assert upward == []


def test_only_the_engine_imports_spiffworkflow():
    importers = []
    for module, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(name.split(".")[0] == "SpiffWorkflow" for name in names):
                importers.append(module)
    assert {unit(m) for m in importers} == {"engine"}, sorted(importers)


def test_the_checker_sees_a_cycle_where_there_is_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


_IMPORT_EACH = """
import importlib, json, sys, traceback
failures = {}
for name in json.loads(sys.argv[1]):
    for loaded in [m for m in sys.modules if m == "xueji" or m.startswith("xueji.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except BaseException:
        failures[name] = traceback.format_exc(limit=3)
print(json.dumps(failures))
"""


def test_every_module_imports_alone_in_a_fresh_interpreter():
    names = sorted(modules())
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH, json.dumps(names)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=SRC.parent,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    failures = json.loads(result.stdout.strip().splitlines()[-1])
    assert failures == {}, "\n".join(f"{k}:\n{v}" for k, v in failures.items())
    assert len(names) > 80
