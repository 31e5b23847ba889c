"""Run Alembic migrations from code: `xueji db upgrade` and the service's first start."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from xueji.config import PROJECT_ROOT
from xueji.db.locking import MIGRATION, advisory_xact_lock


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if url:
        config.attributes["url"] = url
    return config


def upgrade(engine: Engine) -> None:
    """Bring the database schema to the newest revision; processes migrating at the same
    time take turns (the second finds the schema at head)."""
    config = alembic_config()
    with engine.begin() as connection:
        advisory_xact_lock(connection, MIGRATION)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
