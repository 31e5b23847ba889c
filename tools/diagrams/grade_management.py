"""8 成绩管理 — grade_management (one per station, term and course set), with the per-student
grade_management_student (参加相应课程考核, or 免修、免试申请 decided by the college)."""

from tools.diagrams.builder import Diagram

APPROVED = 'outcome == "approved"'
REJECTED = 'outcome == "rejected"'


def build() -> list[Diagram]:
    return [_main(), _student()]


def _main() -> Diagram:
    d = Diagram(
        "grade_management",
        "成绩管理",
        ["academic", "grades", "student", "station", "student_affairs"],
        documentation="成绩管理：每个函授站、每学期（或补考学期）、每组课程一个流程。"
        "学院审核通过后，成绩作为正式成绩录入学院管理信息系统。",
    )
    d.start("term_start", "学期开始", "academic", form="grade_management_start", ui=True)
    d.user(
        "enter_plan",
        "将教学计划录入学院管理信息系统",
        "academic",
        form="grade_management_plan",
        ui=True,
        doc="录入本学期（补考学期）该函授站考核的课程：课程代码、课程名称、学分。",
    )
    d.service("save_plan", "教学计划课程入库", "academic", "enter_teaching_plan")
    d.service("roster", "本学期考核学生名单", "grades", "grade_roster", result="students")
    d.service(
        "blank_sheets",
        "每学期初打印空白学期成绩单、空白补考成绩单、毕业班级成绩总表寄发函授站",
        "grades",
        "print_blank_grade_sheets",
        result="sheets",
    )
    d.call(
        "each_student",
        "参加相应课程考核，或免修、免试申请上报学院",
        "student",
        called="grade_management_student",
        collection="students",
        element="student",
        output="exemptions",
        output_element="result",
    )
    d.user(
        "station_entry",
        "函授站登录考试成绩上报学院",
        "station",
        form="grade_management_entry",
        ui=True,
        doc="按学期成绩单登录本站学生的考试成绩（0–100 分，60 分及格），逐行录入，"
        "或下载成绩登记表填好后上传。已批准免修、免试的课程不需登录。上传的成绩登记表有误的，"
        "问题逐行列出，改正后重新上传；学院审核未通过的，原因见“原因”，修改后重新上报。",
    )
    d.service(
        "load_entry", "读取并校验函授站成绩", "station", "load_station_grades", result="check"
    )
    d.xor("entry_result", "成绩登记表校验结果", "station")
    d.service("check_entry", "核对函授站上报成绩", "station", "check_station_grades")
    d.user("audit", "学院审核", "grades", form="review", ui=True)
    d.xor("audit_decision", "学院审核意见", "grades")
    d.service(
        "record_grades",
        "学院将函授站成绩录入学院管理信息系统",
        "grades",
        "record_official_grades",
        result="recorded",
    )
    d.service(
        "transcripts",
        "打印毕业生个人成绩单（两份）",
        "grades",
        "print_graduate_transcripts",
        result="transcripts",
    )
    d.parallel("two_copies", "成绩单两份", "grades")
    d.user("archive", "学校存档", "grades", form="grade_management_archive")
    d.user("hand_over", "交学院学工办", "student_affairs", form="grade_management_receipt")
    d.parallel("copies_done", "两份成绩单均已送达", "grades")
    d.end("done", "成绩管理工作完毕", "grades")
    d.chain(
        "term_start",
        "enter_plan",
        "save_plan",
        "roster",
        "blank_sheets",
        "each_student",
        "station_entry",
    )
    d.chain("station_entry", "load_entry", "entry_result")
    d.flow("entry_result", "station_entry", "有误", 'len(check["problems"]) > 0')
    d.flow("entry_result", "check_entry", "无误", default=True)
    d.chain("check_entry", "audit", "audit_decision")
    d.flow("audit_decision", "station_entry", "未通过", REJECTED)
    d.flow("audit_decision", "record_grades", "通过", APPROVED)
    d.chain("record_grades", "transcripts", "two_copies")
    d.flow("two_copies", "archive")
    d.flow("two_copies", "hand_over")
    d.flow("archive", "copies_done")
    d.flow("hand_over", "copies_done")
    d.flow("copies_done", "done")
    return d


def _student() -> Diagram:
    d = Diagram(
        "grade_management_student",
        "学生课程考核与免修、免试申请",
        ["registrar", "student"],
        documentation="每名学生一个：参加相应课程考核，或在两周内将免修、免试申请上报学院，"
        "由学院学籍管理审核；批准的课程记为免修、免试成绩。",
    )
    d.start("student_term", "本学期课程考核", "registrar")
    d.user(
        "exam_or_exemption",
        "参加相应课程考核，或免修、免试申请上报学院",
        "student",
        form="grade_management_exemption",
        ui=True,
        due="P10D",
        deadline="10 天内",
        doc="本学期课程均参加考核的，选择“参加相应课程考核”；申请免修、免试的，"
        "填写课程代码与依据。10 天内未提交的提醒学生；两周内未提交的，按参加考核处理。",
    )
    d.timer(
        "application_closed",
        "申请期限已过",
        "student",
        duration='"P14D"',
        attached_to="exam_or_exemption",
        interrupting=True,
    )
    d.xor("applies", "是否申请免修、免试", "student")
    d.service("check_application", "核对免修、免试申请", "student", "check_exemption_application")
    d.user(
        "exemption_review",
        "学院审核免修、免试申请",
        "registrar",
        form="review",
        ui=True,
        due="P7D",
        deadline="7 天内",
    )
    d.xor("exemption_decision", "学院审核意见", "registrar")
    d.service(
        "record_exemption",
        "免修、免试成绩录入学院管理信息系统",
        "registrar",
        "record_exemptions",
        result="result",
    )
    d.end("exempted", "免修、免试", "registrar")
    d.end("take_exam", "参加相应课程考核", "student")
    d.chain("student_term", "exam_or_exemption", "applies")
    d.flow("applies", "check_application", "免修、免试申请上报学院", 'choice == "exemption"')
    d.flow("applies", "take_exam", "参加相应课程考核", default=True)
    d.flow("application_closed", "take_exam")
    d.chain("check_application", "exemption_review", "exemption_decision")
    d.flow("exemption_decision", "record_exemption", "通过", APPROVED)
    d.flow("exemption_decision", "take_exam", "未通过", REJECTED)
    d.chain("record_exemption", "exempted")
    return d
