"""Large diagrams deploy or are refused with a clear size limit, never a RecursionError."""

from __future__ import annotations

from tests.helpers import auth
from xueji.auth.roles import role_for_lane
from xueji.engine.validation import MAX_CHAIN, MAX_FLOW_NODES, Catalog, inspect_upload


def chain(n: int, branches: int = 1) -> bytes:
    """A process of `branches` parallel chains of `n` manual tasks each."""
    tasks, flows, refs = [], [], []
    split = ["start"]
    if branches > 1:
        tasks.append('<bpmn:parallelGateway id="fork"><bpmn:incoming>f_in</bpmn:incoming>')
        flows.append('<bpmn:sequenceFlow id="f_in" sourceRef="start" targetRef="fork" />')
        split = ["fork"]
    for b in range(branches):
        previous = split[0]
        for i in range(n):
            task, flow = f"t{b}_{i}", f"f{b}_{i}"
            if branches > 1 and i == 0:
                tasks[0] = tasks[0].replace(
                    "</bpmn:incoming>", f"</bpmn:incoming><bpmn:outgoing>{flow}</bpmn:outgoing>", 1
                )
            tasks.append(
                f'<bpmn:manualTask id="{task}" name="步骤{i}"><bpmn:incoming>{flow}</bpmn:incoming>'
                f"<bpmn:outgoing>f{b}_{i + 1}</bpmn:outgoing></bpmn:manualTask>"
            )
            flows.append(
                f'<bpmn:sequenceFlow id="{flow}" sourceRef="{previous}" targetRef="{task}" />'
            )
            refs.append(f"<bpmn:flowNodeRef>{task}</bpmn:flowNodeRef>")
            previous = task
        flows.append(
            f'<bpmn:sequenceFlow id="f{b}_{n}" sourceRef="{previous}" targetRef="end{b}" />'
        )
        tasks.append(
            f'<bpmn:endEvent id="end{b}" name="结束"><bpmn:incoming>f{b}_{n}</bpmn:incoming></bpmn:endEvent>'
        )
        refs.append(f"<bpmn:flowNodeRef>end{b}</bpmn:flowNodeRef>")
    if branches > 1:
        tasks[0] += "</bpmn:parallelGateway>"
    first = "f_in" if branches > 1 else "f0_0"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://x">
<bpmn:process id="big" name="大流程" isExecutable="true">
<bpmn:laneSet id="ls"><bpmn:lane id="l" name="学院学籍管理"><bpmn:flowNodeRef>start</bpmn:flowNodeRef>{"".join(refs)}</bpmn:lane></bpmn:laneSet>
<bpmn:startEvent id="start" name="开始"><bpmn:outgoing>{first}</bpmn:outgoing></bpmn:startEvent>
{"".join(tasks)}
{"".join(flows)}
</bpmn:process></bpmn:definitions>""".encode()


def problems_of(content: bytes):
    catalog = Catalog(
        forms={}, processes={}, decisions={}, services=set(), role_for_lane=role_for_lane
    )
    return inspect_upload({"big.bpmn": content}, catalog).problems


def test_a_chain_of_3333_tasks_is_refused_with_the_limit_not_a_recursion_error():
    [problem] = problems_of(chain(3333))
    assert problem.element_id == "big"
    assert f"{MAX_CHAIN:,}" in problem.message and "3,33" in problem.message
    assert "Recursion" not in problem.message


def test_ten_thousand_elements_are_refused_with_the_size_limit():
    [problem] = problems_of(chain(100, branches=100))
    assert f"{MAX_FLOW_NODES:,}" in problem.message and "10,1" in problem.message


def test_a_large_valid_process_deploys_and_runs_to_its_end(client, db):
    content = chain(MAX_CHAIN - 20)
    assert problems_of(content) == []
    files = [("files", ("big.bpmn", content))]
    deployed = client.post("/api/v1/deployments", files=files, headers=auth(client, "admin"))
    assert deployed.status_code == 201, deployed.text
    started = client.post(
        "/api/v1/process-definitions/big/start", json={}, headers=auth(client, "registrar")
    )
    assert started.status_code == 201, started.text
    task = started.json()["active_tasks"][0]
    for _ in range(MAX_CHAIN - 20):
        done = client.post(
            f"/api/v1/tasks/{task['id']}/complete",
            json={"data": {}},
            headers=auth(client, "registrar"),
        )
        assert done.status_code == 200, done.text
        tasks = done.json()["next_tasks"]
        if not tasks:
            break
        task = tasks[0]
    assert done.json()["instance"]["state"] == "completed"
