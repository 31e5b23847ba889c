"""Stations: listed for everyone, added and renamed by admins."""

from __future__ import annotations

from tests.helpers import auth


def test_stations_are_listed_and_admins_add_and_rename_them(client):
    listed = client.get("/api/v1/stations", headers=auth(client, "stu1001")).json()
    assert [(s["code"], s["name"]) for s in listed] == [
        ("S01", "郑州函授站"),
        ("S02", "洛阳函授站"),
    ]
    assert listed[0]["students"] == 5 and listed[0]["staff"] >= 2
    body = {"code": "S03", "name": "开封函授站"}
    assert (
        client.post("/api/v1/stations", json=body, headers=auth(client, "registrar")).status_code
        == 403
    )
    created = client.post("/api/v1/stations", json=body, headers=auth(client, "admin"))
    assert created.status_code == 201 and created.json()["students"] == 0
    assert (
        client.post("/api/v1/stations", json=body, headers=auth(client, "admin")).status_code == 409
    )
    renamed = client.put(
        "/api/v1/stations/S03", json={"name": "开封市函授站"}, headers=auth(client, "admin")
    )
    assert renamed.json()["name"] == "开封市函授站"
    assert (
        client.put(
            "/api/v1/stations/S99", json={"name": "x"}, headers=auth(client, "admin")
        ).status_code
        == 404
    )
    bad = client.post(
        "/api/v1/stations", json={"code": "S 4", "name": ""}, headers=auth(client, "admin")
    )
    assert bad.status_code == 422
