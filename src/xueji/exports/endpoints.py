"""Downloads of the lists and statistics, scoped and filtered exactly like the list itself
(the same query functions), and the national registration files (records.md).

    GET /exports/students?format=xlsx|csv&station=&level=&major=&intake=&status=&q=
    GET /exports/tasks?format=…&the filters of GET /tasks (q, process_key, step, kind, …, sort)
    GET /exports/statistics/students?format=…&group_by=station,level&…the student filters
    GET /exports/statistics/students/cross?format=…&intake=&…the student filters
    GET /exports/registration/{new|graduates}?format=xlsx|dbf&…the student filters
    GET /exports/audit?format=…&actor=&action=&target=&from=&to= (admins)
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy import select

from xueji import clock
from xueji.audit.endpoints import Filters as AuditLogFilters
from xueji.audit.service import filtered as audit_entries
from xueji.auth.dependencies import AdminUser, CurrentUser, require_roles
from xueji.auth.principal import Principal
from xueji.auth.roles import Role
from xueji.db.dependencies import DbSession
from xueji.deadlines import BEIJING
from xueji.errors import InvalidInput
from xueji.exports.files import ListFormat, Table, download, file_stem, table_download
from xueji.models import Station, Student
from xueji.students import national_files as nf
from xueji.students import service as students
from xueji.students.cross_table import cross_table
from xueji.students.endpoints import Filters
from xueji.students.registration_file import XLSX_TYPE
from xueji.students.repository import StudentFilters, readable_by
from xueji.tasks.filters import Inbox, inbox_dependency

router = APIRouter(prefix="/exports", tags=["exports"])

# One download holds at most this many rows; narrow the filters for more.
MAX_ROWS = 100_000

FILE: dict[int | str, dict[str, Any]] = {200: {"content": {XLSX_TYPE: {}, "text/csv": {}}}}
TOO_MANY: dict[int | str, dict[str, Any]] = {
    422: {"description": f"More than {MAX_ROWS} rows, or a filter is invalid"}
}

STUDENT_HEADER = ["学号", "姓名", "性别", "身份证号", "层次", "专业", "年级", "函授站", "学籍状态", "照片状态"]  # fmt: skip  # noqa: E501
TASK_HEADER = [
    "任务",
    "摘要",
    "流程",
    "业务编号",
    "函授站",
    "处理人",
    "创建时间",
    "截止时间",
    "是否逾期",
]
GROUP_TITLES = {
    "station": "函授站",
    "level": "层次",
    "major": "专业",
    "status": "学籍状态",
    "intake": "年级",
}


def _fetch(session, query) -> list:
    rows = list(session.scalars(query.limit(MAX_ROWS + 1)))
    if len(rows) > MAX_ROWS:
        raise InvalidInput(
            [{"field": "", "message": f"超过 {MAX_ROWS} 行，请缩小筛选范围后再导出"}]
        )
    return rows


def _filter_parts(filters: StudentFilters) -> list:
    intake = f"{filters.intake}级" if filters.intake is not None else None
    return [filters.station, intake, filters.level, filters.major, filters.status]


def _local(moment: datetime | None) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if moment else ""


@router.get("/students", response_class=Response, responses={**FILE, **TOO_MANY})
def export_students(
    session: DbSession,
    principal: CurrentUser,
    filters: Filters,
    format: ListFormat = ListFormat.xlsx,
    q: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """学生名单: the rows GET /students gives with the same filters, every page."""
    rows = [
        [
            item.student_number,
            item.name,
            item.gender,
            item.id_number,
            item.level,
            item.major,
            item.intake_year,
            student.station.name,
            item.status,
            item.photo_status,
        ]
        for student in _fetch(session, students.list_query(principal, filters, q))
        for item in [students.student_item(principal, student)]
    ]
    stem = file_stem("学生名单", *_filter_parts(filters), q)
    return table_download(Table("学生名单", STUDENT_HEADER, rows), format, stem)


ExportInbox = Annotated[Inbox, Depends(inbox_dependency("format"))]


@router.get("/tasks", response_class=Response, responses={**FILE, **TOO_MANY})
def export_tasks(
    session: DbSession, inbox: ExportInbox, format: ListFormat = ListFormat.xlsx
) -> Response:
    """待办任务: the tasks GET /tasks gives with the same search, filters and sort."""
    now = clock.now()
    rows = [
        [
            task.name,
            task.summary or "",
            task.instance.definition.name or task.instance.definition.key,
            task.instance.business_key,
            task.station.name if task.station else "",
            task.assignee,
            _local(task.created_at),
            _local(task.due_at),
            task.is_overdue(now),
        ]
        for task in _fetch(session, inbox.query)
    ]
    f = inbox.filters
    parts = [f.process_key, f.kind, f.station, f.step, f.q]
    flags = [("我的", f.mine), ("未认领", f.unassigned), ("逾期", f.overdue)]
    stem = file_stem("待办任务", *parts, *(name for name, given in flags if given))
    return table_download(Table("待办任务", TASK_HEADER, rows), format, stem)


@router.get("/statistics/students", response_class=Response, responses={**FILE, **TOO_MANY})
def export_student_statistics(
    session: DbSession,
    principal: CurrentUser,
    filters: Filters,
    format: ListFormat = ListFormat.xlsx,
    group_by: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """学籍数据统计: GET /statistics/students as a table with a 合计 row."""
    keys = students.parse_group_by(group_by or [])
    result = students.statistics(session, principal, keys, filters)
    names = {code: name for code, name in session.execute(select(Station.code, Station.name))}
    rows: list[list] = [
        [names.get(str(r[k]), r[k]) if k == "station" else r[k] for k in keys] + [r["count"]]
        for r in result.rows
    ]
    rows.append(["合计", *[""] * (len(keys) - 1), result.total] if keys else [result.total])
    header = [GROUP_TITLES[k] for k in keys] + ["人数"]
    by = "按" + "、".join(GROUP_TITLES[k] for k in keys) if keys else None
    stem = file_stem("学籍数据统计", *_filter_parts(filters), by)
    return table_download(Table("学籍数据统计", header, rows), format, stem)


@router.get("/statistics/students/cross", response_class=Response, responses={**FILE, **TOO_MANY})
def export_student_cross_table(
    session: DbSession,
    principal: CurrentUser,
    filters: Filters,
    format: ListFormat = ListFormat.xlsx,
) -> Response:
    """学籍数据统计交叉表: GET /students/statistics/cross as a table with a 合计 row."""
    table = cross_table(session, principal, filters)
    rows: list[list] = [
        [r.station_name, r.level, r.major, *(r.counts.get(s, 0) for s in table.statuses), r.total]
        for r in table.rows
    ]
    rows.append(["合计", "", "", *(table.totals[s] for s in table.statuses), table.total])
    header = ["函授站", "层次", "专业", *table.statuses, "合计"]
    stem = file_stem("学籍数据统计交叉表", *_filter_parts(filters))
    return table_download(Table("学籍数据统计交叉表", header, rows), format, stem)


class RegistrationKind(StrEnum):
    new = "new"
    graduates = "graduates"


class FileFormat(StrEnum):
    xlsx = "xlsx"
    dbf = "dbf"


GRADUATED = ("毕业", "结业", "肄业")
# The national files carry whole ID numbers: the roles that see them (and admins).
Registrars = Annotated[Principal, Depends(require_roles(Role.REGISTRAR, Role.STATION))]


@router.get(
    "/registration/{kind}",
    response_class=Response,
    responses={
        200: {"content": {XLSX_TYPE: {}, nf.DBF_TYPE: {}}},
        403: {"description": "Only the registrar, station staff and admins"},
        **TOO_MANY,
    },
)
def export_registration_file(
    session: DbSession,
    principal: Registrars,
    filters: Filters,
    kind: Annotated[
        RegistrationKind, Path(description="new: 新生学籍注册; graduates: 毕业生学历注册")
    ],
    format: FileFormat = FileFormat.xlsx,
) -> Response:
    """新生学籍注册 (registered students, with 学号) or 毕业生学历注册 (毕业/结业/肄业) of the
    caller's scope, in records.md's columns."""
    query = filters.apply(readable_by(principal)).order_by(Student.id)
    if kind is RegistrationKind.new:
        query = query.where(Student.student_number.is_not(None))
        columns = list(nf.NEW_STUDENT_COLUMNS)
        rows = [nf.new_student_row(session, s) for s in _fetch(session, query)]
    else:
        query = query.where(Student.status.in_(GRADUATED))
        columns = list(nf.GRADUATE_COLUMNS)
        rows = [nf.graduate_row(session, s) for s in _fetch(session, query)]
    title = nf.TITLES[kind.value]
    stem = file_stem(title, *_filter_parts(filters))
    if format is FileFormat.dbf:
        return download(nf.to_dbf(columns, rows), nf.DBF_TYPE, f"{stem}.dbf")
    return download(nf.to_xlsx(title, columns, rows), XLSX_TYPE, f"{stem}.xlsx")


AUDIT_HEADER = ["时间", "操作人", "来源地址", "操作", "对象", "修改前", "修改后"]


def _as_json(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


@router.get("/audit", response_class=Response, responses={**FILE, **TOO_MANY})
def export_audit(
    principal: AdminUser,
    session: DbSession,
    filters: AuditLogFilters,
    format: ListFormat = ListFormat.xlsx,
) -> Response:
    """The audit log (admins only), filtered like GET /audit, newest first."""
    rows = _fetch(session, audit_entries(filters))
    table = Table(
        "审计日志",
        AUDIT_HEADER,
        [
            [
                r.at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
                r.actor,
                r.address,
                r.action,
                r.target,
                _as_json(r.before),
                _as_json(r.after),
            ]
            for r in rows
        ],
    )
    return table_download(table, format, file_stem("审计日志", filters.actor, filters.action))
