"""Review steps signed by the session: who signed and when is never typed.

A form that says `"x-signature": true` at its top level is a review or signing step (签署审核
意见, 签批). Completing its task adds to the process data one variable of that step,
`sign_<element id>`:

    {"step": "函授站签署审核意见", "signer": "station1", "signer_name": "…",
     "signed_at": "2027-03-01T09:00:00+00:00", "outcome": "approved", "reason": …,
     "opinion": "同意"}

The signer and the time come from the session and the clock. The form's opinion field (the
property marked `"x-opinion": true`) is kept in that variable only, not as a process variable
of its own, so each reviewer's opinion stays theirs: the next reviewer neither overwrites it
nor finds it pre-filled in their form. The outcome and reason stay process variables too
(gateways and services read them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from xueji.auth.principal import Principal

KEYWORD = "x-signature"
OPINION = "x-opinion"
PREFIX = "sign_"
KEPT = ("outcome", "reason")


def variable(element_id: str) -> str:
    return f"{PREFIX}{element_id}"


def opinion_fields(schema: dict[str, Any]) -> list[str]:
    return [
        name
        for name, sub in (schema.get("properties") or {}).items()
        if isinstance(sub, dict) and sub.get(OPINION)
    ]


def signed(
    schema: dict[str, Any] | None,
    data: dict[str, Any],
    principal: Principal,
    element_id: str,
    step_name: str | None,
    at: datetime,
) -> dict[str, Any]:
    """The data a signing step's task completes with (other forms' data unchanged)."""
    if not schema or schema.get(KEYWORD) is not True:
        return data
    opinions = opinion_fields(schema)
    record: dict[str, Any] = {
        "step": step_name or element_id,
        "signer": principal.username,
        "signer_name": principal.display_name,
        "signed_at": at.isoformat(),
        **{name: data[name] for name in KEPT if name in data},
        "opinion": next((data[name] for name in opinions if data.get(name)), None),
    }
    rest = {name: value for name, value in data.items() if name not in opinions}
    return {**rest, variable(element_id): record}
