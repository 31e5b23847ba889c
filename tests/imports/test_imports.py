"""Imports over HTTP against the real database: each template with good and bad rows, the
report by row and column (and as XLSX with the bad cells marked), all-or-nothing and
valid_only, the template's columns, the job of a large file, roles and scope."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import update

from tests.helpers import auth
from xueji.imports.jobs import SYNC_ROWS
from xueji.imports.kinds import KINDS
from xueji.models import ImportJob
from xueji.scheduler.worker import run_once
from xueji.students.id_numbers import check_digit

ADMISSION_HEADER = ["KSH", "XM", "XB", "SFZH", "CC", "ZYDM", "ZYMC", "XSH", "NJ"]


def id_number(n: int) -> str:
    """A valid ID number of its own for each n (the birth date moves every 1000)."""
    born = date(1980, 1, 1) + timedelta(days=n // 1000)
    first = f"410101{born:%Y%m%d}{n % 1000:03d}"
    return first + check_digit(first)


def xlsx(header: list[str], rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def admission(n: int, **changes) -> list:
    row = {
        "KSH": f"2741010{n:07d}",
        "XM": f"考生{n}",
        "XB": "男" if n % 2 else "女",
        "SFZH": id_number(n),
        "CC": "专科",
        "ZYDM": "630302",
        "ZYMC": "会计",
        "XSH": "S01",
        "NJ": "2027",
    }
    row.update(changes)
    return [row[c] for c in ADMISSION_HEADER]


def post(client, user, kind, content, name="f.xlsx", mode=None, expect=200):
    data = {"mode": mode} if mode else {}
    response = client.post(
        f"/api/v1/imports/{kind}",
        headers=auth(client, user),
        files={"file": (name, content)},
        data=data,
    )
    assert response.status_code == expect, response.text
    return response.json()


def admissions(client, user="registrar", **params) -> dict:
    response = client.get("/api/v1/admissions", headers=auth(client, user), params=params)
    assert response.status_code == 200, response.text
    return response.json()


def where(problems, row, column):
    return [p["message"] for p in problems if p["row"] == row and p["column"] == column]


@pytest.mark.parametrize("kind", list(KINDS))
def test_template_columns_are_the_importers(client, kind):
    response = client.get(f"/api/v1/imports/{kind}/template", headers=auth(client, "admin"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [cell.value.split()[0] for cell in sheet[1]]
    assert header == [c.key for c in KINDS[kind].columns]
    # The empty template imports as nothing to write.
    job = post(client, "admin", kind, response.content, "template.xlsx")
    assert (job["state"], job["written_rows"], job["problems"]) == ("done", 0, [])
    as_csv = client.get(
        f"/api/v1/imports/{kind}/template", params={"format": "csv"}, headers=auth(client, "admin")
    )
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    first = as_csv.content.decode("utf-8-sig").splitlines()[0].split(",")
    assert [cell.split()[0] for cell in first] == [c.key for c in KINDS[kind].columns]
    job = post(client, "admin", kind, as_csv.content, "template.csv")
    assert (job["state"], job["written_rows"]) == ("done", 0)


def test_admissions_bad_file_writes_nothing_and_reports_row_column_reason(client):
    before = admissions(client)["total"]
    good = admission(1)
    bad_id = admission(2, SFZH=id_number(2)[:17] + ("0" if id_number(2)[17] != "0" else "1"))
    bad_major = admission(3, ZYMC="天文学", ZYDM="")
    duplicate = admission(4, KSH=good[0])
    unknown_station = admission(5, XSH="S99")
    taken = admission(6, KSH="27410104110011")  # the demo's admission of 赵磊
    job = post(
        client,
        "registrar",
        "admissions",
        xlsx(ADMISSION_HEADER, [good, bad_id, bad_major, duplicate, unknown_station, taken]),
    )
    assert job["state"] == "rejected" and job["written_rows"] == 0
    problems = job["problems"]
    assert where(problems, 3, "SFZH") == ["身份证号校验位不正确"]
    assert where(problems, 4, "ZYMC") == ["专业库中没有专科专业“天文学”"]
    assert where(problems, 5, "KSH") == ["与第 2 行重复"]
    assert where(problems, 6, "XSH") == ["没有函授站“S99”"]
    assert where(problems, 7, "KSH") == ["招生录取库中已有此考生号"]
    assert not where(problems, 2, "KSH")
    assert admissions(client)["total"] == before

    report = client.get(job["report"], headers=auth(client, "registrar"))
    assert report.status_code == 200
    sheet = load_workbook(io.BytesIO(report.content)).active
    bad_cell = sheet.cell(row=3, column=ADMISSION_HEADER.index("SFZH") + 1)
    assert bad_cell.fill.fgColor.rgb.endswith("FFC7CE")
    assert "校验位" in bad_cell.comment.text
    assert sheet.cell(row=2, column=1).fill.fgColor.rgb in (None, "00000000")
    assert "重复" in sheet.cell(row=5, column=len(ADMISSION_HEADER) + 1).value


def test_admissions_valid_only_writes_the_good_rows(client):
    before = admissions(client)["total"]
    rows = [admission(11), admission(12, XB="未知"), admission(13, NJ="27")]
    job = post(client, "registrar", "admissions", xlsx(ADMISSION_HEADER, rows), mode="valid_only")
    assert (job["state"], job["written_rows"]) == ("done", 1)
    assert where(job["problems"], 3, "XB") == ["“未知”不在代码表中"]
    assert where(job["problems"], 4, "NJ") == ["应为四位年份，如 2027"]
    listed = admissions(client, q=rows[0][0])
    assert listed["total"] == 1 and admissions(client)["total"] == before + 1
    item = listed["items"][0]
    assert (item["name"], item["station"], item["intake_year"]) == ("考生11", "S01", 2027)


def test_admissions_csv_with_chinese_header(client):
    header = [
        "考生号",
        "姓名",
        "性别",
        "身份证号",
        "层次",
        "专业代码",
        "专业名称",
        "函授站",
        "年级",
    ]
    lines = [",".join(header), ",".join(admission(21, XSH="洛阳函授站")), ",,,,,,,,"]
    content = ("\n".join(lines) + "\n").encode("gb18030")
    job = post(client, "registrar", "admissions", content, "录取.csv")
    assert (job["state"], job["written_rows"]) == ("done", 1), job
    assert admissions(client, station="S02", q="考生21")["total"] == 1


def test_unreadable_file_and_missing_columns_are_422(client):
    response = client.post(
        "/api/v1/imports/admissions",
        headers=auth(client, "registrar"),
        files={"file": ("x.xlsx", xlsx(["KSH", "XM"], [["1", "a"]]))},
    )
    assert response.status_code == 422
    assert "缺少列" in str(response.json()["detail"])
    response = client.post(
        "/api/v1/imports/admissions",
        headers=auth(client, "registrar"),
        files={"file": ("x.xlsx", b"PK\x03\x04 not really")},
    )
    assert response.status_code == 422


def test_roles_and_scope_of_admissions(client):
    content = xlsx(ADMISSION_HEADER, [admission(31)])
    for user in ("station1", "student" and "stu1001", "grades"):
        response = client.post(
            "/api/v1/imports/admissions",
            headers=auth(client, user),
            files={"file": ("a.xlsx", content)},
        )
        assert response.status_code == 403, user
    assert (
        client.get("/api/v1/imports/nonsense/template", headers=auth(client, "admin")).status_code
        == 404
    )
    everyone = admissions(client)
    assert {i["station"] for i in everyone["items"]} == {"S01", "S02"}
    mine = admissions(client, "station1")
    assert mine["total"] > 0 and {i["station"] for i in mine["items"]} == {"S01"}
    assert admissions(client, "stu1001")["total"] == 0
    # Roles that see less get the ID number masked.
    leader = admissions(client, "leader")["items"][0]["id_number"]
    assert "*" in leader
    # A job is its creator's (and the college's), not another station's.
    job = post(client, "registrar", "admissions", content)
    assert (
        client.get(
            f"/api/v1/imports/jobs/{job['id']}", headers=auth(client, "station1")
        ).status_code
        == 404
    )


def test_large_file_is_queued_and_the_worker_runs_it_to_100_percent(client, db):
    before = admissions(client)["total"]
    count = SYNC_ROWS + 200
    content = xlsx(ADMISSION_HEADER, [admission(1000 + n) for n in range(count)])
    job = post(client, "registrar", "admissions", content, expect=202)
    # answered once the file is stored, before it is read: the worker runs it
    assert (job["state"], job["percent"], job["total_rows"]) == ("queued", 0, count)
    assert admissions(client)["total"] == before
    assert run_once(db).imports == 1
    job = client.get(f"/api/v1/imports/jobs/{job['id']}", headers=auth(client, "registrar")).json()
    assert job["state"] == "done", job
    assert (job["percent"], job["written_rows"]) == (100, count)
    assert admissions(client)["total"] == before + count
    assert run_once(db).imports == 0  # done is done
    # The job is a row: another process reads the same state.
    script = (
        "import sys; from sqlalchemy import create_engine, text; "
        "e = create_engine(sys.argv[1]); c = e.connect(); "
        "print(*c.execute(text('SELECT state, percent, written_rows FROM import_jobs "
        "WHERE id = :i'), {'i': sys.argv[2]}).one())"
    )
    other = subprocess.run(
        [sys.executable, "-c", script, db.settings.database_url, job["id"]],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert other.stdout.split() == ["done", "100", str(count)]


def _student_numbers(client) -> dict[str, dict]:
    response = client.get("/api/v1/students", headers=auth(client, "registrar"))
    return {s["name"]: s for s in response.json()["items"]}


def test_registration_standard_library(client):
    header = ["KSH", "XH", "XM", "XB", "CSRQ", "SFZH", "ZZMM", "MZ", "ZYDM", "ZYMC", "CC", "XZ", "XXXS", "RXRQ", "FY", "XSH", "BH", "YJBYRQ", "BZ"]  # fmt: skip
    good = ["27410104110011", "", "赵磊", "男", "19990506", "", "群众", "汉族", "630302", "会计", "专科", "2.5", "函授", "20270301", "", "S01", "", "20290701", ""]  # fmt: skip
    admission_id = client.get(
        "/api/v1/admissions", headers=auth(client, "registrar"), params={"q": "赵磊"}
    ).json()["items"][0]["id_number"]
    good[5] = admission_id
    bad = list(good)
    bad[0], bad[2], bad[4], bad[7] = "27410108110012", "孙丽", "20000101", "火星族"
    bad[5] = client.get(
        "/api/v1/admissions", headers=auth(client, "registrar"), params={"q": "孙丽"}
    ).json()["items"][0]["id_number"]
    job = post(client, "registrar", "registration", xlsx(header, [good, bad]))
    assert job["state"] == "rejected"
    assert where(job["problems"], 3, "CSRQ") == ["出生日期与身份证号中的不一致"]
    assert where(job["problems"], 3, "MZ") == ["“火星族”不在代码表中"]
    assert "赵磊" not in _student_numbers(client)
    job = post(client, "registrar", "registration", xlsx(header, [good, bad]), mode="valid_only")
    assert job["written_rows"] == 1
    student = _student_numbers(client)["赵磊"]
    assert (student["station"], student["status"], student["level"]) == ("S01", "在籍", "专科")
    # Once in the records, the same row is a duplicate against the database.
    job = post(client, "registrar", "registration", xlsx(header, [good]))
    assert where(job["problems"], 2, "KSH") == ["该考生已在学籍库中"]
    # A station imports only its own station's rows.
    other = list(good)
    other[15] = "S02"
    job = post(client, "station2", "registration", xlsx(header, [other]))
    assert "只能导入本函授站的数据" not in str(job["problems"])
    job = post(client, "station1", "registration", xlsx(header, [other]))
    assert "只能导入本函授站的数据" in where(job["problems"], 2, "XSH")
    # 学号 are the college's to give (as in process 2).
    numbered = list(other)
    numbered[1] = "27002100001"
    job = post(client, "station2", "registration", xlsx(header, [numbered]))
    assert where(job["problems"], 2, "XH") == ["学号由学院编制，请留空"]


def test_graduates_standard_library(client):
    students = _student_numbers(client)
    zhang, liu, wang = students["杨帆"], students["马超"], students["黄晓燕"]
    header = ["XH", "XM", "SFZH", "BYRQ", "ZSBH", "BYJL", "XZXM", "ZP"]
    ids = {}
    for s in (zhang, liu, wang):
        detail = client.get(f"/api/v1/students/{s['id']}", headers=auth(client, "registrar")).json()
        ids[s["name"]] = detail["id_number"]
    good = [
        zhang["student_number"],
        "杨帆",
        ids["杨帆"],
        "20270701",
        "104755202706000001",
        "毕业",
        "李校长",
        "",
    ]
    bad_number = [
        liu["student_number"],
        "马超",
        ids["马超"],
        "20270701",
        "10475520270600001",
        "毕业",
        "",
        "",
    ]
    wrong_name = [
        wang["student_number"],
        "王方",
        ids["黄晓燕"],
        "20270701",
        "104755202706000002",
        "结业",
        "",
        "",
    ]
    same_certificate = [
        liu["student_number"],
        "马超",
        ids["马超"],
        "20270701",
        "104755202706000001",
        "毕业",
        "",
        "",
    ]
    job = post(
        client,
        "registrar",
        "graduates",
        xlsx(header, [good, bad_number, wrong_name, same_certificate]),
    )
    assert job["state"] == "rejected"
    assert where(job["problems"], 3, "ZSBH") == ["证书编号应为 18 位数字"]
    assert where(job["problems"], 4, "XM") == ["与学籍库不一致（学籍库：黄晓燕）"]
    assert where(job["problems"], 4, "ZSBH") == ["证书编号第 11–12 位应为本科的层次代码 05"]
    assert where(job["problems"], 5, "ZSBH") == ["与第 2 行重复"]
    assert where(job["problems"], 5, "XH") == ["与第 3 行重复"]
    assert _student_numbers(client)["杨帆"]["status"] == "已注册"
    job = post(client, "registrar", "graduates", xlsx(header, [good]))
    assert (job["state"], job["written_rows"]) == ("done", 1)
    detail = client.get(f"/api/v1/students/{zhang['id']}", headers=auth(client, "registrar")).json()
    assert detail["status"] == "毕业"
    assert detail["certificate_number"] == "104755202706000001"
    assert detail["status_history"][-1]["to_status"] == "毕业"


def test_grade_sheet(client):
    students = _student_numbers(client)
    zhang, liu = students["杨帆"], students["马超"]
    header = ["XH", "XM", "KCDM", "XQ", "KSLX", "CJ"]
    good = [zhang["student_number"], "杨帆", "ZY301", "2027-春", "考试", "58"]
    rows = [
        good,
        [zhang["student_number"], "杨帆", "XX999", "2027-春", "考试", "70"],
        [zhang["student_number"], "杨帆", "ZY501", "2027春", "考试", "101"],
        [zhang["student_number"], "杨帆", "ZY301", "2027-春", "考试", "60"],
        [zhang["student_number"], "杨帆", "GG001", "2025-春", "考试", "80"],  # recorded already
        [zhang["student_number"], "杨帆", "GG002", "2027-春", "补考", "80"],  # passed already
    ]
    job = post(client, "grades", "grades", xlsx(header, rows))
    assert job["state"] == "rejected"
    assert where(job["problems"], 3, "KCDM") == ["课程库中没有课程 XX999"]
    assert where(job["problems"], 4, "XQ") == ["学期应写作如 2027-春"]
    assert where(job["problems"], 4, "CJ") == ["成绩应为 0 到 100 之间的数"]
    assert where(job["problems"], 5, "XH") == ["与第 2 行重复"]
    assert where(job["problems"], 6, "KCDM") == ["杨帆的《大学英语》已有 2025-春 的成绩"]
    assert where(job["problems"], 7, "KCDM") == ["杨帆的《计算机应用基础》已及格，不需补考"]
    job = post(client, "grades", "grades", xlsx(header, rows), mode="valid_only")
    assert job["written_rows"] == 1
    detail = client.get(f"/api/v1/students/{zhang['id']}", headers=auth(client, "registrar")).json()
    imported = [g for g in detail["grades"] if g["term"] == "2027-春"]
    assert len(imported) == 1 and imported[0]["score"] == 58 and imported[0]["passed"] is False
    # A station enters grades of its own students only.
    other = [liu["student_number"], "马超", "ZY401", "2027-春", "考试", "90"]
    job = post(client, "station1", "grades", xlsx(header, [other]))
    assert where(job["problems"], 2, "XH") == ["不是本函授站的学生"]


def test_a_job_cut_off_by_a_stopped_service_shows_as_failed(client, db):
    job = post(client, "registrar", "admissions", xlsx(ADMISSION_HEADER, [admission(41)]))
    with db.db.writer() as session:
        session.execute(
            update(ImportJob)
            .where(ImportJob.id == job["id"])
            .values(state="running", percent=80, updated_at=datetime.now(UTC) - timedelta(hours=1))
        )
        session.commit()
    shown = client.get(f"/api/v1/imports/jobs/{job['id']}", headers=auth(client, "registrar"))
    assert shown.json()["state"] == "failed"
    assert shown.json()["error"] == "导入中断（服务已停止），没有写入任何数据，请重新导入"
