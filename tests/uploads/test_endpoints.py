"""Uploads: sniffed types, the size limit, and who may read a file."""

from __future__ import annotations

import hashlib
import io
import zipfile

from openpyxl import Workbook

from tests.api.test_workflow import REVIEW, start_review
from tests.helpers import auth, deploy, student_id
from xueji import clock
from xueji.db.session import session_scope
from xueji.models import Upload

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def upload(client, username, name, content, expect=201, **form):
    response = client.post(
        "/api/v1/uploads",
        files={"file": (name, content, "application/octet-stream")},
        data=form,
        headers=auth(client, username),
    )
    assert response.status_code == expect, response.text
    return response.json()


def readers(client, upload_id, usernames):
    """The users (of `usernames`) who can read both the metadata and the content."""
    allowed = []
    for username in usernames:
        headers = auth(client, username)
        meta = client.get(f"/api/v1/uploads/{upload_id}", headers=headers).status_code
        content = client.get(f"/api/v1/uploads/{upload_id}/content", headers=headers).status_code
        assert meta == content and meta in (200, 404), (username, meta, content)
        if meta == 200:
            allowed.append(username)
    return allowed


EVERYONE = ["registrar", "academic", "station1", "advisor1", "station2", "stu1001", "stu1002"]


def xlsx() -> bytes:
    book = Workbook()
    book.active.append(["XM", "SFZH"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_student_photo_roundtrip(client):
    body = upload(client, "stu1001", "../../照片.png", PNG)
    assert body["file_name"] == "照片.png" and body["content_type"] == "image/png"
    assert body["size"] == len(PNG) and body["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert body["student"] == student_id(client, "stu1001") and body["station"] == "S01"
    assert body["uploaded_by"] == "stu1001" and body["generated"] is False
    headers = auth(client, "stu1001")
    assert client.get(f"/api/v1/uploads/{body['id']}", headers=headers).json() == body
    content = client.get(f"/api/v1/uploads/{body['id']}/content", headers=headers)
    assert content.content == PNG
    assert content.headers["content-type"] == "image/png"
    assert (
        content.headers["content-disposition"] == "inline; filename*=UTF-8''%E7%85%A7%E7%89%87.png"
    )
    assert readers(client, body["id"], EVERYONE) == [
        "registrar",
        "academic",
        "station1",
        "advisor1",
        "stu1001",
    ]


def test_station_upload_belongs_to_the_station(client):
    body = upload(client, "station1", "名单.pdf", PDF)
    assert (body["content_type"], body["station"], body["student"]) == (
        "application/pdf",
        "S01",
        None,
    )
    assert readers(client, body["id"], EVERYONE) == [
        "registrar",
        "academic",
        "station1",
        "advisor1",
    ]


def test_staff_upload_about_a_student_of_their_scope(client):
    stu1001 = student_id(client, "stu1001")
    body = upload(client, "station1", "学籍卡.jpg", JPEG, student=str(stu1001))
    assert (body["content_type"], body["student"], body["station"]) == (
        "image/jpeg",
        stu1001,
        "S01",
    )
    assert "stu1001" in readers(client, body["id"], EVERYONE)
    other_station = student_id(client, "stu2001")
    upload(client, "station1", "x.jpg", JPEG, expect=404, student=str(other_station))
    upload(client, "stu1002", "x.jpg", JPEG, expect=404, student=str(stu1001))
    by_registrar = upload(client, "registrar", "x.jpg", JPEG, student=str(other_station))
    assert by_registrar["station"] == "S02"
    assert readers(client, by_registrar["id"], EVERYONE) == ["registrar", "academic", "station2"]


def test_spreadsheets_are_sniffed_and_other_files_refused(client):
    assert upload(client, "station1", "名单.xlsx", xlsx())["content_type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.txt", "not a workbook")
    for name, content in (
        ("fake.png", b"<svg onload=alert(1)>"),
        ("fake.xlsx", archive.getvalue()),
        ("empty.pdf", b""),
    ):
        body = upload(client, "station1", name, content, expect=422)
        assert body["error"] == "InvalidInput" and body["detail"][0]["field"] == "file"


def test_size_limit_is_413(client, monkeypatch):
    monkeypatch.setattr(client.app.state.runtime.settings, "max_upload_bytes", len(PNG))
    assert upload(client, "stu1001", "a.png", PNG)["size"] == len(PNG)
    body = upload(client, "stu1001", "b.png", PNG + b"\x00", expect=413)
    assert body["error"] == "UploadTooLarge"


def test_generated_document_is_read_by_whoever_reads_its_instance(db, client):
    deploy(client, *REVIEW)
    instance = start_review(client, "stu1001")
    with session_scope(db.db.writer) as session:
        document = Upload(
            file_name="名单.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            size=3,
            sha256=hashlib.sha256(b"abc").hexdigest(),
            content=b"abc",
            station_id=None,
            instance_id=instance["id"],
            generated=True,
            uploaded_by="station2",
            created_at=clock.now(),
        )
        session.add(document)
        session.flush()
        document_id = document.id
    assert readers(client, document_id, EVERYONE) == [
        "registrar",
        "academic",
        "station1",
        "advisor1",
        "stu1001",
    ]


def test_unknown_and_unauthenticated(client):
    assert client.get("/api/v1/uploads/999999", headers=auth(client, "admin")).status_code == 404
    assert client.get("/api/v1/uploads/1").status_code == 401
    assert client.get("/api/v1/uploads/1/content").status_code == 401
    response = client.post("/api/v1/uploads", files={"file": ("a.png", PNG, "image/png")})
    assert response.status_code == 401


HTML = b"<!doctype html><html><script>alert(document.cookie)</script></html>"


def test_html_is_never_served_as_html(db, client):
    # refused on upload, whatever its name
    for name in ("page.html", "photo.png", "scan.pdf"):
        body = upload(client, "station1", name, HTML, expect=422)
        assert body["detail"][0]["field"] == "file"
    # a PNG with HTML after its signature is served as a PNG the browser may not sniff
    polyglot = upload(client, "station1", "x.png", PNG + HTML)
    served = client.get(
        f"/api/v1/uploads/{polyglot['id']}/content", headers=auth(client, "station1")
    )
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]
    # a row of a type we do not serve (written before the checks) is bytes, an attachment
    with session_scope(db.db.writer) as session:
        old = Upload(
            file_name="旧.html",
            content_type="text/html",
            size=len(HTML),
            sha256=hashlib.sha256(HTML).hexdigest(),
            content=HTML,
            station_id=None,
            generated=False,
            uploaded_by="station1",
            created_at=clock.now(),
        )
        session.add(old)
        session.flush()
        old_id = old.id
    served = client.get(f"/api/v1/uploads/{old_id}/content", headers=auth(client, "station1"))
    assert served.status_code == 200 and served.content == HTML
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"].startswith("attachment;")
    assert served.headers["x-content-type-options"] == "nosniff"


def test_bytes_live_in_the_storage_not_the_row(db, client):
    body = upload(client, "stu1001", "证明.pdf", PDF)
    with db.db.reader() as session:
        row = session.get(Upload, body["id"])
        assert row.content is None
    stored = db.settings.data_dir / "uploads" / body["sha256"][:2] / body["sha256"]
    assert stored.read_bytes() == PDF
    served = client.get(f"/api/v1/uploads/{body['id']}/content", headers=auth(client, "stu1001"))
    assert served.content == PDF
    assert served.headers["content-disposition"].startswith("inline;")
    # the spreadsheet is an attachment
    sheet = upload(client, "station1", "名单.xlsx", xlsx())
    served = client.get(f"/api/v1/uploads/{sheet['id']}/content", headers=auth(client, "station1"))
    assert served.headers["content-disposition"].startswith("attachment;")
