"""The inbox: one row per user task the engine has made ready, kept in step with the state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, false, or_, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from xueji.db.base import Base
from xueji.models.states import UserTaskState

# The rows the inbox shows: open tasks of instances not suspended. Written as each database
# renders `state = 'ready' AND NOT suspended` (SQLite's booleans are 0 and 1), since SQLite
# uses a partial index only for a query that says the same in its text.
INBOX_ROWS = {
    "postgresql_where": text("state = 'ready' AND NOT suspended"),
    "sqlite_where": text("state = 'ready' AND suspended = 0"),
}


class UserTask(Base):
    __tablename__ = "user_tasks"
    __table_args__ = (
        # The inbox pages open tasks by (due_at|created_at, id): partial indexes of the rows
        # it shows only, so that finished tasks (most of the table, in time) and those of
        # suspended instances are not in them, and a count of a scope reads the index alone.
        Index("ix_user_tasks_open_due", "due_at", "id", **INBOX_ROWS),
        Index("ix_user_tasks_open_created", "created_at", "id", **INBOX_ROWS),
        # The same within a role and station (a station's inbox): entered at the scope and
        # the cursor at once, however small the station's share of all open tasks. (They
        # replace an index on (state, role, station_id), which SQLite preferred for the
        # inbox and then sorted every open task of the scope for a page.)
        *(
            Index(
                f"ix_user_tasks_open_scoped_{key}",
                "role",
                "station_id",
                column,
                "id",
                **INBOX_ROWS,
            )
            for key, column in (("due", "due_at"), ("created", "created_at"))
        ),
    )

    # The engine's task id (a UUID), unique across instances.
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instances.id"), index=True)
    element_id: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(300))
    role: Mapped[str | None] = mapped_column(ForeignKey("roles.key"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id"), index=True)
    form: Mapped[str | None] = mapped_column(String(200))
    ui_form: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20))  # ready | completed | cancelled
    assignee: Mapped[str | None] = mapped_column(String(80), index=True)
    # Whether its instance is suspended, kept on the row (as Camunda keeps SUSPENSION_STATE_
    # on its tasks) so that the inbox and its counts need not join the instances. The rule,
    # for READY rows: true exactly while the instance's state is 'suspended'. Suspend and
    # resume set it on the instance's READY tasks (instances/service.py), a step gives its
    # new tasks the instance's (instances/steps.py); other rows keep what they had.
    suspended: Mapped[bool] = mapped_column(default=False, server_default=false())
    due_at: Mapped[datetime | None]
    # Set by the deadline timer: when it became overdue, and how many escalations went out.
    overdue_at: Mapped[datetime | None]
    escalation_level: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(80))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The one line the inbox shows (休学 · 2027-春 · 张伟 (S01 郑州函授站)), the kind of
    # application and the name of the person the case is about, as the process describes
    # them when the task is created (process_logic/summaries.py), so that the inbox searches,
    # filters and sorts by them in SQL.
    summary: Mapped[str | None] = mapped_column(String(300))
    kind: Mapped[str | None] = mapped_column(String(40))
    subject_name: Mapped[str | None] = mapped_column(String(80))
    # Optimistic concurrency: every UPDATE of the row checks and bumps it (claim, unclaim,
    # assign, complete, cancel, overdue marks); clients send the one they read to claim or
    # assign only what they saw.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    instance = relationship("ProcessInstance", lazy="joined", innerjoin=True)
    station = relationship("Station", lazy="joined")
    # For the 学号 the inbox shows (one more query per page of tasks).
    student = relationship("Student", lazy="selectin", viewonly=True)

    __mapper_args__ = {"version_id_col": version}

    def is_overdue(self, now: datetime) -> bool:
        """Open and past its due date (or marked so by its deadline timer)."""
        return self.state == UserTaskState.READY and (
            self.overdue_at is not None or (self.due_at is not None and self.due_at < now)
        )

    @staticmethod
    def overdue_clause(now: datetime):
        """The same rule as `is_overdue`, for queries of open tasks."""
        return or_(UserTask.overdue_at.is_not(None), UserTask.due_at < now)
