"""What operating the service keeps: the audit log of administrative actions, and the
heartbeat each worker writes (read by /health/ready)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from xueji.db.base import Base


class AuditEntry(Base):
    """One administrative action: who, when, from where, what, and the target before/after.
    Append-only: nothing updates or deletes these rows."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_actor_at", "actor", "at"),
        Index("ix_audit_log_action_at", "action", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(200))
    before: Mapped[Any | None] = mapped_column(JSON)
    after: Mapped[Any | None] = mapped_column(JSON)


class WorkerHeartbeat(Base):
    """The last pass of one worker (host:pid:thread), written at the end of every pass."""

    __tablename__ = "worker_heartbeats"

    worker: Mapped[str] = mapped_column(String(200), primary_key=True)
    beat_at: Mapped[datetime]
