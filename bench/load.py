"""The workload over real HTTP: a station user starts the ten-task process and drives it
to its end, each step as a person would (get my task, submit its form)."""

from __future__ import annotations

import statistics
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field

import httpx
from service import FIXTURES

PROCESS = "bench_ten_steps"
USER = "station1"  # api.md's S01 station account (demo password)


def login(url: str, username: str = USER, password: str = "demo") -> httpx.Client:
    client = httpx.Client(base_url=url + "/api/v1", timeout=60)
    response = client.post("/auth/token", data={"username": username, "password": password})
    response.raise_for_status()
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return client


def deploy(url: str) -> None:
    with closing(login(url, "admin")) as admin:
        files = [
            ("files", (p.name, p.read_bytes()))
            for p in (FIXTURES / "bench_note.schema.json", FIXTURES / f"{PROCESS}.bpmn")
        ]
        admin.post("/deployments", files=files).raise_for_status()


@dataclass
class Timings:
    instances: int = 0
    instance_ms: list[float] = field(default_factory=list)
    complete_ms: list[float] = field(default_factory=list)
    inbox_ms: list[float] = field(default_factory=list)

    def add(self, other: Timings) -> None:
        self.instances += other.instances
        self.instance_ms += other.instance_ms
        self.complete_ms += other.complete_ms
        self.inbox_ms += other.inbox_ms


def run_instance(client: httpx.Client, timings: Timings) -> None:
    began = time.perf_counter()
    response = client.post(f"/process-definitions/{PROCESS}/start", json={"variables": {}})
    response.raise_for_status()
    instance_id = response.json()["id"]
    for step in range(10):
        t0 = time.perf_counter()
        items = client.get("/tasks", params={"instance_id": instance_id}).json()["items"]
        t1 = time.perf_counter()
        (task,) = items
        done = client.post(f"/tasks/{task['id']}/complete", json={"data": {"note": f"第{step}步"}})
        done.raise_for_status()
        timings.inbox_ms.append((t1 - t0) * 1000)
        timings.complete_ms.append((time.perf_counter() - t1) * 1000)
    assert done.json()["instance"]["state"] == "completed", done.text
    timings.instance_ms.append((time.perf_counter() - began) * 1000)
    timings.instances += 1


def single_client(client: httpx.Client, instances: int) -> Timings:
    timings = Timings()
    for _ in range(instances):
        run_instance(client, timings)
    return timings


def concurrent(urls: list[str], clients: int, seconds: float) -> tuple[float, Timings]:
    """Instances per second of `clients` clients spread over `urls` for `seconds`."""
    sessions = [login(urls[index % len(urls)]) for index in range(clients)]
    results = [Timings() for _ in sessions]
    stop = time.monotonic() + seconds

    def drive(client: httpx.Client, timings: Timings) -> None:
        while time.monotonic() < stop:
            run_instance(client, timings)

    began = time.perf_counter()
    threads = [
        threading.Thread(target=drive, args=pair) for pair in zip(sessions, results, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    total = Timings()
    for timings, client in zip(results, sessions, strict=True):
        total.add(timings)
        client.close()
    return total.instances / elapsed, total


def p50(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]
