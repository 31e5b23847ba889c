"""Start-up: a fresh database is migrated and the college's diagrams in processes/ deploy."""

from __future__ import annotations

from xueji.config import PROJECT_ROOT, Settings
from xueji.definitions.repository import latest_versions
from xueji.wiring import build_runtime
from xueji.startup import prepare


def test_first_start_deploys_every_process_and_a_second_changes_nothing(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}", data_dir=tmp_path,
                        secret_key="test", run_worker=False, demo=True)
    runtime = build_runtime(settings)
    try:
        prepare(runtime)
        prepare(runtime)
        with runtime.db.reader() as session:
            deployed = {(d.key, d.version) for d in latest_versions(session, kind=None)}
    finally:
        runtime.db.dispose()
    stems = {p.stem for p in (PROJECT_ROOT / "processes").glob("*.bpmn")}
    stems |= {p.stem for p in (PROJECT_ROOT / "processes").glob("*.dmn")}
    assert {key for key, _ in deployed} >= stems
    assert {version for _, version in deployed} == {1}
    assert len(stems) == 12  # ten processes and two decision tables
