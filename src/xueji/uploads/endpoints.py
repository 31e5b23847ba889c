"""Uploads: files users send (photos, scans) and documents the service generates."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/uploads", tags=["uploads"])
