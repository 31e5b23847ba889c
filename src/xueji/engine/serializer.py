"""Instance state as JSON without the spec, and the data types that may live in it.

A stored row holds the task tree and data only; the spec comes from the definition version
the instance started with (parsed once, cached). SpiffWorkflow's default converter embeds the
whole spec in every row, which makes rows large and ties them to the library's spec format.
"""

from __future__ import annotations

import json
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


def check_data(value: Any, path: str = "") -> None:
    """Refuse data the serializer cannot restore as it was: 'typename' keys, odd types."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if not isinstance(key, str):
                raise UnsafeData(f"{where}: keys must be strings")
            if key == "typename":
                raise UnsafeData(f"{where}: the key 'typename' is reserved by the engine")
            check_data(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_data(item, f"{path}[{index}]")
    elif isinstance(value, float) and value != value:
        raise UnsafeData(f"{path}: NaN is not a value")
    elif not isinstance(value, _PLAIN + _TYPED):
        raise UnsafeData(f"{path}: values of type {type(value).__name__} cannot be stored")


def plain(data: dict[str, Any]) -> dict[str, Any]:
    """Task data as plain JSON (dates as ISO strings), e.g. for a variables column."""
    result: dict[str, Any] = json.loads(json.dumps(data, default=str, ensure_ascii=False))
    return result
