"""A form field that names an upload (`x-upload`) takes only an upload of the same instance or
of the acting user, of the type it expects; else 422 naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import complete, deploy_processes, only_task
from tests.processes.test_status_change import FORM, apply
from tests.uploads.test_endpoints import PNG, upload, xlsx

FORMS = Path(__file__).resolve().parents[2] / "forms"


@pytest.fixture
def first_task(client):
    deploy_processes(client, "status_change")
    apply(client, kind="休学")
    return only_task(client, "stu1001")


def refused(client, task, attachments):
    body = complete(client, "stu1001", task, {**FORM, "attachments": attachments}, expect=422)
    assert body["error"] == "FormInvalid", body
    return [problem["field"] for problem in body["detail"]]


def test_an_upload_that_does_not_exist_is_refused(client, first_task):
    assert refused(client, first_task, [999]) == ["attachments.0"]


def test_another_students_upload_is_refused(client, first_task):
    theirs = upload(client, "stu1002", "证明.png", PNG)["id"]
    mine = upload(client, "stu1001", "证明.png", PNG)["id"]
    assert refused(client, first_task, [mine, theirs]) == ["attachments.1"]


def test_an_upload_of_the_wrong_type_is_refused(client, first_task):
    sheet = upload(client, "stu1001", "证明.xlsx", xlsx())["id"]
    assert refused(client, first_task, [sheet]) == ["attachments.0"]


def test_own_upload_of_the_expected_type_is_accepted(client, first_task):
    mine = upload(client, "stu1001", "证明.png", PNG)["id"]
    complete(client, "stu1001", first_task, {**FORM, "attachments": [mine]})


def _upload_fields(ui: dict, prefix: str = "") -> set[str]:
    found = set()
    for name, value in ui.items():
        if not isinstance(value, dict) or name.startswith("ui:") or name == "items":
            continue
        if (value.get("ui:options") or {}).get("upload"):
            found.add(prefix + name)
        found |= _upload_fields(value, prefix + name + ".")
        found |= _upload_fields(value.get("items") or {}, prefix + name + ".")
    return found


def _x_upload_fields(schema: dict, prefix: str = "") -> set[str]:
    found = set()
    for name, sub in (schema.get("properties") or {}).items():
        if "x-upload" in sub or "x-upload" in (sub.get("items") or {}):
            found.add(prefix + name)
        found |= _x_upload_fields(sub, prefix + name + ".")
        found |= _x_upload_fields(sub.get("items") or {}, prefix + name + ".")
    return found


@pytest.mark.parametrize("ui_file", sorted(FORMS.glob("*.uischema.json")), ids=lambda p: p.name)
def test_every_upload_widget_names_the_type_it_expects(ui_file):
    schema = json.loads((FORMS / ui_file.name.replace(".uischema", ".schema")).read_text())
    assert _upload_fields(json.loads(ui_file.read_text())) <= _x_upload_fields(schema)
