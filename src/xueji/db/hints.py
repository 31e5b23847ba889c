"""Hints to a database's query planner, written only where the database has them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class likely(FunctionElement[bool]):  # noqa: N801 (named like the SQL function)
    """A condition most rows meet, which a query should not be entered by: `likely(…)` on
    SQLite, whose planner (without statistics) otherwise starts from an index on it; the
    condition alone elsewhere."""

    type = Boolean()
    name = "likely"
    inherit_cache = True


@compiles(likely)
def _condition(element: likely, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)})"


@compiles(likely, "sqlite")
def _sqlite(element: likely, compiler: SQLCompiler, **kw: Any) -> str:
    return f"likely({compiler.process(element.clauses, **kw)})"
