"""The inbox's page statements are built once per shape of caller and filters and kept
(tasks/repository.py page_statements); every value is a parameter of the execution, so the
next caller of the same shape sees their own rows, never the first caller's."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.helpers import auth, deploy_bench
from xueji.models import UserTask
from xueji.tasks import repository


def get(client, username: str, **params) -> list[dict]:
    response = client.get("/api/v1/tasks", params=params, headers=auth(client, username))
    assert response.status_code == 200, response.text
    return response.json()["items"]


def start(client, username: str, business_key: str) -> dict:
    response = client.post(
        "/api/v1/process-definitions/bench_ten_steps/start",
        json={"business_key": business_key, "variables": {}},
        headers=auth(client, username),
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_a_kept_statement_serves_each_caller_their_own_rows(client):
    deploy_bench(client)
    ours, theirs = start(client, "station1", "BK-S01"), start(client, "station2", "BK-S02")
    repository._PAGES.clear()

    assert [t["instance_id"] for t in get(client, "station1")] == [ours["id"]]
    kept = dict(repository._PAGES)
    assert [t["instance_id"] for t in get(client, "station2")] == [theirs["id"]]
    assert repository._PAGES == kept  # the same statement, the other station's rows

    for username, instance in (("station1", ours), ("station2", theirs)):
        assert [t["instance_id"] for t in get(client, username, instance_id=instance["id"])] == [
            instance["id"]
        ]
        other = theirs if instance is ours else ours
        assert get(client, username, instance_id=other["id"]) == []
        assert [t["business_key"] for t in get(client, username, q="BK-S0")] == [
            instance["business_key"]
        ]
    # a cursor page continues after its own row, for each caller
    more = start(client, "station1", "BK-S01-2")
    first = client.get("/api/v1/tasks", params={"per_page": 1}, headers=auth(client, "station1"))
    cursor = first.json()["next_cursor"]
    rest = get(client, "station1", per_page=1, cursor=cursor)
    assert [t["instance_id"] for t in rest] == [more["id"]]


def test_a_statement_holding_a_value_of_its_own_is_refused():
    with pytest.raises(RuntimeError, match="values of its own"):
        repository._check_parameters(select(UserTask).where(UserTask.name == "第1步"))
