"""Process instances (engine state without the spec) and the incidents of failed steps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from xueji.db.base import Base
from xueji.models.definitions import ProcessDefinition

# A business key names one unfinished case of a process: top-level instances only (a call's
# children carry their caller's key), and only while they may still move on.
BUSINESS_KEY_IN_USE = text(
    "business_key IS NOT NULL AND parent_id IS NULL AND state IN ('running', 'suspended', 'error')"
)


class ProcessInstance(Base):
    __tablename__ = "process_instances"
    __table_args__ = (
        # Counting a call's unfinished children reads this index only.
        Index("ix_process_instances_call", "parent_task_id", "state"),
        Index(
            "uq_process_instances_business_key",
            "definition_key",
            "business_key",
            unique=True,
            sqlite_where=BUSINESS_KEY_IN_USE,
            postgresql_where=BUSINESS_KEY_IN_USE,
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"), index=True)
    # The definition's key, kept on the row so that a business key is unique per process
    # across its versions (an index cannot reach into process_definitions).
    definition_key: Mapped[str] = mapped_column(String(120))
    business_key: Mapped[str | None] = mapped_column(String(120), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"), index=True)
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id"), index=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("process_instances.id"), index=True)
    # The caller's waiting call-activity task, and this child's place among its siblings.
    parent_task_id: Mapped[str | None] = mapped_column(String(36), index=True)
    call_index: Mapped[int | None]
    state: Mapped[str] = mapped_column(String(20), index=True)  # running|suspended|...
    # SpiffWorkflow's serialized workflow without the spec (see engine/serializer.py).
    engine_state: Mapped[str] = mapped_column(Text)
    # The data of the instance's newest step, kept beside the state for cheap reads.
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Optimistic concurrency: every UPDATE checks and bumps it.
    version: Mapped[int] = mapped_column(default=1)
    started_by: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    definition: Mapped[ProcessDefinition] = relationship(lazy="joined", innerjoin=True)
    station = relationship("Station", lazy="joined")

    __mapper_args__ = {"version_id_col": version}


class Incident(Base):
    """An engine step that failed and was rolled back; shown to administrators."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("process_instances.id"), index=True)
    definition_id: Mapped[int | None] = mapped_column(ForeignKey("process_definitions.id"))
    element_id: Mapped[str | None] = mapped_column(String(120))
    message: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(80))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
