"""Instance state without the spec: round trips, size, data that may and may not be stored."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from SpiffWorkflow.task import TaskState

from tests.helpers import FIXTURES
from xueji.engine import serializer
from xueji.engine.parser import build_specs
from xueji.engine.runner import Runner
from xueji.engine.xml import parse_xml


@pytest.fixture(scope="module")
def specs():
    root = parse_xml((FIXTURES / "review.bpmn").read_bytes())
    return build_specs("review", [("review.bpmn", root)])


def snapshot(workflow):
    return sorted(
        (str(t.id), t.task_spec.name, t.state, json.dumps(t.data, default=str, sort_keys=True))
        for t in workflow.get_tasks()
    )


def test_round_trip_keeps_every_task_and_its_data(specs):
    runner = Runner()
    workflow = runner.new_workflow(*specs)
    runner.start(
        workflow,
        {
            "kind": "休学",
            "when": date(2027, 3, 1),
            "fee": Decimal("12.50"),
            "at": datetime(2027, 3, 1, 8, 0, tzinfo=UTC),
        },
    )
    state = serializer.dumps(workflow, 7)
    restored = serializer.loads(state, 7, *specs)
    assert snapshot(restored) == snapshot(workflow)
    [ready] = restored.get_tasks(state=TaskState.READY, manual=True)
    assert ready.data["when"] == date(2027, 3, 1) and ready.data["fee"] == Decimal("12.50")
    assert serializer.dumps(restored, 7) == state

    # and it runs on after the restore
    runner.attach(restored)
    runner.complete(restored, str(ready.id), {"reason": "r", "effective_term": "2027-春"})
    again = serializer.loads(serializer.dumps(restored, 7), 7, *specs)
    assert snapshot(again) == snapshot(restored)


def test_state_holds_no_spec_and_stays_small(specs):
    runner = Runner()
    workflow = runner.new_workflow(*specs)
    runner.start(workflow, {"kind": "休学"})
    state = json.loads(serializer.dumps(workflow, 1))
    assert "spec" not in state and "subprocess_specs" not in state
    assert len(serializer.dumps(workflow, 1)) < 8_000


def test_state_refuses_to_load_on_another_definition(specs):
    runner = Runner()
    workflow = runner.new_workflow(*specs)
    runner.start(workflow, {"kind": "休学"})
    with pytest.raises(ValueError, match="saved for definition 1"):
        serializer.loads(serializer.dumps(workflow, 1), 2, *specs)


@pytest.mark.parametrize(
    "data, where",
    [
        ({"typename": "UUID"}, "typename"),
        ({"a": [{"typename": "x"}]}, "a[0].typename"),
        ({"a": {1, 2}}, "a"),
        ({"a": float("nan")}, "a"),
        ({"a": object()}, "a"),
    ],
)
def test_data_the_serializer_cannot_restore_is_refused(data, where):
    with pytest.raises(serializer.UnsafeData, match=where.replace("[", r"\[").replace("]", r"\]")):
        serializer.check_data(data)


def test_plain_and_dated_data_is_accepted():
    serializer.check_data(
        {
            "a": [1, "x", None, True, 1.5, {"b": date(2027, 1, 1)}],
            "c": Decimal("1"),
            "d": datetime(2027, 1, 1),
        }
    )
