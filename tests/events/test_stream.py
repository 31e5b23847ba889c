"""The SSE stream sends only events about instances the caller may see."""

from __future__ import annotations

import json

from tests.api.test_workflow import REVIEW, start_review
from tests.helpers import auth, deploy


def read_events(client, username, **params):
    response = client.get(
        "/api/v1/events/stream",
        params={"after": 0, "wait": 0, **params},
        headers=auth(client, username),
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = []
    for block in response.text.split("\n\n"):
        fields = dict(
            line.split(": ", 1)
            for line in block.splitlines()
            if ": " in line and not line.startswith(":")
        )
        if "data" in fields:
            events.append((int(fields["id"]), fields["event"], json.loads(fields["data"])))
    return events


def test_stream_is_scoped_and_resumable(client):
    deploy(client, *REVIEW)
    own = start_review(client, "stu1001")
    other = start_review(client, "stu2001")
    station1 = read_events(client, "station1")
    assert {e[2]["instance_id"] for e in station1} == {own["id"]}
    assert [e[1] for e in station1] == ["instance.started", "task.created"]
    assert {e[2]["instance_id"] for e in read_events(client, "stu2001")} == {other["id"]}
    assert {e[2]["instance_id"] for e in read_events(client, "registrar")} == {
        own["id"],
        other["id"],
    }
    last = station1[-1][0]
    assert read_events(client, "station1", after=last) == []
    resumed = client.get(
        "/api/v1/events/stream",
        params={"wait": 0},
        headers={**auth(client, "station1"), "Last-Event-ID": str(last - 1)},
    )
    assert resumed.text.count("event: task.created") == 1


def test_stream_needs_a_token(client):
    assert client.get("/api/v1/events/stream", params={"wait": 0}).status_code == 401
