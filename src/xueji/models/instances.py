"""Process instances (engine state without the spec) and the incidents of failed steps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from xueji.db.base import Base
from xueji.models.definitions import ProcessDefinition


class ProcessInstance(Base):
    __tablename__ = "process_instances"
    # Counting a call's unfinished children reads this index only.
    __table_args__ = (Index("ix_process_instances_call", "parent_task_id", "state"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"), index=True)
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
