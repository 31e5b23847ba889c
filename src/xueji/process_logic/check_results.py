"""A checked batch's result as the person confirms it (processes 2 and 7): 正确 is refused
while the checks found problems, so that a batch never goes back for correction while its
history says 结果：正确."""

from __future__ import annotations

from typing import Any

from xueji.errors import ServiceError
from xueji.instances.context import StepContext
from xueji.process_logic.registry import service


@service("confirm_check_result")
def confirm_check_result(
    step: StepContext, data: dict[str, Any], problems: list[dict], checks: str
) -> None:
    """Refuse 正确 while `checks` found `problems`, saying how many."""
    if data.get("outcome") == "correct" and problems:
        raise ServiceError(
            f"{checks}发现 {len(problems)} 处问题，不能选择“正确”；"
            "请选择“有误”并说明，或修改后重新上传",
            code="ProblemsFound",
        )
