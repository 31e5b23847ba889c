"""Demo data of api.md: two stations, one account per role, the five students api.md names
(all 在籍) and three more (已注册), with full records, their majors and classes, a few
courses, and admitted candidates (招生录取库) who have not checked in yet. Seeded once.

The records are chosen so that every process can be run from here to each of its ends, as
the demo users (tests/processes/test_demo_cases.py does it):

- api.md's students are 在籍 (admitted and checked in, not yet electronically registered: no
  学号), each with their admission row, so that 2 registers them: 张伟 (stu1001), 王芳
  (stu1002) and 刘洋 (stu2001, S02) of the 2025 intake, 李娜 (stu1003, 专升本) and 陈静
  (stu2002, S02) of the 2026 intake.
- The extra accounts (an extension of api.md, password "demo" too) are 已注册 with 学号, so
  that 7 and the processes after registration can run: 杨帆 (stu1004, S01) and 马超 (stu2003,
  S02) are 专科 students of 2025 expected to graduate in January 2028 (春季 2028); 黄晓燕
  (stu1005, S01) is an 本科 student of 2023 expected in July 2028 (秋季 2028). 杨帆's grades
  are all passed and his photo is checked (已校对): he graduates in 7. 马超 failed 护理学基础
  (成绩审核 defers him, 缓验); 黄晓燕's photo is collected but not checked yet (照片审核 defers
  her until 6 has run).
- The 2027 intake's admissions (ADMISSIONS) have not checked in (1); UNLISTED is a candidate
  who turns up at S01 with no admission row (1's 无录取信息 branch).
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from xueji import clock
from xueji.auth.roles import ROLES, Role
from xueji.auth.service import create_user
from xueji.models import Admission, Course, Grade, Major, SchoolClass, Station, Student, User
from xueji.students.id_numbers import birth_date, check_digit
from xueji.students.numbers import assign_student_number

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

# code (ZYDM), name (ZYMC), level (CC), years (XZ)
MAJORS = [
    ("630302", "会计", "专科", "2.5"),
    ("620201", "护理", "专科", "2.5"),
    ("610201", "计算机应用技术", "专科", "2.5"),
    ("050101", "汉语言文学", "本科", "5"),
    ("120201K", "工商管理", "本科", "5"),
    ("080901", "计算机科学与技术", "专升本", "2.5"),
    ("120203K", "会计学", "专升本", "2.5"),
]

# code, name, credits
COURSES = [
    ("GG001", "大学英语", 4.0),
    ("GG002", "计算机应用基础", 3.0),
    ("GG003", "马克思主义基本原理概论", 3.0),
    ("ZY101", "基础会计", 4.0),
    ("ZY201", "现代汉语", 4.0),
    ("ZY301", "数据结构", 4.0),
    ("ZY401", "护理学基础", 4.0),
    ("ZY501", "管理学原理", 3.0),
]


class DemoStudent(NamedTuple):
    username: str
    name: str
    gender: str
    id_digits: str  # the first 17 characters of the ID number; the check digit is computed
    level: str
    major: str
    intake_year: int
    station: str
    exam_number: str  # KSH
    ethnicity: str
    political_status: str
    address: str
    phone: str
    work_unit: str
    remarks: str | None = None
    status: str = "在籍"
    photo_status: str = "未采集"


# Official results of the demo students (course code, term, passed, score).
GRADES = {
    "stu1004": [("GG001", "2025-春", True, 78), ("GG002", "2025-秋", True, 85),
                ("ZY101", "2026-春", True, 72)],
    "stu1005": [("GG001", "2024-春", True, 81), ("ZY201", "2025-秋", True, 88)],
    "stu2003": [("GG001", "2025-春", True, 66), ("ZY401", "2026-春", False, 42)],
}  # fmt: skip


STUDENTS = [
    DemoStudent(
        "stu1001", "张伟", "男", "41010219980315123", "专科", "会计", 2025, "S01",
        "25410102110001", "汉族", "共青团员",
        "河南省郑州市中原区建设西路12号", "13803710001", "郑州市中原区财政局",
    ),
    DemoStudent(
        "stu1002", "王芳", "女", "41010519990721234", "本科", "汉语言文学", 2025, "S01",
        "25410105110002", "汉族", "群众",
        "河南省郑州市金水区花园路88号", "13803710002", "郑州市金水区文化路小学",
    ),
    DemoStudent(
        "stu1003", "李娜", "女", "41010319970102346", "专升本", "计算机科学与技术", 2026, "S01",
        "26410103150003", "回族", "中共党员",
        "河南省郑州市二七区大学路75号", "13803710003", "郑州市二七区人民政府",
        "原专科院校：河南职业技术学院；专科毕业证书编号：127901202306001234",
    ),
    DemoStudent(
        "stu2001", "刘洋", "男", "41030219981111457", "专科", "护理", 2025, "S02",
        "25410302110001", "汉族", "群众",
        "河南省洛阳市老城区中州东路21号", "13703790001", "洛阳市中心医院",
    ),
    DemoStudent(
        "stu2002", "陈静", "女", "41030319960808568", "本科", "工商管理", 2026, "S02",
        "26410303110002", "汉族", "共青团员",
        "河南省洛阳市西工区凯旋路36号", "13703790002", "洛阳轴承集团有限公司",
    ),
    # Beyond api.md's five: registered students of the 2028 graduation seasons.
    DemoStudent(
        "stu1004", "杨帆", "男", "41010419970823135", "专科", "会计", 2025, "S01",
        "25410104110004", "汉族", "共青团员",
        "河南省郑州市管城区紫荆山路56号", "13803710004", "郑州市管城区税务局",
        status="已注册", photo_status="已校对",
    ),
    DemoStudent(
        "stu1005", "黄晓燕", "女", "41010519980412246", "本科", "汉语言文学", 2023, "S01",
        "23410105110005", "汉族", "群众",
        "河南省郑州市金水区经三路19号", "13803710005", "郑州市金水区纬五路小学",
        status="已注册", photo_status="已采集",
    ),
    DemoStudent(
        "stu2003", "马超", "男", "41030219990305137", "专科", "护理", 2025, "S02",
        "25410302110003", "回族", "群众",
        "河南省洛阳市老城区西大街45号", "13703790003", "洛阳市第一人民医院",
        status="已注册", photo_status="已校对",
    ),
]  # fmt: skip

# Admitted for the 2027 intake, not checked in yet: exam number, name, gender, ID digits,
# level, major, station.
ADMISSIONS = [
    ("27410104110011", "赵磊", "男", "41010419990506321", "专科", "会计", "S01"),
    ("27410108110012", "孙丽", "女", "41010820000918442", "本科", "汉语言文学", "S01"),
    ("27410102150013", "周强", "男", "41010219950327553", "专升本", "计算机科学与技术", "S01"),
    ("27410303110021", "吴敏", "女", "41030319980212664", "专科", "护理", "S02"),
    ("27410305110022", "郑浩", "男", "41030519970630775", "本科", "工商管理", "S02"),
    ("27410322150023", "冯雪", "女", "41032219960415886", "专升本", "会计学", "S02"),
]
ADMISSION_INTAKE = 2027
# A candidate who reports at S01 but is on no admissions list: exam number, name, gender, ID
# digits, level, major (for 1's 无录取信息 → 向当地招生部门查询 → 当地省级招生部门审核).
UNLISTED = ("27410105110019", "钱程", "男", "41010520000101447", "专科", "会计")


class DemoAccount(NamedTuple):
    username: str
    name: str
    role: str  # the role's 中文 name
    station: str | None  # the station's code


def demo_accounts() -> list[DemoAccount]:
    """Every demo account (password PASSWORD): the offices' staff, then the students."""
    staff = [
        DemoAccount(username, name, ROLES[Role(roles[0])][0], station)
        for username, name, roles, station in STAFF
    ]
    student = ROLES[Role.STUDENT][0]
    return staff + [DemoAccount(s.username, s.name, student, s.station) for s in STUDENTS]


def seed_demo(session: Session) -> bool:
    """Seed the demo data unless it is there; True when it was seeded now."""
    if session.scalar(select(User.id).where(User.username == "admin")) is not None:
        return False
    stations = {}
    for code, name in STATIONS:
        stations[code] = Station(code=code, name=name)
        session.add(stations[code])
    majors = {}
    for code, name, level, years in MAJORS:
        majors[name, level] = Major(code=code, name=name, level=level, years=years)
        session.add(majors[name, level])
    for code, name, credits in COURSES:
        session.add(Course(code=code, name=name, credits=credits))
    session.flush()
    for username, display_name, roles, station in STAFF:
        create_user(session, username, PASSWORD, display_name, roles, station)
    _seed_students(session, stations, majors)
    # Every enrolled demo student was admitted: the admissions list of their intake has them.
    for s in STUDENTS:
        session.add(
            Admission(
                exam_number=s.exam_number,
                name=s.name,
                gender=s.gender,
                id_number=s.id_digits + check_digit(s.id_digits),
                level=s.level,
                major=s.major,
                station_id=stations[s.station].id,
                intake_year=s.intake_year,
            )
        )
    for exam_number, name, gender, digits, level, major, station in ADMISSIONS:
        session.add(
            Admission(
                exam_number=exam_number,
                name=name,
                gender=gender,
                id_number=digits + check_digit(digits),
                level=level,
                major=major,
                station_id=stations[station].id,
                intake_year=ADMISSION_INTAKE,
            )
        )
    session.flush()
    return True


def _seed_classes(
    session: Session, stations: dict[str, Station], majors: dict[tuple[str, str], Major]
) -> dict[tuple[str, int, str, str], SchoolClass]:
    """One class per station, intake and major of the demo students, numbered per intake."""
    classes: dict[tuple[str, int, str, str], SchoolClass] = {}
    for s in STUDENTS:
        key = (s.station, s.intake_year, s.major, s.level)
        if key in classes:
            continue
        number = 1 + sum(other[:2] == key[:2] for other in classes)
        classes[key] = SchoolClass(
            code=f"{s.station}-{s.intake_year}-{number:02d}",
            name=f"{s.intake_year}级{s.major}（{s.level}）班",
            station_id=stations[s.station].id,
            major_id=majors[s.major, s.level].id,
            intake_year=s.intake_year,
        )
        session.add(classes[key])
    session.flush()
    return classes


def _seed_students(
    session: Session, stations: dict[str, Station], majors: dict[tuple[str, str], Major]
) -> None:
    now = clock.now()
    classes = _seed_classes(session, stations, majors)
    for s in STUDENTS:
        user = create_user(session, s.username, PASSWORD, s.name, ["student"], s.station)
        major = majors[s.major, s.level]
        id_number = s.id_digits + check_digit(s.id_digits)
        session.add(
            Student(
                user_id=user.id,
                station_id=stations[s.station].id,
                exam_number=s.exam_number,
                name=s.name,
                gender=s.gender,
                birth_date=birth_date(id_number),
                id_number=id_number,
                political_status=s.political_status,
                ethnicity=s.ethnicity,
                level=s.level,
                major=s.major,
                major_id=major.id,
                intake_year=s.intake_year,
                enrolled_on=date(s.intake_year, 3, 1),
                class_id=classes[s.station, s.intake_year, s.major, s.level].id,
                expected_graduation=expected_graduation(s.intake_year, major.years),
                remarks=s.remarks,
                address=s.address,
                phone=s.phone,
                work_unit=s.work_unit,
                status=s.status,
                photo_status=s.photo_status,
                created_at=now,
            )
        )
    session.flush()
    courses = {c.code: c for c in session.scalars(select(Course))}
    for s in STUDENTS:
        student = session.scalar(select(Student).where(Student.exam_number == s.exam_number))
        assert student is not None
        if s.status == "已注册":
            assign_student_number(session, student)
        for code, term, passed, score in GRADES.get(s.username, []):
            session.add(
                Grade(
                    student_id=student.id,
                    course_id=courses[code].id,
                    term=term,
                    score=score,
                    passed=passed,
                    official=True,
                    recorded_by="demo",
                    recorded_at=now,
                )
            )


def expected_graduation(intake_year: int, years: str) -> date:
    """Spring intake: a whole number of years ends in July, a half year more in January."""
    whole, half = divmod(round(float(years) * 2), 2)
    return date(intake_year + whole + 1, 1, 10) if half else date(intake_year + whole, 7, 1)
