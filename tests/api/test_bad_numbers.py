"""Numbers out of range in paths and queries are a 422 naming the parameter, never a 500."""

from __future__ import annotations

import pytest

from tests.helpers import auth

HUGE = "412587721697478951567360"


@pytest.mark.parametrize(
    "path, field",
    [
        (f"/api/v1/process-instances?page={HUGE}", "page"),
        (f"/api/v1/tasks?page={HUGE}", "page"),
        (f"/api/v1/students?page={HUGE}", "page"),
        (f"/api/v1/process-instances?student={HUGE}", "student"),
        ("/api/v1/uploads/48903628062617387008", "upload_id"),
        (f"/api/v1/students/{HUGE}", "student_id"),
        ("/api/v1/students?intake=99999999999999999999", "intake"),
        (f"/api/v1/process-definitions/review/xml?version={HUGE}", "version"),
        ("/api/v1/uploads/0", "upload_id"),
    ],
)
def test_an_out_of_range_number_is_refused_naming_it(client, path, field):
    response = client.get(path, headers=auth(client, "admin"))
    assert response.status_code == 422, response.text
    assert field in {problem["field"] for problem in response.json()["detail"]}


@pytest.mark.parametrize(
    "path", ["/api/v1/jobs/timers/{id}/retry", "/api/v1/incidents/{id}/resolve"]
)
def test_an_out_of_range_id_in_an_admin_action_is_refused(client, path):
    response = client.post(
        path.format(id=HUGE), json={"action": "dismiss"}, headers=auth(client, "admin")
    )
    assert response.status_code == 422, response.text
