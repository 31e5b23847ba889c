"""The service under test as real processes: `xueji serve` under uvicorn (one or more) and
`xueji worker`, on a fresh SQLite file or PostgreSQL database; their CPU time and memory
read from /proc."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
XUEJI = Path(sys.executable).parent / "xueji"
PG_SERVER = os.environ.get(
    "XUEJI_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
FIXTURES = Path(__file__).parent / "fixtures"
_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def postgres_database(server: str, prefix: str) -> Iterator[str]:
    """A new database on the PostgreSQL server of `server` (a URL), dropped afterwards: its URL.
    (The suite's fixtures use it too, from tests/helpers.py.)"""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(server).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Database:
    """A fresh database of one kind, dropped (PostgreSQL) when closed."""

    def __init__(self, kind: str, workdir: Path):
        self.kind = kind
        self._made = None
        if kind == "sqlite":
            self.url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        else:
            self._made = postgres_database(PG_SERVER, "xueji_bench")
            self.url = self._made.__enter__()

    def close(self) -> None:
        if self._made is not None:
            self._made.__exit__(None, None, None)
            self._made = None


class Service:
    """`serves` API processes (the first migrates and seeds the demo accounts) and a worker."""

    def __init__(self, database: Database, workdir: Path, serves: int = 1):
        empty = workdir / "empty"
        empty.mkdir(exist_ok=True)
        self.env = {
            **os.environ,
            "XUEJI_DATABASE_URL": database.url,
            "XUEJI_DATA_DIR": str(workdir),
            "XUEJI_SECRET_KEY": "bench-secret-key-0123456789-0123456789",
            "XUEJI_PROCESSES_DIR": str(empty),
            "XUEJI_FORMS_DIR": str(empty),
            "XUEJI_RUN_WORKER": "0",
            "XUEJI_DEMO": "1",
            "XUEJI_PASSWORD_HASHING": "fast",  # logins are not what is measured
        }
        self.workdir = workdir
        self.serves = serves
        self.processes: list[subprocess.Popen] = []
        self.urls: list[str] = []

    def __enter__(self) -> Service:
        for _ in range(self.serves):
            port = free_port()
            log = open(self.workdir / f"serve-{port}.log", "w")  # noqa: SIM115
            self.processes.append(
                subprocess.Popen(
                    [str(XUEJI), "serve", "--port", str(port)],
                    env=self.env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            url = f"http://127.0.0.1:{port}"
            _wait_ready(url, self.processes[-1])
            self.urls.append(url)
        log = open(self.workdir / "worker.log", "w")  # noqa: SIM115
        self.processes.append(
            subprocess.Popen(
                [str(XUEJI), "worker"], env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )
        )
        # Its start (imports, its first pass: about a second of CPU) is not what is measured.
        _wait_ready(self.urls[0], self.processes[-1], "/api/v1/health/ready")
        return self

    def __exit__(self, *exc) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()

    def cpu_ms(self) -> float:
        """CPU time (user + system) of every service process and their children so far."""
        return sum(_tree_cpu_ms(p.pid) for p in self.processes)

    def rss_mb(self) -> float:
        """Resident memory of the first API process (without its script workers)."""
        for line in Path(f"/proc/{self.processes[0].pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")


def _wait_ready(url: str, process: subprocess.Popen, path: str = "/openapi.json") -> None:
    """Until `url` answers `path` with 200 (the worker: until /health/ready sees its pass)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[1:]} exited with {process.returncode}")
        try:
            if httpx.get(url + path, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{process.args[1:]} did not start")


def _tree_cpu_ms(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    # utime, stime, and the waited-for children's cutime, cstime (fields 14-17)
    own = sum(int(v) for v in fields[11:15]) * 1000 / _TICKS
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += (task / "children").read_text().split()
    return own + sum(_tree_cpu_ms(int(child)) for child in children)
