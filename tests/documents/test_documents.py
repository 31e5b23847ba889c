"""Generated documents over HTTP: the PDFs' text (pypdf) holds the record's names, numbers and
totals in an embedded CJK font; long lists break across pages with the header repeated; the
XLSX lists round-trip; scope is the records' (404 outside it); pages are rendered to PNG
under var/artifacts/documents/ for a person to look at."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
from openpyxl import load_workbook
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from tests.helpers import auth, complete, deploy_processes, only_task, student_id
from tests.processes.test_status_change import FORM, apply
from xueji import clock
from xueji.documents.links import step_documents
from xueji.models import Student

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "artifacts" / "documents"


def get(client, username: str, url: str, expect: int = 200, **params):
    response = client.get(url, params=params or None, headers=auth(client, username))
    assert response.status_code == expect, response.text[:300]
    return response


def pdf_of(response) -> PdfReader:
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(response.content))


def pdf_pages(
    client,
    username: str,
    url: str,
    *expected: str,
    name: str | None = None,
    save: str | None = None,
    **params,
) -> list[str]:
    """Fetch a PDF document, check that its fonts are embedded, that it is sent as `name`
    (when given) and that its text holds each of `expected`; each page's text. `save` renders
    its pages to PNG under that name."""
    response = get(client, username, url, **params)
    if name is not None:
        assert file_name(response) == quote(name)
    reader = pdf_of(response)
    assert_embedded(reader)
    pages = texts(reader)
    whole = "\n".join(pages)
    missing = [text for text in expected if text not in whole]
    assert missing == [], missing
    if save:
        save_pages(save, response.content)
    return pages


def xlsx_rows(client, username: str, url: str, name: str | None = None, **params) -> list[tuple]:
    """Fetch a document as XLSX (sent as `name` when given); its first sheet's rows."""
    response = get(client, username, url, format="xlsx", **params)
    if name is not None:
        assert file_name(response) == quote(name)
    book = load_workbook(io.BytesIO(response.content))
    return list(book.active.iter_rows(values_only=True))


def pdf_of_bytes(content: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(content))


def texts(reader: PdfReader) -> list[str]:
    """Each page's text, ideographic spaces (　) as plain ones, as pypdf extracts them."""
    return [page.extract_text().replace("\u3000", " ") for page in reader.pages]


def font_files(reader: PdfReader) -> list[tuple[str, bool]]:
    """Every font the pages use, and whether its descriptor carries an embedded TrueType file."""
    found = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            if font["/Subtype"] == "/Type0":
                descendant = font["/DescendantFonts"][0].get_object()
                descriptor = descendant["/FontDescriptor"].get_object()
            else:
                descriptor = font["/FontDescriptor"].get_object()
            found.append((str(font["/BaseFont"]), "/FontFile2" in descriptor))
    return found


def assert_embedded(reader: PdfReader) -> None:
    fonts = font_files(reader)
    assert fonts and all(embedded for _, embedded in fonts), fonts


def file_name(response) -> str:
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    return disposition.split("filename*=UTF-8''", 1)[1]


def save_pages(name: str, content: bytes) -> list[Path]:
    """The PDF's pages as PNGs (pdftoppm, poppler-utils) in the artifacts folder."""
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm (apt-get install poppler-utils) renders the pages to look at")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    pdf = ARTIFACTS / f"{name}.pdf"
    pdf.write_bytes(content)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", str(pdf), str(ARTIFACTS / name)], check=True, timeout=60
    )
    pages = sorted(ARTIFACTS.glob(f"{name}-*.png"))
    assert pages
    return pages


def class_of(db, username: str) -> int:
    with db.db.reader() as session:
        student = session.scalar(
            select(Student)
            .where(Student.exam_number.is_not(None))
            .where(Student.user.has(username=username))
        )
        assert student is not None and student.class_id is not None
        return student.class_id


def give_photo(client, db, username: str) -> int:
    image = Image.new("RGB", (330, 450), (200, 60, 60))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    upload = client.post(
        "/api/v1/uploads",
        files={"file": ("photo.png", buffer.getvalue(), "image/png")},
        headers=auth(client, username),
    )
    assert upload.status_code == 201, upload.text
    sid = student_id(client, username)
    with db.db.writer() as session, session.begin():
        session.get(Student, sid).photo_upload_id = upload.json()["id"]
    return sid


def add_classmates(db, username: str, count: int) -> None:
    """`count` more students in the class of `username` (a class list that fills pages)."""
    with db.db.writer() as session, session.begin():
        model = session.scalar(select(Student).where(Student.user.has(username=username)))
        for n in range(count):
            session.add(
                Student(
                    station_id=model.station_id,
                    student_number=f"9{n:04d}",
                    name=f"测试学生{n:02d}",
                    gender="男" if n % 3 else "女",
                    birth_date=date(2000, 1, 1),
                    id_number=f"T{n:017d}",
                    level=model.level,
                    major=model.major,
                    major_id=model.major_id,
                    intake_year=model.intake_year,
                    enrolled_on=model.enrolled_on,
                    class_id=model.class_id,
                    expected_graduation=model.expected_graduation,
                    status="已注册",
                    created_at=clock.now(),
                )
            )


def test_student_card_shows_the_record_and_photo_in_an_embedded_font(client, db):
    sid = give_photo(client, db, "stu1004")
    number = get(client, "registrar", f"/api/v1/students/{sid}").json()["student_number"]
    url = f"/api/v1/documents/student-card/{sid}"
    (text,) = pdf_pages(
        client, "station1", url,
        "学生学籍卡", "杨帆", "会计", "专科", "郑州函授站（S01）", "共青团员", "郑州市管城区税务局",
        "GG001", "78", "第 1 页 共 1 页", "（盖章）",
        name=f"学籍卡_{number}_杨帆.pdf", save="student-card",
    )  # fmt: skip
    images = pdf_of(get(client, "station1", url)).pages[0]["/Resources"]["/XObject"]
    assert len(images) == 1  # the photo


def test_documents_are_scoped_like_the_records(client, db):
    sid = student_id(client, "stu1004")
    for username in ("station2", "stu1005"):
        get(client, username, f"/api/v1/documents/student-card/{sid}", expect=404)
        get(client, username, f"/api/v1/documents/transcript/{sid}", expect=404)
    pdf_pages(client, "stu1004", f"/api/v1/documents/student-card/{sid}", "杨帆")
    class_id = class_of(db, "stu1004")
    get(client, "station2", f"/api/v1/documents/class-roster/{class_id}", expect=404)
    # a class's list is the offices': a student may not have it (403), whichever class
    get(client, "stu1004", f"/api/v1/documents/class-roster/{class_id}", expect=403)
    get(
        client,
        "station2",
        f"/api/v1/documents/blank-grade-sheet/{class_id}",
        expect=404,
        course="GG001",
        term="2027-春",
    )


def test_status_change_form_is_signed_by_every_step_and_linked_from_its_tasks(client, db):
    deploy_processes(client, "status_change")
    instance = apply(client, "stu1004", kind="休学")
    url = f"/api/v1/documents/status-change/{instance['id']}"
    complete(client, "stu1004", only_task(client, "stu1004"), FORM)
    complete(
        client, "station1", only_task(client, "station1"),
        {"outcome": "approved", "reason": "材料齐全", "comment": "情况属实，同意休学"},
    )  # fmt: skip
    complete(client, "registrar", only_task(client, "registrar"), {"outcome": "approved"})
    complete(client, "leader", only_task(client, "leader"), {"comment": "同意休学一年"})
    filing = only_task(client, "registrar")
    detail = get(client, "registrar", f"/api/v1/tasks/{filing['id']}").json()
    assert detail["documents"] == [{"title": "学籍异动审批表", "url": url}]
    (halfway,) = pdf_pages(client, "registrar", url, "情况属实，同意休学")
    assert "备案编号" not in halfway
    complete(
        client, "registrar", filing, {"filing_number": "豫教备2027-1", "reported_on": "2027-03-02"}
    )
    complete(client, "registrar", only_task(client, "registrar"), {"result_notice": "同意休学"})
    complete(client, "registrar", only_task(client, "registrar"), {"confirmed": True})

    number = get(client, "registrar", f"/api/v1/students/{student_id(client, 'stu1004')}").json()
    names = {u: get(client, u, "/api/v1/me").json()["display_name"] for u in
             ("station1", "registrar", "leader")}  # fmt: skip
    pdf_pages(
        client, "station1", url,
        "学籍异动审批表", "杨帆", "休学", "工作调动", "因工作调动申请异动", "函授站意见", "通过",
        "情况属实，同意休学", names["station1"], "学院审核意见", names["registrar"],
        "学籍主管领导签批", "同意休学一年", names["leader"], "教育厅审核备案",
        "备案编号：豫教备2027-1", "报送日期：2027-03-02", "修改学籍", "已按审批结果修改学籍记录",
        "学籍状态：已注册 → 休学",
        name=f"学籍异动审批表_{number['student_number']}_杨帆.pdf", save="status-change",
    )  # fmt: skip
    # the student's own case; another station's user and other processes' ids see nothing
    get(client, "stu1004", url)
    get(client, "station2", url, expect=404)
    get(client, "stu1005", url, expect=404)


def test_status_change_form_is_only_for_status_change_cases(client, db):
    deploy_processes(client, "status_change", "daily_records")
    started = client.post(
        "/api/v1/process-definitions/daily_records/start",
        json={"variables": {"student": student_id(client, "stu1004")}},
        headers=auth(client, "station1"),
    )
    assert started.status_code == 201, started.text
    get(client, "admin", f"/api/v1/documents/status-change/{started.json()['id']}", expect=404)
    get(client, "admin", "/api/v1/documents/status-change/no-such-case", expect=404)


def test_class_roster_breaks_across_pages_with_its_header_and_totals(client, db):
    add_classmates(db, "stu1004", 44)
    class_id = class_of(db, "stu1004")
    url = f"/api/v1/documents/class-roster/{class_id}"
    pages = pdf_pages(
        client, "station1", url, "杨帆", "测试学生43",
        name="班级学籍注册名单_S01-2025-01.pdf", save="class-roster",
    )  # fmt: skip
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert "序号" in page and "学生签字" in page, number  # the header row repeats
        assert f"第 {number} 页 共 {len(pages)} 页" in page
        assert "郑州函授站（S01）" in page
    # 杨帆, 张伟 (both of the demo's 2025 会计 class) and the 44 added
    males = 2 + sum(1 for n in range(44) if n % 3)
    assert f"合计 46 人（男 {males} 人，女 {46 - males} 人）" in pages[-1]

    rows = xlsx_rows(client, "station1", url, name="班级学籍注册名单_S01-2025-01.xlsx")
    assert rows[1][0] == "班级学籍注册名单"
    assert rows[3][:3] == ("序号", "学号", "姓名")
    names = [row[2] for row in rows[4:-1]]
    assert len(names) == 46 and "杨帆" in names
    assert rows[-1][0].startswith("合计 46 人")


def test_seal_verification_list_groups_the_seasons_graduates(client, db):
    url = "/api/v1/documents/seal-verification"
    text = "\n".join(
        pdf_pages(
            client, "registrar", url,
            "2025级 专科 会计 郑州函授站（共 1 人）", "2025级 专科 护理 洛阳函授站（共 1 人）",
            "杨帆", "马超", "总计 2 人", "本人签字",
            name="预毕业生验印名单_2028春季.pdf", year=2028, season="春季",
        )
    )  # fmt: skip
    assert "黄晓燕" not in text  # she is due in 秋季
    # a station sees its own graduates only; its header names it
    (own,) = pdf_pages(
        client, "station1", url, "杨帆", "函授站：郑州函授站（S01）", year=2028, season="春季"
    )
    assert "马超" not in own
    add_classmates(db, "stu2003", 30)
    pages = pdf_pages(
        client, "registrar", url, "小计 31 人", save="seal-verification", year=2028, season="春季"
    )
    assert len(pages) >= 2 and all("本人签字" in p for p in pages)
    assert "总计 32 人" in pages[-1]
    get(client, "stu1004", url, 403, year=2028, season="春季")
    # another station's list is, byte for byte, the empty list of a station that is none
    other, none = (
        get(client, "station1", url, year=2028, season="春季", station=code).content
        for code in ("S02", "S99")
    )  # fmt: skip
    assert other == none and "总计 0 人" in texts(pdf_of_bytes(other))[0]

    rows = xlsx_rows(client, "registrar", url, year=2028, season="春季")
    assert rows[3][:5] == ("年级", "层次", "专业", "函授站", "学号")
    body = rows[4:-1]
    assert len(body) == 32 and (2025, "专科", "会计", "郑州函授站") == body[0][:4]
    assert rows[-1][0] == "总计 32 人"
    get(client, "registrar", url, expect=422, year=2028, season="冬季")


def test_transcript_lists_standing_results_with_credits_and_average_in_two_copies(client, db):
    sid = student_id(client, "stu1004")
    url = f"/api/v1/documents/transcript/{sid}"
    number = get(client, "registrar", f"/api/v1/students/{sid}").json()["student_number"]
    pages = pdf_pages(
        client, "stu1004", url, name=f"毕业生个人成绩单_{number}_杨帆.pdf", save="transcript"
    )
    # 一式两份: the same transcript twice, each copy on a page of its own and labelled
    assert len(pages) == 2
    for page, label in zip(pages, ("第一份：学校存档", "第二份：交学院学工办"), strict=True):
        for expected in (
            "毕业生个人成绩单",
            f"毕业生个人成绩单（{label}）",
            "杨帆",
            "GG001",
            "GG002",
            "ZY101",
            "78",
            "85",
            "72",
            "共 3 门课程",
            "平均成绩 78.3",
            "经核对，以上成绩属实。",
        ):
            assert expected in page, (label, expected)  # fmt: skip
    assert pages[0].replace("第一份：学校存档", "") == pages[1].replace(
        "第二份：交学院学工办", ""
    ).replace("第 2 页", "第 1 页")

    rows = xlsx_rows(client, "stu1004", url, name=f"毕业生个人成绩单_{number}_杨帆.xlsx")
    assert rows[1][0] == "毕业生个人成绩单" and "杨帆" in rows[2][0]
    assert rows[3] == ("序号", "学期", "课程代码", "课程名称", "学分", "成绩", "考核类别")
    assert [row[2] for row in rows[4:-1]] == ["GG001", "GG002", "ZY101"]
    assert [row[5] for row in rows[4:-1]] == ["78", "85", "72"]
    assert "平均成绩 78.3" in rows[-1][3]


def test_blank_grade_sheet_lists_the_class_for_one_course(client, db):
    class_id = class_of(db, "stu1004")
    url = f"/api/v1/documents/blank-grade-sheet/{class_id}"
    pdf_pages(
        client, "station1", url,
        "空白学期成绩单", "杨帆", "GG001", "应考 2 人", "任课教师",  # 杨帆 and 张伟
        name="空白学期成绩单_S01-2025-01_大学英语_2027-春.pdf", save="blank-grade-sheet",
        course="GG001", term="2027-春",
    )  # fmt: skip
    rows = xlsx_rows(
        client, "station1", url, name="空白学期成绩单_S01-2025-01_大学英语_2027-春.xlsx",
        course="GG001", term="2027-春",
    )  # fmt: skip
    assert rows[3][:3] == ("序号", "学号", "姓名") and rows[3][6] == "总评成绩"
    assert {row[2] for row in rows[4:-1]} == {"杨帆", "张伟"}
    assert all(row[4:7] == (None, None, None) for row in rows[4:-1])  # left for the teacher
    assert rows[-1][0].startswith("应考 2 人")
    get(client, "station1", url, expect=404, course="NOPE", term="2027-春")
    get(client, "station1", url, expect=422, course="GG001", term="2027")


def test_a_missing_font_is_an_error_naming_the_setting(client, db, monkeypatch):
    sid = student_id(client, "stu1004")
    monkeypatch.setattr(
        db, "settings", db.settings.model_copy(update={"pdf_font": Path("/nowhere/font.ttf")})
    )
    response = client.get(
        f"/api/v1/documents/student-card/{sid}", headers=auth(client, "registrar")
    )
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "DocumentFontMissing" and "XUEJI_PDF_FONT" in body["detail"]


def test_makeup_sheet_lists_those_who_failed_the_course(client, db):
    url = "/api/v1/documents/makeup-sheet"
    (text,) = pdf_pages(
        client, "registrar", url, "马超", "42", "应补考 1 人",
        name="空白补考成绩单_护理学基础_2027-春.pdf", course="ZY401", term="2027-春",
    )  # fmt: skip
    assert "杨帆" not in text
    # a station's sheet has its own students only
    (own,) = pdf_pages(client, "station1", url, "应补考 0 人", course="ZY401", term="2027-春")
    assert "马超" not in own
    rows = xlsx_rows(
        client, "registrar", url, name="空白补考成绩单_护理学基础_2027-春.xlsx",
        course="ZY401", term="2027-春",
    )  # fmt: skip
    assert rows[3][5:7] == ("原成绩", "补考成绩")
    ((_, _, name, _, station, failed, makeup, _),) = rows[4:-1]
    assert (name, station, failed, makeup) == ("马超", "洛阳函授站", "42", None)
    assert rows[-1][0].startswith("应补考 1 人")
    get(client, "stu2003", url, expect=403, course="ZY401", term="2027-春")


def test_class_grade_summary_has_a_column_per_course_and_pass_counts(client, db):
    add_classmates(db, "stu1004", 2)
    class_id = class_of(db, "stu1004")
    url = f"/api/v1/documents/class-grades/{class_id}"
    pdf_pages(
        client, "station1", url,
        "毕业班级成绩总表", "共 4 人",  # 杨帆, 张伟 (no grades yet) and the 2 added
        "大学英语（4）", "计算机应用基础", "基础会计", "杨帆", "78", "85", "72", "及格人数",
        save="class-grades",
    )  # fmt: skip
    rows = xlsx_rows(client, "station1", url, name="毕业班级成绩总表_S01-2025-01.xlsx")
    assert rows[3] == ("序号", "学号", "姓名", "大学英语", "计算机应用基础", "基础会计")
    zhang = next(row for row in rows[4:-1] if row[2] == "杨帆")
    assert zhang[3:] == ("78", "85", "72")
    assert rows[-1] == (None, None, "及格人数", 1, 1, 1)
    get(client, "station2", url, expect=404)


def test_checkin_statistics_count_admitted_and_checked_in(client, db):
    url = "/api/v1/documents/checkin-statistics"
    (text,) = pdf_pages(client, "registrar", url, "新生报到情况统计表", "2026级新生", intake=2026)
    assert "合计 2 2 0 100.0%" in text.replace("\n", " ").replace("  ", " ")
    (own,) = pdf_pages(
        client, "station1", url, "郑州函授站 小计", name="新生报到情况统计表_2027_S01.pdf",
        intake=2027,
    )  # fmt: skip
    assert "洛阳函授站" not in own
    rows = xlsx_rows(client, "registrar", url, name="新生报到情况统计表_2027.xlsx", intake=2027)
    assert rows[3][:4] == ("函授站", "层次", "专业", "录取人数")
    assert rows[-1][:6] == ("合计", None, None, "6", "0", "6")
    get(client, "stu1004", url, expect=403, intake=2027)


def test_diploma_needs_a_certificate_number(client, db):
    sid = give_photo(client, db, "stu1004")
    url = f"/api/v1/documents/diploma/{sid}"
    refused = get(client, "registrar", url, expect=409)
    assert "尚未编制毕业证书编号" in refused.json()["detail"]
    with db.db.writer() as session, session.begin():
        student = session.get(Student, sid)
        student.certificate_number = "104755202805000001"
        student.graduated_on = date(2028, 1, 10)
        student.status, student.conclusion = "毕业", "毕业"
    pdf_pages(
        client, "stu1004", url,
        "杨帆", "1997年8月23日生", "2025年3月至2028年1月", "在本校会计专业", "准予毕业",
        "证书编号：104755202805000001",
        name="毕业证书_104755202805000001_杨帆.pdf", save="diploma",
    )  # fmt: skip
    get(client, "station2", url, expect=404)


def test_photo_collection_list_and_card(client, db):
    url = "/api/v1/documents/photo-collection"
    # 张伟 (在籍) is due in 2028 too
    (text,) = pdf_pages(
        client, "station1", url, "杨帆", "黄晓燕", "合计 3 人", "本人签字", "已校对",
        name="毕业生电子图像采集名单_2028_S01.pdf", year=2028,
    )  # fmt: skip
    assert "马超" not in text
    pdf_pages(client, "registrar", url, "合计 5 人", "马超", year=2028)
    rows = xlsx_rows(
        client, "station1", url, name="毕业生电子图像采集名单_2028_S01.xlsx", year=2028
    )
    assert rows[3][:3] == ("序号", "学号", "姓名") and rows[3][-1] == "本人签字"
    assert {row[2] for row in rows[4:-1]} == {"杨帆", "黄晓燕", "张伟"}
    assert rows[-1][0] == "合计 3 人"
    get(client, "stu1004", url, expect=403, year=2028)

    sid = student_id(client, "stu1005")
    pdf_pages(
        client, "stu1005", f"/api/v1/documents/photo-card/{sid}",
        "毕业生电子图像采集卡", "黄晓燕", "汉语言文学", "照片粘贴处", "本人签字",
        save="photo-card",
    )  # fmt: skip
    get(client, "stu1004", f"/api/v1/documents/photo-card/{sid}", expect=404)


def test_step_links_are_filled_from_the_case_and_lead_to_the_document(client, db):
    links = step_documents(
        "graduation_registration", "print_stamp_roster", "x", None, {"year": 2028, "season": "春季"}
    )
    assert [link["title"] for link in links] == ["预毕业生验印名单", "预毕业生验印名单（XLSX）"]
    assert links[0]["url"] == (
        f"/api/v1/documents/seal-verification?year=2028&season={quote('春季')}&format=pdf"
    )
    pdf_pages(client, "registrar", links[0]["url"], "预毕业生验印名单", "杨帆")
    sheet = client.get(links[1]["url"], headers=auth(client, "registrar"))
    assert sheet.status_code == 200 and sheet.content.startswith(b"PK")
    # a case without what the URL needs gets no link rather than a broken one
    assert step_documents("graduation_registration", "print_stamp_roster", "x", None, {}) == []
    assert step_documents("daily_records", "archive", "x", None, {}) == []
    card = step_documents("daily_records", "archive", "x", 7, {})
    assert card == [{"title": "学籍卡", "url": "/api/v1/documents/student-card/7"}]
