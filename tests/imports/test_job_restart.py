"""An import job survives its worker: a real `xueji worker` process is killed (SIGKILL) in the
middle of a job; nothing was written, and another worker, once the lease is past, takes the job
again and finishes it, its percent seen rising while it runs."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.helpers import auth
from tests.imports.test_imports import ADMISSION_HEADER, admission, admissions, post, xlsx
from xueji.imports.jobs import LEASE
from xueji.models import ImportJob

ROOT = Path(__file__).resolve().parents[2]
ROWS = 5000


def worker_env(db) -> dict[str, str]:
    settings = db.settings
    return {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT / "src"),
        "XUEJI_DATABASE_URL": settings.database_url,
        "XUEJI_DATA_DIR": str(settings.data_dir),
        "XUEJI_UPLOAD_DIR": str(settings.upload_dir or settings.data_dir / "uploads"),
        "XUEJI_SECRET_KEY": settings.secret_key,
        "XUEJI_PROCESSES_DIR": str(settings.processes_dir),
        "XUEJI_FORMS_DIR": str(settings.forms_dir),
        "XUEJI_WORKER_POLL_SECONDS": "0.2",
    }


def job_row(db, job_id: str) -> ImportJob:
    with db.db.reader() as session:
        job = session.get(ImportJob, job_id)
        session.expunge(job)
        return job


def watch(db, job_id: str, process: subprocess.Popen, until, timeout: float = 90) -> list[int]:
    """The job's percent, read from another connection every 20 ms while `until(job)` is false
    and the process runs."""
    seen: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = job_row(db, job_id)
        if not seen or seen[-1] != job.percent:
            seen.append(job.percent)
        if until(job) or process.poll() is not None:
            return seen
        time.sleep(0.02)
    process.kill()
    raise AssertionError(f"the job did not get there: {job_row(db, job_id).state}, {seen}")


def test_a_job_whose_worker_was_killed_is_finished_by_another(client, db):
    before = admissions(client)["total"]
    content = xlsx(ADMISSION_HEADER, [admission(20000 + n) for n in range(ROWS)])
    job = post(client, "registrar", "admissions", content, expect=202)
    command = [sys.executable, "-m", "xueji.cli", "worker"]

    first = subprocess.Popen(command, env=worker_env(db), stderr=subprocess.PIPE, text=True)
    watch(db, job["id"], first, lambda j: j.state == "running" and j.percent > 0)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    cut = job_row(db, job["id"])
    assert (cut.state, cut.attempts, cut.written_rows) == ("running", 1, 0), first.stderr.read()
    assert 0 < cut.percent < 100 and cut.claimed_by is not None
    assert admissions(client)["total"] == before  # its transaction never committed

    # another worker, once the first one's lease is past
    later = (datetime.now(UTC) + LEASE + timedelta(minutes=1)).isoformat()
    second = subprocess.Popen(
        [*command, "--once", "--now", later],
        env=worker_env(db),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = watch(db, job["id"], second, lambda j: j.state not in ("queued", "running"))
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    done = job_row(db, job["id"])
    assert (done.state, done.percent, done.written_rows, done.attempts) == ("done", 100, ROWS, 2)
    assert done.claimed_by is None
    assert admissions(client)["total"] == before + ROWS
    # the percent rose, step by step, from the restart to 100
    running = [p for p in seen if 0 < p < 100]
    assert len(running) >= 3 and running == sorted(running), seen
    answer = client.get(f"/api/v1/imports/jobs/{job['id']}", headers=auth(client, "registrar"))
    assert answer.json()["state"] == "done"
