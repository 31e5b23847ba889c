"""7 毕业生学历电子注册 — graduation_registration (one per station and graduation season).

`year` is the graduation year (the year on the certificate and in its number). 春季 graduates
leave in the first half of `year`, so their data is reported by 10 月 25 日 and approved by the
province by 11 月 25 日 of the year before; 秋季 graduates leave in the second half of `year` and
are reported by 4 月 25 日 and approved by 5 月 25 日 of `year` itself.

Each pre-graduate is reviewed in a child instance (graduation_registration_student): grades,
then photo. The decision table processes/graduation_deferral.dmn says from the student's
record whether the rules defer (缓验) the student; the reviewers confirm it.
"""

from tools.diagrams.builder import Diagram

APPROVED = 'outcome == "approved"'
REJECTED = 'outcome == "rejected"'
CORRECT = 'outcome == "correct" and len(check["problems"]) == 0'
WRONG = 'outcome == "wrong" or len(check["problems"]) > 0'
REPORT_DUE = "春季:10-25@-1;秋季:04-25"
PROVINCE_DUE = "春季:11-25@-1;秋季:05-25"


def build() -> list[Diagram]:
    return [_batch(), _student()]


def _batch() -> Diagram:
    d = Diagram(
        "graduation_registration",
        "毕业生学历电子注册",
        ["station", "registrar", "province_edu", "student_affairs"],
        documentation="每个函授站每个毕业季（春季/秋季）一个实例。year 为毕业年份："
        "春季毕业生上一年 10 月 25 日前上报、11 月 25 日前省教育厅审核；"
        "秋季毕业生当年 4 月 25 日前上报、5 月 25 日前省教育厅审核。"
        "能否毕业按同一条规则判定：学籍状态为已注册、有学号、尚无毕业证书编号，且预计毕业日期"
        "在本季或以前（以前季缓验或未上报者再次列入）。校验有误时，函授站在补充学籍电子注册信息中"
        "补充信息，或将不能本季毕业的学生移出名单并注明原因（本季应毕业者记为缓验），"
        "名单因此总能校验通过；名单为空（本季无预毕业生，或全部移出）时流程结束。缓验（成绩审核、照片审核、省教育厅审核未通过或函授站移出）写入"
        "学籍记录（缓验季别和原因），下一季的预毕业生名单再次列入。学生毕业时发出学生离校消息，"
        "在校生日常学籍管理据此归档学籍卡。processes.md 只写“缓验（推迟到以后的毕业季）”，"
        "没有说缓验记在哪里、何时再审；此处按种子的缓验写入学籍记录并在下一季再次列入。",
    )
    d.start("start", "毕业生学历电子注册开始", "station", form="graduation_registration_start")
    d.service(
        "select_candidates",
        "选取本季预计毕业学生",
        "registrar",
        "graduation_candidates",
        result="students",
    )
    d.script("keep_proposal", "保留预毕业生建议名单", "registrar", "proposed = students")
    d.user(
        "enter_candidates",
        "函授站按照学院提供的毕业生学历注册标准库录入预毕业生数据",
        "station",
        form="graduation_registration_enter",
        ui=True,
        doc="预毕业生名单已按学籍系统中本站本季预计毕业的学生预填，请核对并增删。",
    )
    d.service(
        "check_candidates",
        "校验毕业生学历电子注册数据",
        "station",
        "graduation_check",
        result="check",
    )
    d.xor("any_candidates", "是否有预毕业生", "station")
    d.service(
        "no_candidates",
        "登记移出名单的学生（缓验）",
        "station",
        "graduation_register_list",
        result="register",
    )
    d.end("none_this_season", "本季无预毕业生", "station")
    d.user(
        "self_check",
        "自行校验毕业生学历电子注册数据",
        "station",
        form="graduation_registration_check",
        ui=True,
        doc="按毕业生学历注册标准库生成的数据见文件与材料；批量数据表列出系统校验"
        "发现的问题，有问题时名单一律退回补充（有误）；"
        "申请信息中列出以前季缓验的学生。",
    )
    d.service(
        "confirm_self_check",
        "确认校验结果",
        "station",
        "confirm_check_result",
        params={"problems": 'check["problems"]', "checks": '"系统校验"'},
    )
    d.xor("self_check_result", "校验结果", "station")
    d.user(
        "supplement",
        "补充学籍电子注册信息",
        "station",
        form="graduation_registration_enter",
        ui=True,
        doc="按校验发现的问题或学院反馈的原因补充、修改预毕业生名单后重新校验；"
        "不能本季毕业的学生从名单中删除，并在“移出名单的学生”中注明原因。",
    )
    d.user(
        "report",
        "上报预毕业生学历注册信息",
        "station",
        form="graduation_registration_report",
        due=REPORT_DUE,
        deadline="春季 10 月 25 日前 / 秋季 4 月 25 日前",
    )
    d.user(
        "college_check",
        "学院根据学籍管理系统预毕业生名单校对预毕业生学历电子注册信息",
        "registrar",
        form="graduation_registration_check",
        ui=True,
    )
    d.xor("college_check_result", "校对结果", "registrar")
    d.service(
        "stamp_roster",
        "生成预毕业生验印名单",
        "registrar",
        "graduation_stamp_roster",
        result="stamp_roster",
    )
    d.user(
        "print_stamp_roster",
        "按年级、层次、专业、函授站打印预毕业生验印名单，提供给成绩管理人员",
        "registrar",
        form="graduation_registration_printed",
        doc="验印名单（见文件与材料）按年级、层次、专业、函授站排列。",
    )
    d.call(
        "each_student",
        "预毕业生成绩审核、照片审核",
        "registrar",
        called="graduation_registration_student",
        collection="students",
        element="student",
        output="reviews",
        output_element="result",
    )
    d.service(
        "register_list",
        "生成毕业生学历电子注册名单",
        "registrar",
        "graduation_register_list",
        result="register",
    )
    d.user(
        "compile_register",
        "编制毕业生学历电子注册名单",
        "registrar",
        form="graduation_registration_printed",
        doc="名单（见文件与材料）只含未缓验的学生；缓验学生另列。",
    )
    d.user(
        "province_review",
        "学历注册数据报省教育厅审核、验印",
        "province_edu",
        form="graduation_registration_province",
        ui=True,
        due=PROVINCE_DUE,
        deadline="春季 11 月 25 日前 / 秋季 5 月 25 日前",
        doc="审核毕业生学历电子注册名单（见文件与材料）；未通过的学生逐个填写原因，其余验印通过。",
    )
    d.xor("province_result", "省教育厅审核结果", "province_edu")
    d.service(
        "province_defer", "缓验", "province_edu", "graduation_province_deferral", result="register"
    )
    d.user(
        "update_records",
        "修正学院学籍管理系统中毕业生个人信息",
        "registrar",
        form="graduation_registration_update",
        ui=True,
        doc="确认后，系统将名单中的学生改为毕业，写入毕业日期、毕业结论并编制毕业证书编号，一次完成。",
    )
    d.service(
        "graduate",
        "写入毕业信息，编制毕业证书编号",
        "registrar",
        "graduation_graduate",
        result="graduated",
    )
    d.service(
        "certificate_list",
        "生成毕业证书发放清单",
        "registrar",
        "graduation_certificate_list",
        result="certificates",
    )
    d.user(
        "print_certificates",
        "打印毕业证书交学工办",
        "registrar",
        form="graduation_registration_printed",
        doc="毕业证书发放清单（见文件与材料）随证书交学工办。",
    )
    d.user(
        "receive_certificates",
        "学工办接收毕业证书",
        "student_affairs",
        form="graduation_registration_receive",
    )
    d.end("done", "学生学历电子注册完毕", "student_affairs")

    d.chain("start", "select_candidates", "keep_proposal", "enter_candidates")
    d.chain("enter_candidates", "check_candidates", "any_candidates")
    d.flow("any_candidates", "no_candidates", "无", "len(students) == 0")
    d.flow("any_candidates", "self_check", "有", default=True)
    d.chain("no_candidates", "none_this_season")
    d.chain("self_check", "confirm_self_check", "self_check_result")
    d.flow("self_check_result", "supplement", "有误", WRONG)
    d.flow("self_check_result", "report", "正确", CORRECT)
    d.flow("supplement", "check_candidates")
    d.flow("report", "college_check")
    d.flow("college_check", "college_check_result")
    d.flow("college_check_result", "supplement", "有误", 'outcome == "wrong"')
    d.flow("college_check_result", "stamp_roster", "正确", 'outcome == "correct"')
    d.chain("stamp_roster", "print_stamp_roster", "each_student", "register_list")
    d.chain("register_list", "compile_register", "province_review", "province_result")
    d.flow("province_result", "province_defer", "未通过", "len(rejected) > 0")
    d.flow("province_result", "update_records", "通过", "len(rejected) == 0")
    d.flow("province_defer", "update_records")
    d.chain("update_records", "graduate", "certificate_list", "print_certificates")
    d.chain("print_certificates", "receive_certificates", "done")
    return d


def _student() -> Diagram:
    d = Diagram(
        "graduation_registration_student",
        "预毕业生审核",
        ["grades", "registrar"],
        documentation="一名预毕业生的成绩审核与照片审核；缓验规则见 graduation_deferral 决策表。",
    )
    d.start("review_start", "预毕业生审核开始", "registrar")
    d.service(
        "review_inputs",
        "汇总成绩与照片信息",
        "registrar",
        "graduation_review_inputs",
        result="review",
    )
    d.rule("deferral_rule", "缓验规则", "registrar", "graduation_deferral")
    d.user(
        "grades_review",
        "成绩审核",
        "grades",
        form="review",
        ui=True,
        doc="申请信息中列出不及格且未补考通过的课程。缓验规则判定成绩审核未通过时只能选择未通过。",
    )
    d.service(
        "grades_rule_check",
        "核对缓验规则",
        "grades",
        "graduation_confirm_review",
        params={"stage": '"成绩审核"'},
    )
    d.xor("grades_result", "成绩审核结果", "grades")
    d.script(
        "grades_defer",
        "缓验",
        "grades",
        'result = {"student": student, "deferred": True, "stage": "成绩审核", "reason": reason}',
    )
    d.end("grades_deferred", "缓验", "grades")
    d.user(
        "photo_review",
        "照片审核",
        "registrar",
        form="review",
        ui=True,
        doc="申请信息中列出毕业照片状态。缓验规则判定照片审核未通过时只能选择未通过。",
    )
    d.service(
        "photo_rule_check",
        "核对缓验规则",
        "registrar",
        "graduation_confirm_review",
        params={"stage": '"照片审核"'},
    )
    d.xor("photo_result", "照片审核结果", "registrar")
    d.script(
        "photo_defer",
        "缓验",
        "registrar",
        'result = {"student": student, "deferred": True, "stage": "照片审核", "reason": reason}',
    )
    d.end("photo_deferred", "缓验", "registrar")
    d.script(
        "review_passed",
        "审核通过",
        "registrar",
        'result = {"student": student, "deferred": False}',
    )
    d.end("reviewed", "预毕业生审核通过", "registrar")

    d.chain("review_start", "review_inputs", "deferral_rule", "grades_review")
    d.chain("grades_review", "grades_rule_check", "grades_result")
    d.flow("grades_result", "grades_defer", "未通过", REJECTED)
    d.flow("grades_result", "photo_review", "通过", APPROVED)
    d.chain("grades_defer", "grades_deferred")
    d.chain("photo_review", "photo_rule_check", "photo_result")
    d.flow("photo_result", "photo_defer", "未通过", REJECTED)
    d.flow("photo_result", "review_passed", "通过", APPROVED)
    d.chain("photo_defer", "photo_deferred")
    d.chain("review_passed", "reviewed")
    return d
