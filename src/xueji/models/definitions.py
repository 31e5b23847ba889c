"""Deployments, versioned process definitions and the forms their tasks use."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xueji.db.base import Base


class Deployment(Base):
    __tablename__ = "deployments"

    id: Mapped[int] = mapped_column(primary_key=True)
    deployed_by: Mapped[str] = mapped_column(String(80))
    deployed_at: Mapped[datetime]
    # [{"name": file name, "sha256": ...}] of everything uploaded together.
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class Form(Base):
    """One version of a form file (JSON Schema or UI schema), kept by content."""

    __tablename__ = "forms"
    __table_args__ = (UniqueConstraint("name", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[Any] = mapped_column(JSON)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    deployed_at: Mapped[datetime]


class ProcessDefinition(Base):
    """One version of one process (a BPMN process element) or decision (DMN)."""

    __tablename__ = "process_definitions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), index=True)
    version: Mapped[int]
    kind: Mapped[str] = mapped_column(String(10), default="bpmn")  # bpmn | dmn
    name: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(200))
    # The file exactly as uploaded (bytes decoded as UTF-8 are returned byte for byte).
    # Deferred: read when asked for (parsing a spec, serving the file), not with every
    # instance that joins its definition on every step and inbox row.
    xml: Mapped[str] = mapped_column(Text, deferred=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    deployed_by: Mapped[str] = mapped_column(String(80))
    deployed_at: Mapped[datetime]
    # Where the diagram came from: "directory" (processes/ and forms/, deployed on start) or
    # "upload" (the API or `xueji deploy`). Start-up compares processes/ only with the versions
    # it deployed itself, so that a version an administrator uploaded is not undone on restart.
    source: Mapped[str] = mapped_column(String(20), default="upload", server_default="upload")
    # Hash of the file and of the forms it names, as deployed (decision tables it pins left
    # out): start-up deploys a file again only when this differs from its last "directory" row.
    source_hash: Mapped[str | None] = mapped_column(String(64))
    # Derived at deployment: lane name -> role key; element id -> {lane, role, form, ...}.
    lanes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    start_role: Mapped[str | None] = mapped_column(String(40))
    start_form: Mapped[str | None] = mapped_column(String(200))
    start_ui_form: Mapped[str | None] = mapped_column(String(200))
    # Form file name -> forms.id, the versions deployed with (or before) this definition.
    forms: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # Ids of other definitions whose specs this one needs (called processes, decisions).
    dependencies: Mapped[list[str]] = mapped_column(JSON, default=list)
