"""Validating submitted data against a task's JSON Schema form, field by field."""

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
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    problems = []
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
        problems.append({"field": ".".join(path), "message": error.message})
    return problems


def validate_form(schema: dict[str, Any] | None, data: Any) -> None:
    problems = form_errors(schema, data)
    if problems:
        raise FormInvalid(problems)
