"""The roles of the college (processes.md, 'Who takes part'), and how lane names map to them."""

from __future__ import annotations

# role id -> (中文 name, other names a lane may carry)
ROLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "student": ("学生", ()),
    "station": ("函授站", ()),
    "registrar": ("学院学籍管理", ("学籍管理",)),
    "academic": ("学院教学管理", ("教学管理",)),
    "grades": ("成绩管理人员", ("成绩管理",)),
    "leader": ("学籍主管领导", ()),
    "student_affairs": ("学工办", ("学院学工办",)),
    "advisor": ("指导教师", ()),
    "province_admissions": ("省级招生部门", ("当地省级招生部门",)),
    "province_edu": ("省教育厅", ("省级教育行政部门", "省级行政教育部门")),
    "photo_agency": ("新华图片社", ()),
    "chsi": ("教育部网络中心", ("网络中心",)),
    "admin": ("系统管理员", ()),
}

# Roles whose users see every station's instances and tasks (narrowed only by role).
COLLEGE_WIDE = frozenset(ROLES) - {"student", "station", "advisor"}


def role_for_lane(lane_name: str | None) -> str | None:
    """The role id a lane's name stands for (its id, its 中文 name or an alias), or None."""
    if lane_name is None:
        return None
    name = lane_name.strip()
    for key, (name_zh, aliases) in ROLES.items():
        if name == key or name == name_zh or name in aliases:
            return key
    return None
