"""A definition's detail names its forms' fields and their values for people reading a case."""

from __future__ import annotations

from tests.helpers import auth, deploy_processes


def test_a_chosen_value_is_named_as_its_form_names_it(client):
    deploy_processes(client, "enrollment_registration")
    response = client.get(
        "/api/v1/process-definitions/enrollment_registration", headers=auth(client, "station1")
    )
    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["field_titles"]["source"] == "录入方式"
    # process 2's 录入方式 is stored as upload/rows and read as the form's words
    assert detail["field_choices"]["source"] == {
        "upload": "上传标准库文件",
        "rows": "在线录入（提交全部行）",
    }
