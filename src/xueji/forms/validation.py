"""Validating submitted data against a task's JSON Schema form, field by field.

Forms are closed: a top-level field the form does not declare (in `properties`, or in the
`properties` of its allOf/anyOf/oneOf/if/then/else/dependentSchemas branches) is refused,
unless the schema itself says what to do with other fields (`additionalProperties`,
`patternProperties`, `unevaluatedProperties`). So submitted data can only set variables the
task's form declares. A task without a form may add variables, never overwrite existing ones.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from xueji.engine.serializer import UnsafeData, check_data
from xueji.errors import FormInvalid


def form_errors(schema: dict[str, Any] | None, data: Any) -> list[dict[str, str]]:
    """Each problem as {field, message}; field is a dotted path ('' for the whole form)."""
    if not isinstance(data, dict):
        return [{"field": "", "message": "the form data must be a JSON object"}]
    try:
        check_data(data)
    except UnsafeData as exc:
        field, _, message = str(exc).partition(": ")
        return [{"field": field, "message": message}]
    if not schema:
        return []
    problems = [
        {"field": name, "message": f"表单中没有此项 (the form has no field {name!r})"}
        for name in undeclared(schema, data)
    ]
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        path = [str(p) for p in error.absolute_path]
        if error.validator == "required":
            present = error.instance if isinstance(error.instance, dict) else {}
            for name in error.validator_value:
                if name not in present:
                    problems.append(
                        {"field": ".".join([*path, name]), "message": f"'{name}' is required"}
                    )
            continue
        message = error.message
        if error.validator == "pattern" and isinstance(error.schema.get("x-message"), str):
            message = error.schema["x-message"]  # what the form says is expected
        problems.append({"field": ".".join(path), "message": _short(message)})
    return problems


# jsonschema's messages repeat the offending value; a 100,000-item list must not come back.
MAX_MESSAGE = 300


def _short(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


_OPEN_KEYWORDS = ("additionalProperties", "patternProperties", "unevaluatedProperties")
_BRANCHES = ("allOf", "anyOf", "oneOf")


def declared_fields(schema: dict[str, Any]) -> set[str]:
    """The top-level field names a form declares, its conditional branches included."""
    names = set((schema.get("properties") or {}).keys())
    for keyword in _BRANCHES:
        for branch in schema.get(keyword) or []:
            if isinstance(branch, dict):
                names |= declared_fields(branch)
    for keyword in ("if", "then", "else"):
        if isinstance(schema.get(keyword), dict):
            names |= declared_fields(schema[keyword])
    for branch in (schema.get("dependentSchemas") or {}).values():
        if isinstance(branch, dict):
            names |= declared_fields(branch)
    return names


def undeclared(schema: dict[str, Any], data: dict[str, Any]) -> list[str]:
    """Fields of `data` a closed form does not declare (none for a form open by its schema)."""
    if any(keyword in schema for keyword in _OPEN_KEYWORDS):
        return []
    known = declared_fields(schema)
    return sorted(name for name in data if name not in known)


def overwrites(data: dict[str, Any], current: dict[str, Any]) -> list[dict[str, str]]:
    """For a task without a form: fields that would overwrite variables the case holds."""
    return [
        {"field": name, "message": f"此任务没有表单，不能修改流程数据 {name!r}"}
        for name in sorted(data)
        if name in current
    ]


def validate_form(schema: dict[str, Any] | None, data: Any) -> None:
    problems = form_errors(schema, data)
    if problems:
        raise FormInvalid(problems)
