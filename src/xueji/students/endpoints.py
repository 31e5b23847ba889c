"""Student records: search, a student's record, statistics (学籍数据统计)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["students"])
