"""Forms that offer choices, not codes: lists filled by the server per caller, checked on submit;
fields the session decides hidden and filled; review steps signed from the session. All through
the HTTP app, as the demo users, against the real database."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from tests.helpers import auth, complete, deploy, deploy_processes, only_task, student_id
from xueji import clock
from xueji.models import Admission, Major, Station, Student


@pytest.fixture
def processes(client):
    deploy_processes(client, "daily_records", "status_change", "enrollment_checkin")


def start_form(client, key, username):
    response = client.get(f"/api/v1/process-definitions/{key}", headers=auth(client, username))
    assert response.status_code == 200, response.text
    return response.json()["start_form"]


def start(client, key, username, variables, expect=201):
    response = client.post(
        f"/api/v1/process-definitions/{key}/start",
        json={"variables": variables},
        headers=auth(client, username),
    )
    assert response.status_code == expect, response.text
    return response.json()


def students_of(db, station: str | None = None) -> dict[int, Student]:
    with db.db.reader() as session:
        query = select(Student).join(Station, Station.id == Student.station_id)
        if station:
            query = query.where(Station.code == station)
        return {s.id: s for s in session.scalars(query)}


def test_student_choices_are_scoped_to_the_caller(client, db, processes):
    s01, everyone = students_of(db, "S01"), students_of(db)
    assert set(s01) < set(everyone)
    field = start_form(client, "daily_records", "station1")["schema"]["properties"]["student"]
    assert {c["const"] for c in field["oneOf"]} == set(s01)
    zhang = next(c for c in field["oneOf"] if c["const"] == student_id(client, "stu1001"))
    record = s01[zhang["const"]]
    assert record.name in zhang["title"] and "郑州函授站" in zhang["title"]
    assert (record.student_number or "未编") in zhang["title"]
    assert record.id_number[-4:] in zhang["title"] and record.id_number not in zhang["title"]

    field = start_form(client, "status_change", "registrar")["schema"]["properties"]["student"]
    assert {c["const"] for c in field["oneOf"]} == set(everyone)

    # the lookup endpoint: the same lists, searched
    found = client.get(
        "/api/v1/choices/students", params={"q": "张"}, headers=auth(client, "station1")
    ).json()
    assert [c["value"] for c in found] == [s.id for s in s01.values() if "张" in s.name]
    by_id_number = client.get(
        "/api/v1/choices/students",
        params={"q": record.id_number[-8:]},
        headers=auth(client, "station1"),
    ).json()
    assert [c["value"] for c in by_id_number] == [record.id]
    s02 = students_of(db, "S02")
    other = next(iter(s02.values()))
    assert (
        client.get(
            "/api/v1/choices/students", params={"q": other.name}, headers=auth(client, "station1")
        ).json()
        == []
    )
    mine = client.get("/api/v1/choices/students", headers=auth(client, "stu1001")).json()
    assert [c["value"] for c in mine] == [record.id]


def test_a_student_does_not_see_the_student_field_and_it_is_their_own(client, db, processes):
    form = start_form(client, "status_change", "stu1001")
    assert "student" not in form["schema"]["properties"]
    assert "student" not in form["ui_schema"]["ui:order"]
    assert "student" in start_form(client, "status_change", "station1")["schema"]["properties"]
    # another student's id is refused, naming the field
    someone_else = student_id(client, "stu1002")
    refused = start(
        client,
        "status_change",
        "stu1001",
        {
            "kind": "休学",
            "reason": "工作调动",
            "effective_term": "2027-春",
            "student": someone_else,
        },
        expect=422,
    )
    assert [p["field"] for p in refused["detail"]] == ["student"]
    instance = start(
        client,
        "status_change",
        "stu1001",
        {"kind": "休学", "reason": "工作调动", "effective_term": "2027-春"},
    )
    assert instance["variables"]["student"] == student_id(client, "stu1001")


def test_a_value_outside_the_callers_list_is_refused_naming_the_field(client, db, processes):
    s02 = next(iter(students_of(db, "S02")))
    refused = start(client, "daily_records", "station1", {"student": s02}, expect=422)
    assert refused["error"] == "FormInvalid"
    assert [p["field"] for p in refused["detail"]] == ["student"]
    assert "不在可选的学生中" in refused["detail"][0]["message"]
    # nested and list fields are checked too, and choices do not open a closed form
    refused = start(
        client,
        "status_change",
        "stu1001",
        {
            "kind": "转函授站",
            "reason": "工作调动",
            "effective_term": "2027-春",
            "target_station": "S99",
        },
        expect=422,
    )
    assert [p["field"] for p in refused["detail"]] == ["target_station"]
    refused = start(
        client,
        "status_change",
        "stu1001",
        {"kind": "休学", "reason": "工作调动", "effective_term": "2001-春", "extra": 1},
        expect=422,
    )
    assert [p["field"] for p in refused["detail"]] == ["extra"]  # the schema's problems first
    refused = start(
        client,
        "status_change",
        "stu1001",
        {"kind": "休学", "reason": "工作调动", "effective_term": "2001-春"},
        expect=422,
    )
    assert [p["field"] for p in refused["detail"]] == ["effective_term"]
    # an id beyond any row (and beyond PostgreSQL's INTEGER) is refused, not a 500
    refused = start(
        client,
        "status_change",
        "admin",
        {"kind": "休学", "reason": "工作调动", "effective_term": "2027-春", "student": 2**40},
        expect=422,
    )
    assert [p["field"] for p in refused["detail"]] == ["student"]


def test_stations_majors_and_terms_are_lists_with_names(client, db, processes):
    schema = start_form(client, "status_change", "stu1001")["schema"]["properties"]
    assert {(c["const"], c["title"]) for c in schema["target_station"]["oneOf"]} == {
        ("S01", "郑州函授站（S01）"),
        ("S02", "洛阳函授站（S02）"),
    }
    # a student's majors are those of their own level; the college sees every name once
    with db.db.reader() as session:
        level = session.get(Student, student_id(client, "stu1001")).level
        by_level = {m.name for m in session.scalars(select(Major).where(Major.level == level))}
        every = set(session.scalars(select(Major.name)))
    majors = [c["const"] for c in schema["target_major"]["oneOf"]]
    assert set(majors) == by_level and len(majors) == len(set(majors)) and "会计" in majors
    college = start_form(client, "status_change", "admin")["schema"]["properties"]
    assert {c["const"] for c in college["target_major"]["oneOf"]} == every > by_level
    year = clock.now().year
    terms = {c["const"]: c["title"] for c in schema["effective_term"]["oneOf"]}
    assert terms[f"{year}-春"] == f"{year} 年春季学期" and f"{year + 1}-秋" in terms


def test_a_station_users_own_station_is_not_shown_and_comes_from_the_session(client, db, processes):
    form = start_form(client, "enrollment_checkin", "station1")["schema"]
    assert "station" not in form["properties"]
    college = start_form(client, "enrollment_checkin", "registrar")["schema"]
    assert {c["const"] for c in college["properties"]["station"]["oneOf"]} == {"S01", "S02"}
    # 考生号 from the admissions list: the station's own candidates without a record, by name
    with db.db.reader() as session:
        open_ones = {
            a.exam_number: a
            for a in session.scalars(
                select(Admission)
                .join(Station, Station.id == Admission.station_id)
                .outerjoin(Student, Student.exam_number == Admission.exam_number)
                .where(Station.code == "S01", Student.id.is_(None))
            )
        }
    # offered as suggestions: a candidate not on the list (无录取信息) may still be typed in
    exam_number = form["properties"]["exam_number"]
    assert "oneOf" not in exam_number
    offered = {c["value"]: c["title"] for c in exam_number["x-suggestions"]}
    assert set(offered) == set(open_ones) and offered
    number, admission = next(iter(open_ones.items()))
    assert admission.name in offered[number] and number in offered[number]
    # a station user may not name another station
    refused = start(
        client,
        "enrollment_checkin",
        "station1",
        {"exam_number": number, "year": admission.intake_year, "station": "S02"},
        expect=422,
    )
    assert [p["field"] for p in refused["detail"]] == ["station"]
    instance = start(
        client,
        "enrollment_checkin",
        "station1",
        {"exam_number": number, "year": admission.intake_year},
    )
    assert instance["variables"]["station"] == "S01"
    # the candidate now has a record: no longer offered
    form = start_form(client, "enrollment_checkin", "station1")["schema"]
    assert number not in {c["value"] for c in form["properties"]["exam_number"]["x-suggestions"]}
    # a number not on the list is the process's to judge (its 无录取信息 case), not the form's
    unlisted = client.post(
        "/api/v1/process-definitions/enrollment_checkin/start",
        json={"variables": {"exam_number": "99999999999999", "year": admission.intake_year}},
        headers=auth(client, "station1"),
    )
    assert unlisted.status_code in (201, 422), unlisted.text
    assert unlisted.status_code == 201 or unlisted.json()["error"] != "FormInvalid"


def test_reviewers_sign_from_the_session_and_keep_their_own_opinions(client, db, processes):
    instance = start(
        client,
        "status_change",
        "stu1001",
        {"kind": "休学", "reason": "工作调动", "effective_term": "2027-春"},
    )
    complete(
        client,
        "stu1001",
        only_task(client, "stu1001"),
        {"phone": "13800000000", "statement": "因工作调动申请休学"},
    )
    before = clock.now()
    complete(
        client,
        "station1",
        only_task(client, "station1"),
        {"outcome": "approved", "comment": "材料齐全，同意上报"},
    )
    task = only_task(client, "registrar")
    detail = client.get(f"/api/v1/tasks/{task['id']}", headers=auth(client, "registrar")).json()
    assert "comment" not in detail["data"]  # the station's opinion is not pre-filled here
    complete(client, "registrar", task, {"outcome": "approved", "comment": "同意休学一年"})
    sign = only_task(client, "leader")
    complete(client, "leader", sign, {"signed_by": "王主任"}, expect=422)  # not typed any more
    complete(client, "leader", sign, {"comment": "同意"})
    after = clock.now()

    variables = client.get(
        f"/api/v1/process-instances/{instance['id']}", headers=auth(client, "registrar")
    ).json()["variables"]
    station, college, leader = (
        variables["sign_station_review"],
        variables["sign_college_review"],
        variables["sign_leader_sign"],
    )
    assert (station["signer"], station["signer_name"], station["opinion"]) == (
        "station1",
        "郑州函授站",
        "材料齐全，同意上报",
    )
    assert (college["signer"], college["opinion"], college["outcome"]) == (
        "registrar",
        "同意休学一年",
        "approved",
    )
    assert (leader["signer"], leader["signer_name"], leader["opinion"]) == (
        "leader",
        "学籍主管领导",
        "同意",
    )
    assert station["step"] == "函授站签署审核意见" and leader["step"] == "学籍主管领导签批"
    for signed in (station, college, leader):
        assert before <= datetime.fromisoformat(signed["signed_at"]) <= after
    assert "comment" not in variables and "signed_by" not in variables


def test_a_long_list_is_searched_through_the_lookup_and_still_checked(
    client, db, processes, monkeypatch
):
    from xueji.forms import choices

    monkeypatch.setattr(choices, "INLINE_LIMIT", 1)  # as if the station had thousands
    field = start_form(client, "daily_records", "station1")["schema"]["properties"]["student"]
    assert "oneOf" not in field and field["x-lookup"] == "/api/v1/choices/students"
    s01, s02 = students_of(db, "S01"), students_of(db, "S02")
    refused = start(client, "daily_records", "station1", {"student": next(iter(s02))}, expect=422)
    assert [p["field"] for p in refused["detail"]] == ["student"]
    assert start(client, "daily_records", "station1", {"student": next(iter(s01))})
    # small lists of the same form stay inline
    terms = start_form(client, "status_change", "stu1001")["schema"]["properties"]
    assert "x-lookup" in terms["effective_term"]  # 14 terms > 1 as well
    monkeypatch.setattr(choices, "INLINE_LIMIT", 20)
    terms = start_form(client, "status_change", "stu1001")["schema"]["properties"]
    assert "oneOf" in terms["effective_term"] and "x-lookup" not in terms["effective_term"]


def test_a_form_naming_an_unknown_list_is_not_deployed(client, db):
    form = (
        b'{"type": "object", "properties": {"who": {"type": "integer", "x-choices": "teachers"}}}'
    )
    refused = deploy(client, ("odd.schema.json", form), expect=422)
    [problem] = refused["detail"]
    assert problem["file"] == "odd.schema.json"
    assert "/properties/who 'teachers'" in problem["message"]
    in_branch = (
        b'{"type": "object", "properties": {"who": {"type": "integer"}}, '
        b'"then": {"properties": {"who": {"x-choices": "students"}}}}'
    )
    refused = deploy(client, ("odd.schema.json", in_branch), expect=422)
    assert "/then/properties/who 'students'" in refused["detail"][0]["message"]


def test_the_lookup_narrows_to_a_station_within_the_callers_scope(client, db, processes):
    def values(username, **params):
        response = client.get(
            "/api/v1/choices/students", params=params, headers=auth(client, username)
        )
        assert response.status_code == 200, response.text
        return {c["value"] for c in response.json()}

    s01, s02 = students_of(db, "S01"), students_of(db, "S02")
    assert values("registrar", station="S01") == set(s01)
    assert values("registrar", station="S02") == set(s02)
    assert values("registrar", station="S99") == set()
    assert values("station1", station="S02") == set()  # narrowing never widens the scope
    assert values("registrar", limit=200) == set(s01) | set(s02)
    assert client.get("/api/v1/choices/teachers", headers=auth(client, "admin")).status_code == 422
