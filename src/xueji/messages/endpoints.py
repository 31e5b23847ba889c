"""POST /messages: deliver a message to the instances waiting for it, or start a process."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["messages"])
