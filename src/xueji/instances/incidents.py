"""Incidents: failed steps kept for administrators, and resolved when the step later succeeds."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.db.session import Database, session_scope
from xueji.history.service import record_event
from xueji.models import Incident

log = logging.getLogger(__name__)


def record_incident(db: Database, incident: dict[str, Any]) -> None:
    """Keep a failed step's incident (and its history line) after the step rolled back."""
    try:
        with session_scope(db.writer) as session:
            add_incident(session, incident)
    except Exception:  # the request already fails; never hide its error behind this one
        log.exception("could not record incident %r", incident)


def add_incident(session: Session, incident: dict[str, Any]) -> Incident:
    """An incident in the caller's transaction (e.g. a caller whose child was terminated)."""
    now = clock.now()
    row = Incident(created_at=now, **incident)
    session.add(row)
    if incident.get("instance_id"):
        record_event(
            session,
            incident["instance_id"],
            incident["actor"],
            "step_failed" if not incident.get("data", {}).get("kind") else "incident_opened",
            element_id=incident.get("element_id"),
            data={"message": incident["message"], **(incident.get("data") or {})},
            at=now,
        )
    return row


def resolve_succeeded(session: Session, instance_id: str, elements: Iterable[str]) -> None:
    """Close the open step incidents of an instance at elements that have now run."""
    done = set(elements)
    if not done:
        return
    now = clock.now()
    for incident in session.scalars(
        select(Incident).where(
            Incident.instance_id == instance_id,
            Incident.resolved_at.is_(None),
            Incident.element_id.in_(done),
        )
    ):
        if (incident.data or {}).get("kind"):
            continue  # incidents about children are resolved by an administrator's action
        incident.resolved_at = now
        incident.data = {**(incident.data or {}), "resolved_by": "step_succeeded"}
