"""Migrating running instances to another version: the dry run's blockers, and 100 cases
moved to a version with a renamed task (same id, then a changed id paired explicitly), each
going on to its end afterwards."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from tests.helpers import FIXTURES, auth, deploy, history_kinds
from tests.operations.cases import KEY, active, call, deploy_version, start
from xueji.models import Student, Timer
from xueji.scheduler.worker import run_once

DUE = datetime(2027, 3, 25, tzinfo=timezone(timedelta(hours=8)))

DONE = {"mode": "normal", "count": 3}


def only(items: list) -> dict:
    [item] = items
    return item


def complete_all(client, tasks: list[dict], data: dict) -> dict:
    """Complete the tasks in one request (all or none), as a registrar."""
    body = {"tasks": [{"id": task["id"], "data": data} for task in tasks]}
    return call(client, "POST", "/tasks/complete-batch", body, "registrar")


def plan(version: int, **extra) -> dict:
    return {"key": KEY, "target_version": version, **extra}


def test_dry_run_reports_an_active_element_without_target_and_a_form_lacking_data(client):
    deploy_version(client)
    case = start(client, "2027-S01-0001")
    renamed = deploy_version(client, check_id="first_check", check_name="初审")

    report = call(client, "POST", "/migrations/dry-run", plan(renamed))
    assert (report["total"], report["movable"], report["blocked"]) == (1, 0, 1)
    [item] = report["instances"]
    assert item["id"] == case["id"] and item["moves"] == []
    [blocker] = item["blockers"]
    assert blocker["element_id"] == "check" and blocker["code"] == "NoTarget"

    paired = plan(renamed, pairs=[{"source": "check", "target": "first_check"}])
    [item] = call(client, "POST", "/migrations/dry-run", paired)["instances"]
    assert item["blockers"] == []
    [move] = item["moves"]
    assert (move["source"], move["target"], move["target_name"]) == ("check", "first_check", "初审")

    scored = deploy_version(client, check_form="case_scored.schema.json")
    [item] = call(client, "POST", "/migrations/dry-run", plan(scored))["instances"]
    [blocker] = item["blockers"]
    assert blocker["code"] == "FormDataMissing" and "score" in blocker["message"]
    # Executing the same plan moves nothing and says why.
    result = call(client, "POST", "/migrations", plan(scored))
    assert (result["migrated"], result["blocked"]) == (0, 1)
    assert call(client, "GET", f"/process-instances/{case['id']}")["version"] == 1


def test_a_hundred_running_cases_move_to_a_renamed_task_and_each_completes(client):
    deploy_version(client)
    cases = [start(client, f"2027-S01-{n:04d}")["id"] for n in range(100)]
    claimed = active(client, cases[0])[0]
    call(client, "POST", f"/tasks/{claimed['id']}/claim", {}, user="registrar")
    renamed = deploy_version(client, check_name="初审（新）", approve_name="复核")

    result = call(client, "POST", "/migrations", plan(renamed, batch_size=30))
    assert (result["total"], result["migrated"], result["failed"]) == (100, 100, 0)
    [task] = active(client, cases[0])
    assert (task["id"], task["name"], task["assignee"]) == (
        claimed["id"],
        "初审（新）",
        "registrar",
    )
    assert ("instance_migrated", None) in history_kinds(client, cases[0])

    # A changed id, paired explicitly: the same task moves on to the next version.
    changed = deploy_version(client, check_id="first_check", check_name="初审")
    pairs = [{"source": "check", "target": "first_check"}]
    result = call(client, "POST", "/migrations", plan(changed, pairs=pairs))
    assert (result["migrated"], result["blocked"]) == (100, 0)

    tasks = [only(active(client, instance_id)) for instance_id in cases]
    assert {t["element_id"] for t in tasks} == {"first_check"}
    result = complete_all(client, tasks, DONE)
    assert {t["name"] for t in result["next_tasks"]} == {"批准"}
    complete_all(client, result["next_tasks"], {})
    page = client.get(
        "/api/v1/process-instances",
        params={"key": KEY, "state": "completed", "per_page": 200},
        headers=auth(client, "admin"),
    ).json()
    assert page["total"] == 100
    assert {item["version"] for item in page["items"]} == {changed}


def timers_of(db, instance_id: str) -> list[tuple[str, str, str]]:
    with db.db.reader() as session:
        rows = session.scalars(select(Timer).where(Timer.instance_id == instance_id))
        return [(row.task_id, row.element_id, row.state) for row in rows]


def test_a_case_waiting_with_a_timer_moves_to_a_paired_task_and_its_timer_still_fires(client, db):
    source = (FIXTURES / "deadline.bpmn").read_text(encoding="utf-8")
    deploy(client, ("deadline.bpmn", source.encode()))
    case = call(
        client, "POST", "/process-definitions/deadline/start", {"variables": {}}, "station1", 201
    )
    [report] = case["active_tasks"]
    [(timer_task, _, _)] = timers_of(db, case["id"])
    # v2: the task watched by the timer has a new id and name; the timer keeps its own.
    renamed = source.replace('"report"', '"report_online"').replace(">report<", ">report_online<")
    renamed = renamed.replace('name="新生学籍注册信息上报"', 'name="网上上报"')
    deploy(client, ("deadline.bpmn", renamed.encode()))

    moved: dict = {"key": "deadline", "target_version": 2}
    [item] = call(client, "POST", "/migrations/dry-run", moved)["instances"]
    assert {b["code"] for b in item["blockers"]} == {"NoTarget"}
    moved["pairs"] = [{"source": "report", "target": "report_online"}]
    assert call(client, "POST", "/migrations", moved)["migrated"] == 1

    [task] = active(client, case["id"])
    assert (task["id"], task["element_id"], task["name"]) == (
        report["id"],
        "report_online",
        "网上上报",
    )
    assert timers_of(db, case["id"]) == [(timer_task, "late", "pending")]
    assert run_once(db, DUE + timedelta(minutes=1)).fired == 1
    assert [t["element_id"] for t in active(client, case["id"])] == ["chase"]


def test_a_call_waiting_for_its_children_moves_only_to_one_calling_the_same_process(client, db):
    deploy(client, "batch_child.bpmn", "batch_parent.bpmn")
    deploy(client, "complete_batch_check.schema.json", "complete_batch_child.bpmn")
    with db.db.reader() as session:
        ids = {s.user.username: s.id for s in session.scalars(select(Student))}
    students = [ids["stu1001"], ids["stu1002"]]
    caller = call(
        client,
        "POST",
        "/process-definitions/batch_parent/start",
        {"business_key": "B-2027", "variables": {"students": students, "station": "S01"}},
        "registrar",
        201,
    )
    assert len(caller["children"]) == 2
    source = (FIXTURES / "batch_parent.bpmn").read_bytes()
    other = source.replace(b'calledElement="batch_child"', b'calledElement="complete_batch_child"')
    deploy(client, ("batch_parent.bpmn", other))

    dry = {"key": "batch_parent", "target_version": 2, "filter": {"business_key": "B-2027"}}
    [item] = call(client, "POST", "/migrations/dry-run", dry)["instances"]
    assert [(b["element_id"], b["code"]) for b in item["blockers"]] == [
        ("each", "CalledElementChanged")
    ]
    dry["filter"] = {"business_key": "B-2028"}
    assert call(client, "POST", "/migrations/dry-run", dry)["total"] == 0

    renamed = source.replace('name="逐个学生确认"'.encode(), 'name="逐个确认"'.encode())
    deploy(client, ("batch_parent.bpmn", renamed))
    moved = call(client, "POST", "/migrations", {"key": "batch_parent", "target_version": 3})
    assert moved["migrated"] == 1
    # The children it waits for still wake it: the caller goes on to its summary.
    for username in ("stu1001", "stu1002"):
        [task] = call(client, "GET", "/tasks", user=username)["items"]
        call(client, "POST", f"/tasks/{task['id']}/complete", {"data": {"answer": "yes"}}, username)
    [summary] = call(client, "GET", "/tasks", user="registrar")["items"]
    assert summary["instance_id"] == caller["id"]
    assert call(client, "GET", f"/process-instances/{caller['id']}")["version"] == 3


def test_a_waiting_timer_the_new_version_lacks_blocks_the_move_and_keeps_its_row(client, db):
    """A case waits for a deadline the new version dropped: the boundary timer has no target,
    so the case stays where it is (its timer row still pending) rather than losing a timer."""
    source = (FIXTURES / "deadline.bpmn").read_text(encoding="utf-8")
    deploy(client, ("deadline.bpmn", source.encode()))
    case = call(
        client, "POST", "/process-definitions/deadline/start", {"variables": {}}, "station1", 201
    )
    [(timer_task, _, state)] = timers_of(db, case["id"])
    assert state == "pending"
    # v2: no deadline on 上报 any more (no boundary timer, no 催报 branch).
    start, end = source.index("<bpmn:boundaryEvent"), source.index("<bpmn:endEvent")
    plain = source[:start] + source[end:]
    for gone in (
        "<bpmn:flowNodeRef>late</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>late_end</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>chase</bpmn:flowNodeRef>",
        '<bpmn:endEvent id="late_end" name="逾期处理完毕"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>',
        '<bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="chase" />',
        '<bpmn:sequenceFlow id="f4" sourceRef="chase" targetRef="late_end" />',
    ):
        assert gone in plain, gone
        plain = plain.replace(gone, "")
    deploy(client, ("deadline.bpmn", plain.encode()))

    moved = {"key": "deadline", "target_version": 2}
    [item] = call(client, "POST", "/migrations/dry-run", moved)["instances"]
    assert [(b["element_id"], b["code"]) for b in item["blockers"]] == [("late", "NoTarget")]
    assert call(client, "POST", "/migrations", moved)["migrated"] == 0
    assert timers_of(db, case["id"]) == [(timer_task, "late", "pending")]
    assert run_once(db, DUE + timedelta(minutes=1)).fired == 1
    assert [t["element_id"] for t in active(client, case["id"])] == ["chase"]
