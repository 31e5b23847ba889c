"""Demo data of api.md: two stations, one account per role, five students. Seeded once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.service import create_user
from xueji.models import Station, Student, User
from xueji.students.id_numbers import check_digit

PASSWORD = "demo"

STATIONS = [("S01", "郑州函授站"), ("S02", "洛阳函授站")]

STAFF = [
    ("admin", "系统管理员", ["admin"], None),
    ("registrar", "学籍管理员", ["registrar"], None),
    ("academic", "教学管理员", ["academic"], None),
    ("grades", "成绩管理员", ["grades"], None),
    ("leader", "学籍主管领导", ["leader"], None),
    ("affairs", "学工办", ["student_affairs"], None),
    ("prov_adm", "省级招生部门", ["province_admissions"], None),
    ("prov_edu", "省教育厅", ["province_edu"], None),
    ("photo", "新华图片社", ["photo_agency"], None),
    ("chsi", "教育部网络中心", ["chsi"], None),
    ("station1", "郑州函授站", ["station"], "S01"),
    ("station2", "洛阳函授站", ["station"], "S02"),
    ("advisor1", "指导教师（郑州）", ["advisor"], "S01"),
]

# username, name, gender, first 17 digits of the ID number, level, major, intake year, station
STUDENTS = [
    ("stu1001", "张伟", "男", "41010219980315123", "专科", "会计", 2025, "S01"),
    ("stu1002", "王芳", "女", "41010519990721234", "本科", "汉语言文学", 2025, "S01"),
    ("stu1003", "李娜", "女", "41010319970102345", "专升本", "计算机科学与技术", 2026, "S01"),
    ("stu2001", "刘洋", "男", "41030219981111456", "专科", "护理", 2025, "S02"),
    ("stu2002", "陈静", "女", "41030319960808567", "本科", "工商管理", 2026, "S02"),
]


def seed_demo(session: Session) -> bool:
    """Seed the demo data unless it is there; True when it was seeded now."""
    if session.scalar(select(User.id).where(User.username == "admin")) is not None:
        return False
    for code, name in STATIONS:
        session.add(Station(code=code, name=name))
    session.flush()
    for username, display_name, roles, station in STAFF:
        create_user(session, username, PASSWORD, display_name, roles, station)
    now = clock.now()
    for username, name, gender, digits, level, major, intake, station in STUDENTS:
        user = create_user(session, username, PASSWORD, name, ["student"], station)
        session.add(
            Student(
                user_id=user.id,
                station_id=user.station_id,
                name=name,
                gender=gender,
                id_number=digits + check_digit(digits),
                level=level,
                major=major,
                intake_year=intake,
                status="在籍",
                created_at=now,
            )
        )
    session.flush()
    return True
