"""Fetching a row that must exist."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.orm import Session

from xueji.errors import NotFound

T = TypeVar("T")


def must_get(session: Session, model: type[T], ident: Any, what: str | None = None) -> T:
    """The row of `model` with primary key `ident`, or NotFound naming it."""
    row = session.get(model, ident)
    if row is None:
        raise NotFound(f"no {what or model.__name__} {ident!r}")
    return row
