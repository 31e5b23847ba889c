"""What a form's 422 says: a pattern's expected shape in the form's own words (x-message)."""

from __future__ import annotations

import json

from xueji.config import PROJECT_ROOT
from xueji.forms.validation import form_errors


def test_a_pattern_mismatch_says_what_the_form_expects():
    schema = json.loads((PROJECT_ROOT / "forms" / "status_change_form.schema.json").read_text())
    problems = form_errors(schema, {"phone": "abc", "statement": "申请休学"})
    assert problems == [
        {"field": "phone", "message": "联系电话应为 7 到 20 位数字（可含 +、- 和空格）"}
    ]
    # without x-message, jsonschema's own sentence
    del schema["properties"]["phone"]["x-message"]
    [problem] = form_errors(schema, {"phone": "abc", "statement": "申请休学"})
    assert "does not match" in problem["message"]
