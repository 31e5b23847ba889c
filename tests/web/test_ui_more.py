"""Claiming, overdue highlighting, uploads and generated documents, and the admin's pages."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from tests.helpers import FIXTURES, auth, complete, only_task
from tests.web.ui import login
from xueji.models import Student

# A 1×1 PNG: the upload endpoint sniffs the bytes.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def _start(client, username="stu1001"):
    response = client.post(
        "/api/v1/process-definitions/status_change/start",
        json={"variables": {"kind": "休学", "reason": "工作调动", "effective_term": "2027-春"}},
        headers=auth(client, username),
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_claim_release_and_overdue_highlight(page, deployed):
    _start(deployed)
    form = {"phone": "13800000000", "statement": "申请休学"}
    complete(deployed, "stu1001", only_task(deployed, "stu1001"), form)
    task = only_task(deployed, "station1")
    due = datetime.fromisoformat(task["due_at"].replace("Z", "+00:00"))
    # The browser's clock ten days on: the task is past its due date.
    page.clock.install(time=due + timedelta(days=3))
    login(page, "station1")
    row = page.locator("[data-testid=task-row]").first
    row.locator(".due.overdue", has_text="已逾期").wait_for()
    row.locator("button", has_text="认领").click()
    page.wait_for_selector("text=已认领：函授站签署审核意见")
    row.locator("text=station1").wait_for()
    page.locator("[data-testid=count-mine]", has_text="1").wait_for()
    assert only_task(deployed, "station1")["assignee"] == "station1"
    row.locator("button", has_text="放弃认领").click()
    page.wait_for_selector("text=已放弃认领")
    page.locator("[data-testid=count-mine]", has_text="0").wait_for()
    assert only_task(deployed, "station1")["assignee"] is None


def test_upload_attachment_and_station_downloads_it(page, deployed, tmp_path):
    _start(deployed)
    scan = tmp_path / "休学证明.png"
    scan.write_bytes(PNG)
    login(page, "stu1001")
    page.click("[data-testid=task-row] >> text=填写学籍异动审批表")
    page.wait_for_selector("#root_phone")
    page.fill("#root_phone", "13800000000")
    page.fill("#root_statement", "附休学证明")
    page.set_input_files("#root_attachments", str(scan))
    page.wait_for_selector(".uploads a:has-text('休学证明.png')")
    page.click("button:has-text('提交')")
    page.wait_for_selector("text=已提交")
    task = only_task(deployed, "station1")
    instance = deployed.get(
        f"/api/v1/process-instances/{task['instance_id']}", headers=auth(deployed, "admin")
    ).json()
    [upload_id] = instance["variables"]["attachments"]

    page.click("text=退出登录")
    login(page, "station1")
    page.goto(page.base + f"/tasks/{task['id']}")
    link = page.locator(f".documents a[data-upload-id='{upload_id}']")
    link.wait_for()
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith(".png")
    assert open(download.value.path(), "rb").read() == PNG


def test_admin_uploads_a_bpmn_drawn_elsewhere_and_makes_a_token(page, deployed):
    login(page, "admin")
    page.goto(page.base + "/admin/definitions")
    page.wait_for_selector("[data-testid=definition-row][data-key=status_change]")
    files = [
        FIXTURES / name
        for name in (
            "review.bpmn",
            "review_apply.schema.json",
            "review_apply.uischema.json",
            "review_decide.schema.json",
            "review_start.schema.json",
        )
    ]
    page.set_input_files("[data-testid=deploy-files]", [str(f) for f in files])
    page.wait_for_selector("text=已部署：")
    page.wait_for_selector("[data-testid=definition-row][data-key=review]")
    detail = deployed.get("/api/v1/process-definitions/review", headers=auth(deployed, "admin"))
    assert detail.status_code == 200

    broken = FIXTURES / "review.bpmn"
    page.set_input_files(
        "[data-testid=deploy-files]",
        files=[
            {
                "name": "broken.bpmn",
                "mimeType": "application/xml",
                "buffer": broken.read_bytes()[:200],
            }
        ],
    )
    page.wait_for_selector("text=部署失败")
    page.wait_for_selector(".problems li")

    page.click("text=API 令牌")
    page.fill(".inline-form label:has-text('名称') input", "学信网对接")
    page.click(".inline-form button:has-text('创建')")
    page.wait_for_selector("text=令牌只显示这一次")
    assert page.locator(".notice.token code").inner_text().strip()
    page.click("text=用户与角色")
    page.wait_for_selector("td:has-text('station1')")
    page.click("text=函授站")
    page.wait_for_selector("td:has-text('郑州函授站')")
    page.fill(".inline-form label:has-text('代码') input", "S03")
    page.fill(".inline-form label:has-text('名称') input", "开封函授站")
    page.click(".inline-form button:has-text('添加')")
    page.wait_for_selector("td:has-text('开封函授站')")
    codes = [
        s["code"] for s in deployed.get("/api/v1/stations", headers=auth(deployed, "admin")).json()
    ]
    assert codes == ["S01", "S02", "S03"]


def test_student_sees_own_record_and_the_rejection_reason(page, deployed):
    instance = _start(deployed)
    complete(
        deployed,
        "stu1001",
        only_task(deployed, "stu1001"),
        {"phone": "13800000000", "statement": "申请休学"},
    )
    complete(
        deployed,
        "station1",
        only_task(deployed, "station1"),
        {"outcome": "rejected", "reason": "材料不全，请补充证明"},
    )
    login(page, "stu1001")
    page.click("nav >> text=我的学籍")
    page.wait_for_selector("[data-testid=student-name]:has-text('张伟')")
    page.click("text=学籍异动")
    page.wait_for_url(f"**/instances/{instance['id']}")
    page.wait_for_selector("[data-testid=history] >> text=材料不全，请补充证明")
    page.wait_for_selector(".djs-element.done[data-element-id=station_rejected]")


def test_the_record_page_shows_a_graduation_deferral(page, deployed, db):
    with db.db.writer() as session:
        student = session.get(
            Student, deployed.get("/api/v1/me", headers=auth(deployed, "stu2003")).json()["student"]
        )
        student.deferred_season, student.deferral_reason = (
            "2028春季",
            "课程不及格且未补考通过：护理学基础",
        )
        session.commit()
        sid = student.id
    login(page, "registrar")
    page.goto(page.base + f"/students/{sid}")
    page.wait_for_selector("[data-testid=student-name]:has-text('马超')")
    page.wait_for_selector("text=缓验季别")
    page.wait_for_selector("text=2028春季")
    page.wait_for_selector("text=课程不及格且未补考通过：护理学基础")
