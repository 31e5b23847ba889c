"""Pending timer events of instances, as rows a worker can claim."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xueji.db.base import Base
from xueji.models.states import TimerState


class Timer(Base):
    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instances.id"), index=True)
    # The engine's waiting task (a timer event), unique while it waits.
    task_id: Mapped[str] = mapped_column(String(36), unique=True)
    element_id: Mapped[str | None] = mapped_column(String(120))
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(20))  # pending | fired | cancelled | failed
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claim_expires_at: Mapped[datetime | None]
    fired_at: Mapped[datetime | None]
    # Failed attempts to fire it (each rolled back), the last reason, and when to try again.
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    retry_at: Mapped[datetime | None]

    def fire_again(self) -> None:
        """Fire at the next worker pass: claim released; a failed timer gets its attempts back."""
        if self.state == TimerState.FAILED:
            self.state, self.attempts = TimerState.PENDING, 0
        self.retry_at = None
        self.claimed_by = self.claim_expires_at = None
