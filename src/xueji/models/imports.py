"""Imports of the college's lists (招生录取库, 标准库, grade sheets): one row per file sent, the
job a large file runs as (in the worker), read by whoever polls it from any process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from xueji.db.base import Base


class ImportJob(Base):
    __tablename__ = "import_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    mode: Mapped[str] = mapped_column(String(20))  # all_or_nothing | valid_only
    file_name: Mapped[str] = mapped_column(String(200))
    # queued → running → done (written, or nothing to write) | rejected (problems, nothing
    # written) | failed (an error; `error` says which)
    state: Mapped[str] = mapped_column(String(20), default="queued")
    percent: Mapped[int] = mapped_column(default=0)
    total_rows: Mapped[int] = mapped_column(default=0)
    written_rows: Mapped[int] = mapped_column(default=0)
    problems: Mapped[list | None] = mapped_column(JSON)
    report: Mapped[bytes | None]  # the file with its bad cells marked (XLSX)
    error: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(80))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]  # each change of state or percent: a heartbeat
    finished_at: Mapped[datetime | None]
    # A job the worker runs (a large file): the file, kept in the upload storage under this
    # key (its SHA-256) before anything is parsed, and the caller it runs as (the Principal's
    # fields when it was posted). Claimed with a lease like a timer: a job whose worker died
    # is taken again once the lease is past (its write transaction never committed).
    file_key: Mapped[str | None] = mapped_column(String(64))
    principal: Mapped[dict | None] = mapped_column(JSON)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claim_expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
