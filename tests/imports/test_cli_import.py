"""`xueji import` as an operator runs it: a fresh interpreter against a real SQLite file (or a
PostgreSQL database when XUEJI_TEST_DATABASE_URL names a server), with its progress bar."""

from __future__ import annotations

from sqlalchemy import create_engine, func, select

from tests.imports.test_imports import ADMISSION_HEADER, admission, xlsx
from tests.test_cli_subprocess import make_env, new_database, run
from xueji.models import Admission, Major, Station

__all__ = ["new_database"]  # the fixture, used by name


def test_import_admissions_with_progress_all_or_nothing_then_valid_only(new_database, tmp_path):
    url = new_database()
    env = make_env(url, tmp_path)
    assert run(env, "db", "upgrade").returncode == 0
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(Station.__table__.insert(), [{"code": "S01", "name": "郑州函授站"}])
        conn.execute(
            Major.__table__.insert(),
            [{"code": "630302", "name": "会计", "level": "专科", "years": "2.5"}],
        )
    rows = [admission(n) for n in range(1, 301)]
    rows[41] = admission(42, SFZH="410101198001010421")  # wrong check digit
    path = tmp_path / "录取.xlsx"
    path.write_bytes(xlsx(ADMISSION_HEADER, rows))

    def count() -> int:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(Admission)) or 0

    refused = run(env, "import", "admissions", str(path))
    assert refused.returncode == 1
    assert "第 43 行 SFZH：身份证号校验位不正确" in refused.stderr
    assert "100%" in refused.stdout and "written 0 row(s); 1 row(s) refused" in refused.stdout
    assert (tmp_path / "录取_校验结果.xlsx").stat().st_size > 0
    assert count() == 0

    partial = run(env, "import", "admissions", str(path), "--valid-only")
    assert partial.returncode == 1 and "written 299 row(s)" in partial.stdout
    assert count() == 299

    again = run(env, "import", "admissions", str(path))
    assert again.returncode == 1 and "招生录取库中已有此考生号" in again.stderr
    assert count() == 299
    unknown = run(env, "import", "nonsense", str(path))
    assert unknown.returncode == 2 and "unknown kind" in unknown.stderr
    engine.dispose()
