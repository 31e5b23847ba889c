"""The Runtime of the running app, as a dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from xueji.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


AppRuntime = Annotated[Runtime, Depends(get_runtime)]
