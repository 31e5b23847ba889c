"""Wall-clock of POST /auth/token for an unknown and a known username (wrong password), at
the production hash cost: `.venv/bin/python -m tests.auth.bench_login_timing [ROUNDS]`.

Not a test (timings vary by machine); the test of the rule counts argon2 verifications
(test_timing.py). Throttling is turned off here, since every attempt fails."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main(rounds: int = 20) -> None:
    os.environ["XUEJI_PASSWORD_HASHING"] = "standard"
    from fastapi.testclient import TestClient

    from xueji.app import create_app
    from xueji.auth.service import create_user
    from xueji.config import Settings, get_settings
    from xueji.db.migrate import upgrade
    from xueji.db.session import session_scope
    from xueji.wiring import build_runtime

    get_settings.cache_clear()
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty"
        empty.mkdir()
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
            data_dir=Path(tmp),
            secret_key="bench",
            processes_dir=empty,
            forms_dir=empty,
            run_worker=False,
            login_failures_per_username=0,
            login_failures_per_address=0,
        )
        runtime = build_runtime(settings)
        upgrade(runtime.db.engine)
        with session_scope(runtime.db.writer) as session:
            create_user(session, "known", "the-real-password", "Known", ["registrar"])
        app = create_app(settings, runtime, prepare_on_start=False)
        with TestClient(app) as client:

            def timed(username: str) -> float:
                start = time.perf_counter()
                response = client.post(
                    "/api/v1/auth/token", data={"username": username, "password": "wrong"}
                )
                elapsed = time.perf_counter() - start
                assert response.status_code == 401, response.text
                return elapsed * 1000

            timed("known"), timed("unknown")  # warm-up
            samples: dict[str, list[float]] = {"unknown": [], "known": []}
            for _ in range(rounds):
                for name in samples:
                    samples[name].append(timed(name))
        runtime.db.dispose()
    for name, values in samples.items():
        print(
            f"{name:8} median {statistics.median(values):7.1f} ms  "
            f"(min {min(values):.1f}, max {max(values):.1f}, n={len(values)})"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
