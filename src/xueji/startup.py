"""Start-up work: migrate the schema, deploy the college's diagrams, describe open tasks made
before the inbox's summaries, seed demo data if asked."""

from __future__ import annotations

import logging
from pathlib import Path

from xueji.db.locking import STARTUP, held
from xueji.db.migrate import upgrade
from xueji.db.session import session_scope
from xueji.definitions.service import DIRECTORY, deploy
from xueji.instances.summaries import describe_open_tasks
from xueji.runtime import Runtime

log = logging.getLogger(__name__)


def read_directory(processes_dir: Path, forms_dir: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for directory, patterns in ((forms_dir, ("*.json",)), (processes_dir, ("*.bpmn", "*.dmn"))):
        if not directory.is_dir():
            continue
        for pattern in patterns:
            for path in sorted(directory.glob(pattern)):
                files[path.name] = path.read_bytes()
    return files


def deploy_directory(runtime: Runtime) -> None:
    """Deploy every diagram in processes/ (with forms/) that is new or changed since it was last
    deployed from there.

    Each file is compared with the version last deployed *from processes/* under its key, not
    with the latest version: a version an administrator uploaded (the API, `xueji deploy`) stays
    the latest across restarts as long as the file is unchanged. A file that did change is a new
    release of the product and wins: it is deployed as a new version even when an uploaded
    version is the latest, and a warning names the uploaded version it supersedes.
    """
    settings = runtime.settings
    files = read_directory(settings.processes_dir, settings.forms_dir)
    if not any(name.endswith((".bpmn", ".dmn")) for name in files):
        return
    with session_scope(runtime.db.writer) as session:
        deployed = deploy(
            session,
            files,
            "system",
            max(settings.max_upload_bytes, 1 << 24),
            runtime.services,
            source=DIRECTORY,
        )
        new = [f"{d.key} v{d.version}" for d, is_new in deployed.definitions if is_new]
        if new:
            log.info("deployed %s", ", ".join(new))
        for definition, uploaded in deployed.superseded:
            log.warning(
                "%s v%d from %s supersedes v%d, which %s uploaded: %s changed since it was last "
                "deployed; upload v%d again to make it the latest",
                definition.key,
                definition.version,
                definition.file_name,
                uploaded.version,
                uploaded.deployed_by,
                definition.file_name,
                uploaded.version,
            )


def prepare(runtime: Runtime) -> None:
    """Migrate, deploy processes/, seed the demo if asked: one replica at a time (on
    PostgreSQL an advisory lock), so that replicas started together never fail."""
    with held(runtime.db.engine, STARTUP):
        upgrade(runtime.db.engine)
        deploy_directory(runtime)
        with session_scope(runtime.db.writer) as session:
            described = describe_open_tasks(session, runtime.summaries)
        if described:
            log.info("described %d open tasks made before the inbox's summaries", described)
        if runtime.settings.demo:
            from xueji.demo import PASSWORD, demo_accounts, seed_demo

            with session_scope(runtime.db.writer) as session:
                seed_demo(session)
            lines = [
                f"  {a.username:<10} {a.name}（{a.role}{' ' + a.station if a.station else ''}）"
                for a in demo_accounts()
            ]
            log.info("demo accounts, password %r:\n%s", PASSWORD, "\n".join(lines))
