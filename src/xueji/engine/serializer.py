"""Instance state as JSON without the spec, and the data types that may live in it.

A stored row holds the task tree and data only; the spec comes from the definition version
the instance started with (parsed once, cached). SpiffWorkflow's default converter embeds the
whole spec in every row, which makes rows large and ties them to the library's spec format.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

DEFINITION_KEY = "xueji_definition"


class UnsafeData(ValueError):
    """Data that the serializer could not restore faithfully."""


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Converts a top-level workflow without its spec; restoring takes the spec as an argument."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        if spec is None:
            raise ValueError("a spec is needed to restore a workflow")
        workflow = self.target_class(spec, subprocess_specs or {}, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _registry():
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = SpeclessWorkflowConverter
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(
        date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"])
    )
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
    return registry


_SERIALIZER = BpmnWorkflowSerializer(_registry())
# Task data deltas are converted only by the JSON encoder, in the registry's "encoder mode".
# The library flips that shared flag on and off around each dump, which races between
# threads; we only ever dump through the encoder, so it stays on.
_SERIALIZER.registry._encoder_mode = True


def dumps(workflow: BpmnWorkflow, definition_id: int) -> str:
    """Serialize the workflow's state (no spec) to a JSON string."""
    dct = _SERIALIZER.to_dict(workflow)
    dct[_SERIALIZER.VERSION_KEY] = _SERIALIZER.VERSION
    dct[DEFINITION_KEY] = definition_id
    return json.dumps(dct, cls=_SERIALIZER._encoder_cls, ensure_ascii=False, separators=(",", ":"))


def loads(state: str, definition_id: int, spec, subprocess_specs) -> BpmnWorkflow:
    """Restore a workflow saved by `dumps` onto the spec of its definition version."""
    dct = json.loads(state)
    saved_for = dct.pop(DEFINITION_KEY, None)
    if saved_for != definition_id:
        raise ValueError(f"state was saved for definition {saved_for}, not {definition_id}")
    _SERIALIZER.migrate(dct)
    return _SERIALIZER.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)


_PLAIN = (str, int, float, bool, type(None))
_TYPED = (datetime, date, Decimal)
MAX_DEPTH = 32  # levels of nested lists and dicts in one value
# JSON cannot carry longer integers: Python's json refuses more than 4300 digits.
MAX_INT_DIGITS = 4300
_INT_BOUND = 10**MAX_INT_DIGITS
_SURROGATE = re.compile("[\ud800-\udfff]")


class DataTooLarge(UnsafeData):
    """Data over the size a caller allowed (`check_data(..., max_bytes=…)`)."""


def describe_size(size: int) -> str:
    """512 MiB, 1 MiB, 64 KiB or 1000 bytes."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            amount = size / factor
            return f"{amount:.0f} {unit}" if amount == int(amount) else f"{amount:.1f} {unit}"
    return f"{size} bytes"


def check_data(
    value: Any, path: str = "", *, max_depth: int = MAX_DEPTH, max_bytes: int | None = None
) -> int:
    """Refuse data the serializer cannot restore as it was; return its approximate JSON size.

    Refused, naming the value's path and why: keys that are not strings, the reserved key
    'typename', types other than JSON's and datetime/date/Decimal, NaN and infinities,
    integers longer than MAX_INT_DIGITS digits, text with unpaired surrogates, lists and
    dicts nested deeper than `max_depth` levels (a cycle is too deep), and with `max_bytes`
    a value whose JSON is surely larger: the size is a lower bound, counted as the walk goes,
    so that DataTooLarge stops it as soon as the bound is passed.

    `path` names the value (a variable: "x"); without it `value` is a whole data dict whose
    items are the variables, and that dict is no level of its own.
    """
    checker = _Checker(max_depth, max_bytes)
    if path == "" and isinstance(value, dict):
        size = 2
        for key, item in value.items():
            size += checker.key(key, [])
            size += checker.walk(item, [key], 0)
        return size
    return checker.walk(value, [path], 0)


def _where(path: list[Any]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else f".{step}" if text else step
    return text or "data"


class _Checker:
    def __init__(self, max_depth: int, max_bytes: int | None):
        self.max_depth = max_depth
        self.limit = max_bytes
        self.left = max_bytes if max_bytes is not None else -1

    def spend(self, size: int, path: list[Any]) -> int:
        if self.limit is not None:
            self.left -= size
            if self.left < 0:
                raise DataTooLarge(f"{_where(path)}: larger than {describe_size(self.limit)}")
        return size

    def key(self, key: Any, path: list[Any]) -> int:
        if not isinstance(key, str):
            raise UnsafeData(f"{_where(path)}: keys must be strings (got {key!r:.80})")
        if key == "typename":
            raise UnsafeData(
                f"{_where([*path, key])}: the key 'typename' is reserved by the engine"
            )
        return self.text(key, path) + 1

    def text(self, text: str, path: list[Any]) -> int:
        size = self.spend(len(text) + 2, path)
        if not text.isascii() and _SURROGATE.search(text):
            raise UnsafeData(f"{_where(path)}: text with unpaired surrogates cannot be stored")
        return size

    def walk(self, value: Any, path: list[Any], depth: int) -> int:
        kind = type(value)
        if kind is str:
            return self.text(value, path)
        if kind is int and -_INT_BOUND < value < _INT_BOUND:
            return self.spend(value.bit_length() * 3 // 10 + 1, path)
        if kind is list or kind is dict:
            if depth >= self.max_depth:
                raise UnsafeData(f"{path[0] or 'data'}: nested deeper than {self.max_depth} levels")
            # Each item takes two characters or more ("0," or "\"\":0,"): a quick refusal.
            count = len(value)
            if self.limit is not None and count * (5 if kind is dict else 2) > self.left:
                self.spend(self.left + 1, path)
            size = self.spend(count + 1, path)  # brackets and commas
            if kind is dict:
                for key, item in value.items():
                    size += self.key(key, path)
                    path.append(key)
                    size += self.walk(item, path, depth + 1)
                    path.pop()
            else:
                for index, item in enumerate(value):
                    path.append(index)
                    size += self.walk(item, path, depth + 1)
                    path.pop()
            return size
        return self.scalar(value, path)

    def scalar(self, value: Any, path: list[Any]) -> int:
        if isinstance(value, bool) or value is None:
            return self.spend(4, path)
        if isinstance(value, str):
            return self.text(value, path)
        if isinstance(value, int):
            if -_INT_BOUND >= value or value >= _INT_BOUND:
                raise UnsafeData(f"{_where(path)}: integer larger than {MAX_INT_DIGITS} digits")
            return self.spend(value.bit_length() * 3 // 10 + 1, path)
        if isinstance(value, float):
            if value != value:
                raise UnsafeData(f"{_where(path)}: NaN is not a value")
            if value in (float("inf"), float("-inf")):
                raise UnsafeData(f"{_where(path)}: infinity is not a value")
            return self.spend(8, path)
        if isinstance(value, Decimal):
            return self.spend(len(str(value)) + 40, path)
        if isinstance(value, _TYPED):
            return self.spend(60, path)
        if isinstance(value, dict | list):  # a subclass
            raise UnsafeData(
                f"{_where(path)}: values of type {type(value).__name__} cannot be stored"
            )
        raise UnsafeData(f"{_where(path)}: values of type {type(value).__name__} cannot be stored")


def plain(data: dict[str, Any]) -> dict[str, Any]:
    """Task data as plain JSON (dates as ISO strings), e.g. for a variables column."""
    result: dict[str, Any] = json.loads(json.dumps(data, default=str, ensure_ascii=False))
    return result
