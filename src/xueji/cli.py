"""The `xueji` command: serve, worker, db upgrade, backup, restore, deploy, import, users,
tokens."""

from __future__ import annotations

import logging
import os
import signal
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from xueji.config import get_settings

# Requests still running this long after SIGTERM are cut off.
SHUTDOWN_GRACE_SECONDS = 10

app = typer.Typer(
    help="xueji 学籍: workflow service of the student-records office.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for integrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")


@contextmanager
def _errors_as_messages():
    """Print an expected error (bad role, taken name, …) as one line and exit 1."""
    from xueji.errors import XuejiError

    try:
        yield
    except XuejiError as exc:
        if isinstance(exc.detail, list):
            for problem in exc.detail:
                typer.echo(f"error: {problem.get('message', problem)}", err=True)
        else:
            typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None


def _runtime():
    from xueji.db.migrate import upgrade
    from xueji.wiring import build_runtime

    runtime = build_runtime(get_settings())
    upgrade(runtime.db.engine)
    return runtime


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Seed the demo accounts once")] = False,
) -> None:
    """Run the service (migrates the database and deploys processes/ on start)."""
    import uvicorn

    from xueji.app import create_app

    if demo:
        os.environ["XUEJI_DEMO"] = "1"
        get_settings.cache_clear()
    settings = get_settings()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    service = create_app(settings, freeze_startup=True)
    stopping = service.state.runtime.stopping

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame) -> None:
            # SIGTERM/SIGINT: event streams end at their next poll (within a second) instead
            # of holding the shutdown until every client disconnects.
            stopping.set()
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        service,
        host=host or settings.host,
        port=port or settings.port,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )
    Server(config).run()


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Fire what is due, then exit")] = False,
    now: Annotated[
        str | None, typer.Option(help="ISO instant to treat as now (with --once)")
    ] = None,
) -> None:
    """Run timers and background jobs (or, with --once, fire what is due and exit)."""
    import threading
    from datetime import datetime

    from xueji.scheduler.worker import run_forever, run_once

    runtime = _runtime()
    if once:
        moment = datetime.fromisoformat(now) if now else None
        if moment is not None and moment.tzinfo is None:
            raise typer.BadParameter("give --now with a UTC offset, e.g. 2027-03-16T00:00:00+08:00")
        report = run_once(runtime, moment)
        typer.echo(f"fired {report.fired} timer(s); {report.failed} could not fire")
        return
    if now:
        raise typer.BadParameter("--now needs --once")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    # SIGTERM (docker stop, systemd) ends the worker between passes: no claim is left held.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run_forever(runtime, stop, runtime.settings.worker_poll_seconds)
    runtime.db.dispose()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database schema to the newest revision."""
    _runtime()
    typer.echo("database is at the newest revision")


@app.command("backup")
def backup_database(
    path: Annotated[Path, typer.Argument(help="The backup file to write")],
) -> None:
    """Back the database up into one file (SQLite: online backup; PostgreSQL: pg_dump -Fc)."""
    from xueji.backup import backup

    with _errors_as_messages():
        backup(get_settings().resolved_database_url(), path)
    typer.echo(f"backed up to {path}")


@app.command("restore")
def restore_database(
    path: Annotated[Path, typer.Argument(help="A file written by `xueji backup`")],
) -> None:
    """Restore a backup into an empty database (then `xueji db upgrade` if it is older)."""
    from xueji.backup import restore

    with _errors_as_messages():
        restore(get_settings().resolved_database_url(), path)
    typer.echo(f"restored from {path}")


@app.command()
def deploy(
    paths: Annotated[list[Path], typer.Argument(help=".bpmn, .dmn and form .json files")],
    deployed_by: str = "cli",
) -> None:
    """Deploy diagrams, decision tables and forms; prints every problem if any."""
    from xueji.audit.service import record
    from xueji.db.session import session_scope
    from xueji.definitions.service import deploy as deploy_files
    from xueji.errors import DeploymentInvalid

    runtime = _runtime()
    files = {path.name: path.read_bytes() for path in paths}
    try:
        with session_scope(runtime.db.writer) as session:
            result = deploy_files(
                session, files, deployed_by, runtime.settings.max_upload_bytes, runtime.services
            )
            for definition, new in result.definitions:
                state = "new" if new else "unchanged"
                typer.echo(f"{definition.key} v{definition.version} ({state})")
            record(
                session,
                deployed_by,
                None,
                "deploy",
                "/deployments",
                after={"files": sorted(files)},
            )
    except DeploymentInvalid as exc:
        for p in exc.detail:
            typer.echo(
                f"{p['file']}:{p['line'] or '?'}: {p['element_id'] or '-'}: {p['message']}",
                err=True,
            )
        raise typer.Exit(1) from None


@app.command("import")
def import_file(
    kind: Annotated[str, typer.Argument(help="admissions, registration, graduates or grades")],
    path: Annotated[Path, typer.Argument(help="XLSX or CSV file with the template's header")],
    valid_only: Annotated[
        bool, typer.Option("--valid-only", help="Write the valid rows; report the others")
    ] = False,
    report: Annotated[
        Path | None, typer.Option(help="Where to write the XLSX with the bad cells marked")
    ] = None,
    actor: Annotated[str, typer.Option(help="Name recorded as who imported")] = "cli",
) -> None:
    """Import the college's list (招生录取库, 标准库, grade sheet) with a progress bar; nothing
    is written if a row is bad, unless --valid-only. Exits 1 when rows were refused."""
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

    from xueji.auth.principal import Principal
    from xueji.imports import files, service
    from xueji.imports.kinds import KINDS

    if kind not in KINDS:
        raise typer.BadParameter(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")
    spec = KINDS[kind]
    runtime = _runtime()
    operator = Principal(actor, actor, frozenset({"admin"}), None, None, None, None)
    with _errors_as_messages():
        lines = service.read_file(spec, path.read_bytes(), path.name)
    mode = "valid_only" if valid_only else "all_or_nothing"
    with Progress(
        TextColumn(f"{spec.title} {len(lines)} 行"), BarColumn(), TaskProgressColumn()
    ) as progress:
        bar = progress.add_task("import", total=100)
        written, problems = service.run_import(
            runtime.db,
            operator,
            spec,
            lines,
            mode,
            lambda percent: progress.update(bar, completed=percent),
        )
        progress.update(bar, completed=100)
    for p in problems[:50]:
        typer.echo(f"第 {p['row']} 行 {p['column'] or '-'}：{p['message']}", err=True)
    if len(problems) > 50:
        typer.echo(f"……另有 {len(problems) - 50} 个问题", err=True)
    if problems:
        target = report or path.with_name(f"{path.stem}_校验结果.xlsx")
        target.write_bytes(files.report(spec.title, spec.columns, lines, problems))
        typer.echo(f"report: {target}", err=True)
    typer.echo(f"written {written} row(s); {len({p['row'] for p in problems})} row(s) refused")
    runtime.db.dispose()
    if problems:
        raise typer.Exit(1)


@users_app.command("create")
def users_create(
    username: str,
    role: Annotated[list[str], typer.Option("--role", help="Role id; repeat for several")],
    display_name: Annotated[str | None, typer.Option(help="Name shown in the UI")] = None,
    station: Annotated[str | None, typer.Option(help="Station code, for station staff")] = None,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
) -> None:
    """Create a user."""
    from xueji.auth.service import check_password_rules, create_user
    from xueji.db.session import session_scope
    from xueji.errors import InvalidInput

    try:
        check_password_rules(username, password)
    except InvalidInput as exc:
        for problem in exc.detail:
            typer.echo(f"error: {problem['message']}", err=True)
        raise typer.Exit(1) from None
    from xueji.audit.service import record

    runtime = _runtime()
    with _errors_as_messages(), session_scope(runtime.db.writer) as session:
        user = create_user(session, username, password, display_name or username, role, station)
        record(session, "cli", None, "user.create", f"user:{username}", after={"roles": role})
    typer.echo(f"created {user.username}")


@users_app.command("reset-password")
def users_reset_password(username: str) -> None:
    """Reset a user's password: prints a one-time password to be replaced at next login."""
    from xueji.audit.service import record
    from xueji.auth.service import reset_password
    from xueji.db.session import session_scope

    runtime = _runtime()
    with _errors_as_messages(), session_scope(runtime.db.writer) as session:
        _, password = reset_password(session, username)
        record(session, "cli", None, "user.password_reset", f"user:{username}")
    typer.echo(password)


@tokens_app.command("create")
def tokens_create(
    name: str,
    role: Annotated[str, typer.Option("--role", help="The role the token acts as")],
    station: Annotated[str | None, typer.Option(help="Station code, for a station role")] = None,
    days: Annotated[
        int | None,
        typer.Option(
            help="Days until it expires (default XUEJI_API_TOKEN_DEFAULT_DAYS, 365; "
            "at most XUEJI_API_TOKEN_MAX_DAYS, 730)"
        ),
    ] = None,
) -> None:
    """Create an API token of one role; prints the token once."""
    from xueji.auth.service import create_api_token
    from xueji.db.session import session_scope

    runtime = _runtime()
    with _errors_as_messages(), session_scope(runtime.db.writer) as session:
        _, token = create_api_token(session, name, role, "cli", station, days)
    typer.echo(token)


if __name__ == "__main__":
    app()
