"""The roles of the college (processes.md, 'Who takes part'), and how lane names map to them."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    STUDENT = "student"
    STATION = "station"
    REGISTRAR = "registrar"
    ACADEMIC = "academic"
    GRADES = "grades"
    LEADER = "leader"
    STUDENT_AFFAIRS = "student_affairs"
    ADVISOR = "advisor"
    PROVINCE_ADMISSIONS = "province_admissions"
    PROVINCE_EDU = "province_edu"
    PHOTO_AGENCY = "photo_agency"
    CHSI = "chsi"
    ADMIN = "admin"


# role -> (中文 name, other names a lane may carry)
ROLES: dict[Role, tuple[str, tuple[str, ...]]] = {
    Role.STUDENT: ("学生", ()),
    Role.STATION: ("函授站", ()),
    Role.REGISTRAR: ("学院学籍管理", ("学籍管理",)),
    Role.ACADEMIC: ("学院教学管理", ("教学管理",)),
    Role.GRADES: ("成绩管理人员", ("成绩管理",)),
    Role.LEADER: ("学籍主管领导", ()),
    Role.STUDENT_AFFAIRS: ("学工办", ("学院学工办",)),
    Role.ADVISOR: ("指导教师", ()),
    Role.PROVINCE_ADMISSIONS: ("省级招生部门", ("当地省级招生部门",)),
    Role.PROVINCE_EDU: ("省教育厅", ("省级教育行政部门", "省级行政教育部门")),
    Role.PHOTO_AGENCY: ("新华图片社", ()),
    Role.CHSI: ("教育部网络中心", ("网络中心",)),
    Role.ADMIN: ("系统管理员", ()),
}

# Roles whose users see every station's instances and tasks (narrowed only by role).
COLLEGE_WIDE = frozenset(ROLES) - {Role.STUDENT, Role.STATION, Role.ADVISOR}


def role_for_lane(lane_name: str | None) -> Role | None:
    """The role id a lane's name stands for (its id, its 中文 name or an alias), or None."""
    if lane_name is None:
        return None
    name = lane_name.strip()
    for key, (name_zh, aliases) in ROLES.items():
        if name == key or name == name_zh or name in aliases:
            return key
    return None
