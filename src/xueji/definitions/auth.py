"""Who may do what with a definition."""

from __future__ import annotations

from xueji.auth.principal import Principal
from xueji.models import ProcessDefinition


def may_start(principal: Principal, definition: ProcessDefinition) -> bool:
    """Admins, and holders of the role of the start event's lane."""
    return principal.is_admin or (
        definition.start_role is not None and definition.start_role in principal.roles
    )
