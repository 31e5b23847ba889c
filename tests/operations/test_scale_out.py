"""Several replicas without Docker: 2 `xueji serve` and 2 `xueji worker` processes started
at the same moment on one new PostgreSQL database (their start-up migrations, deployments
and demo seeding race), work done through each server, each due timer fired exactly once;
and a server that stops on SIGTERM while an event stream is open."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import Counter

import httpx
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from tests.test_cli_subprocess import CLI, Server, http, login, make_env, new_database
from xueji.models import HistoryEvent

__all__ = ["new_database"]  # the fixture, shared with the CLI tests

# A case that waits for its station's report; past 4 s a timer hands it to the registrar.
SCALE_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                  id="scale_definitions" targetNamespace="http://xueji.example/test">
  <bpmn:process id="scale" name="多副本测试" isExecutable="true">
    <bpmn:laneSet id="scale_lanes">
      <bpmn:lane id="lane_station" name="函授站">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>report</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>late</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>reported_end</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>late_end</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="lane_registrar" name="学院学籍管理">
        <bpmn:flowNodeRef>chase</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="开始"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="report" name="上报">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="late" name="4 秒后" attachedToRef="report">
      <bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition id="late_timer">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT4S"</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:userTask id="chase" name="催报">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="reported_end" name="上报完毕"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="late_end" name="逾期处理完毕"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="report" />
    <bpmn:sequenceFlow id="f2" sourceRef="report" targetRef="reported_end" />
    <bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="chase" />
    <bpmn:sequenceFlow id="f4" sourceRef="chase" targetRef="late_end" />
  </bpmn:process>
</bpmn:definitions>
"""
PER_SERVER = 4  # cases started through each server; one of them reported in time


def _start(api, headers) -> str:
    response = api.post(
        "/api/v1/process-definitions/scale/start", json={"variables": {}}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.mark.skipif(
    not os.environ.get("XUEJI_TEST_DATABASE_URL"), reason="replicas share a PostgreSQL database"
)
def test_two_servers_and_two_workers_start_together_and_fire_each_timer_once(
    new_database, tmp_path
):
    url = new_database()
    processes = tmp_path / "processes"
    processes.mkdir()
    (processes / "scale.bpmn").write_text(SCALE_BPMN)
    env = make_env(
        url,
        tmp_path / "work",
        XUEJI_PROCESSES_DIR=str(processes),
        XUEJI_WORKER_POLL_SECONDS="0.5",
        XUEJI_PASSWORD_HASHING="fast",
    )
    workdir = tmp_path / "work"
    logs = [(workdir / f"worker-{n}.log").open("w") for n in range(2)]
    workers = [
        subprocess.Popen(
            [*CLI, "worker"], env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT
        )
        for log in logs
    ]
    servers = [Server(env, ("--demo",)) for _ in range(2)]
    try:
        starting = [threading.Thread(target=server.start) for server in servers]
        for thread in starting:
            thread.start()
        for thread in starting:
            thread.join()
        assert all(s.process and s.process.poll() is None for s in servers), [
            s.log() for s in servers
        ]

        started: dict[int, list[str]] = {}
        for index, server in enumerate(servers):
            with http(server) as api:
                assert api.get("/api/v1/health/live").status_code == 200
                station = login(api, "station1")
                started[index] = [_start(api, station) for _ in range(PER_SERVER)]
                # one case of each server reported at once, through that server
                report = next(
                    t
                    for t in api.get("/api/v1/tasks", headers=station).json()["items"]
                    if t["instance_id"] == started[index][0]
                )
                done = api.post(
                    f"/api/v1/tasks/{report['id']}/complete", json={"data": {}}, headers=station
                )
                assert done.status_code == 200, done.text

        late = {i for ids in started.values() for i in ids[1:]}
        deadline = time.monotonic() + 30
        with http(servers[0]) as api:
            registrar = login(api, "registrar")
            while time.monotonic() < deadline:
                chased = api.get("/api/v1/tasks", headers=registrar).json()["items"]
                if {t["instance_id"] for t in chased} >= late:
                    break
                time.sleep(0.5)
            assert {t["instance_id"] for t in chased} == late
            ready = api.get("/api/v1/health/ready")
            assert ready.status_code == 200, ready.text
        # the registrar clears them through both servers
        for index, task in enumerate(chased):
            with http(servers[index % 2]) as api:
                done = api.post(
                    f"/api/v1/tasks/{task['id']}/complete",
                    json={"data": {}},
                    headers=login(api, "registrar"),
                )
                assert done.status_code == 200, done.text
        time.sleep(1.5)  # a few more worker passes: nothing fires twice
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                fired = Counter(
                    connection.scalars(
                        select(HistoryEvent.instance_id).where(HistoryEvent.kind == "timer_fired")
                    )
                )
        finally:
            engine.dispose()
        assert fired == Counter({instance_id: 1 for instance_id in late})
        for server in servers:
            log = server.log()
            assert "Traceback" not in log and "ERROR" not in log, log
        for n in range(2):
            log = (workdir / f"worker-{n}.log").read_text()
            assert "Traceback" not in log, log

        # the database goes away: both servers say they are not ready (and still live)
        database = make_url(url).database
        admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE "{database}" WITH (FORCE)'))
        finally:
            admin.dispose()
        for server in servers:
            with http(server) as api:
                gone = api.get("/api/v1/health/ready")
                assert gone.status_code == 503, gone.text
                assert gone.json()["checks"]["database"]["ok"] is False
                assert api.get("/api/v1/health/live").status_code == 200
    finally:
        for server in servers:
            server.stop()
        for worker in workers:
            worker.terminate()
        for worker in workers:
            assert worker.wait(20) in (0, -signal.SIGTERM)
        for log in logs:
            log.close()


def test_sigterm_ends_open_event_streams_and_the_server(new_database, tmp_path):
    env = make_env(new_database(), tmp_path, XUEJI_PASSWORD_HASHING="fast")
    server = Server(env, ("--demo",)).start()
    ended = threading.Event()
    opened = threading.Event()

    def listen() -> None:
        with httpx.Client(base_url=server.url, timeout=60, trust_env=False) as client:
            headers = login(client, "admin")
            with client.stream("GET", "/api/v1/events/stream", headers=headers) as stream:
                opened.set()
                for _ in stream.iter_raw():
                    pass
        ended.set()

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    try:
        assert opened.wait(20)
        began = time.monotonic()
        # uvicorn re-raises SIGTERM after a complete shutdown: 0 or "ended by SIGTERM"
        assert server.terminate(timeout=15) in (0, -signal.SIGTERM), server.log()
        assert time.monotonic() - began < 8, server.log()
        assert "Application shutdown complete" in server.log()
        assert ended.wait(5)
    finally:
        server.stop()
