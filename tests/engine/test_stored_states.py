"""Rows saved by the pinned SpiffWorkflow (3.2.0) must load and run on.

Before upgrading SpiffWorkflow, keep these files: they are rows written by the old version,
and this test is what shows that the new version's migrations read them correctly.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from SpiffWorkflow.task import TaskState

from tests.helpers import FIXTURES
from xueji.engine import serializer
from xueji.engine.parser import build_specs
from xueji.engine.runner import Runner
from xueji.engine.xml import parse_xml

STATES = Path(__file__).parents[1] / "fixtures" / "states"


def test_state_saved_by_spiffworkflow_3_2_0_loads_and_runs_on():
    saved = (STATES / "review_after_apply.spiff-3.2.0.json").read_text()
    assert json.loads(saved)["serializer_version"] == "1.5"
    specs = build_specs(
        "review", [("review.bpmn", parse_xml((FIXTURES / "review.bpmn").read_bytes()))]
    )
    runner = Runner()
    workflow = runner.attach(serializer.loads(saved, 1, *specs))
    [ready] = workflow.get_tasks(state=TaskState.READY, manual=True)
    assert ready.task_spec.bpmn_id == "station_review"
    assert ready.data["applied_on"] == date(2027, 2, 20)
    assert ready.data["fee"] == Decimal("0.50")
    assert ready.data["reason"] == "工作调动"
    runner.complete(workflow, str(ready.id), {"outcome": "approved"})
    [college] = workflow.get_tasks(state=TaskState.READY, manual=True)
    runner.complete(workflow, str(college.id), {"outcome": "approved"})
    assert workflow.completed and workflow.last_task.data["result"] == "通过"
