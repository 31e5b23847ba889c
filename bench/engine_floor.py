"""The floor: SpiffWorkflow's own cycle for one user task of the ten-task process, in-process,
no database, no HTTP — deserialize, complete the task, run the engine steps, serialize (with
the library's own parser, script engine and serializer, as a bare service on it would)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import TaskState

FIXTURE = Path(__file__).parent / "fixtures" / "bench_ten_steps.bpmn"


def _one_instance(spec, serializer: BpmnWorkflowSerializer) -> list[float]:
    """Wall-clock milliseconds of each of the ten cycles of one instance."""
    workflow = BpmnWorkflow(spec)
    workflow.do_engine_steps()
    state = serializer.serialize_json(workflow)
    times = []
    for step in range(10):
        began = time.perf_counter()
        workflow = serializer.deserialize_json(state)
        (task,) = workflow.get_tasks(state=TaskState.READY, manual=True)
        task.data.update({"note": f"第{step}步"})
        task.run()
        workflow.do_engine_steps()
        state = serializer.serialize_json(workflow)
        times.append((time.perf_counter() - began) * 1000)
    assert workflow.completed
    return times


def engine_step_ms(instances: int) -> dict[str, float]:
    """The median cycle (wall clock), and the mean CPU time of one (not inflated by other
    processes on a shared machine, unlike the wall clock)."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(FIXTURE))
    spec = parser.get_spec("bench_ten_steps")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    _one_instance(spec, serializer)  # warm up
    cpu = time.process_time()
    times = [ms for _ in range(instances) for ms in _one_instance(spec, serializer)]
    cpu_ms = (time.process_time() - cpu) * 1000 / len(times)
    return {"engine_step_ms": statistics.median(times), "engine_step_cpu_ms": cpu_ms}
