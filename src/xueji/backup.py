"""`xueji backup FILE` and `xueji restore FILE`: the whole database in one file and back.

SQLite goes through its online backup API (`sqlite3.Connection.backup`): a consistent copy
while the service keeps running, readable by `sqlite3` itself. PostgreSQL goes through
`pg_dump -Fc` and `pg_restore` (the client tools of the server's major version or newer on
PATH); the password, if the URL has one, is passed in PGPASSWORD, never on a command line.
A restore goes only into an empty database (no tables), so that nothing is ever merged or
overwritten; run `xueji db upgrade` after restoring a backup of an older version.
Uploaded files under XUEJI_UPLOAD_DIR are not in the database: copy that directory too.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL, make_url

from xueji.errors import Conflict, InvalidInput


class BackupFailed(InvalidInput):
    error = "BackupFailed"


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupFailed([{"field": "database_url", "message": "an in-memory database"}])
    return Path(url.database)


def _pg(url: URL) -> tuple[str, dict[str, str]]:
    """The libpq connection string (no password) and the environment carrying it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    libpq = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return libpq, env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupFailed(
            [
                {
                    "field": command[0],
                    "message": f"{command[0]} not found: install PostgreSQL's client",
                }
            ]
        ) from None
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip()[-2000:]
        raise BackupFailed([{"field": command[0], "message": message}])


def is_empty(database_url: str) -> bool:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return not inspect(connection).get_table_names()
    finally:
        engine.dispose()


def backup(database_url: str, target: Path) -> None:
    """Write the whole database to `target` (replaced only once the copy is complete)."""
    url = make_url(database_url)
    partial = target.with_name(target.name + ".partial")
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(f"file:{_sqlite_path(url)}?mode=ro", uri=True)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
    else:
        libpq, env = _pg(url)
        _run(
            ["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
             f"--file={partial}", f"--dbname={libpq}"],
            env,
        )  # fmt: skip
    os.replace(partial, target)


def restore(database_url: str, source: Path) -> None:
    """Load a backup made by `backup` into the (empty) database of `database_url`."""
    if not source.is_file():
        raise BackupFailed([{"field": "file", "message": f"no file {source}"}])
    if not is_empty(database_url):
        raise Conflict("the database is not empty: restore into a newly created database")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        backup_file = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        database = sqlite3.connect(_sqlite_path(url))
        try:
            backup_file.execute("SELECT count(*) FROM alembic_version")
            backup_file.backup(database)
        except sqlite3.DatabaseError as exc:
            raise BackupFailed([{"field": "file", "message": f"not a backup: {exc}"}]) from None
        finally:
            database.close()
            backup_file.close()
        return
    libpq, env = _pg(url)
    _run(
        ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
         "--single-transaction", f"--dbname={libpq}", str(source)],
        env,
    )  # fmt: skip
