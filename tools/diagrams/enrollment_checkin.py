"""1 新生入学报到 — enrollment_checkin (one instance per admitted candidate)."""

from tools.diagrams.builder import Diagram

APPROVED = 'outcome == "approved"'
REJECTED = 'outcome == "rejected"'


def build() -> Diagram:
    d = Diagram(
        "enrollment_checkin",
        "新生入学报到",
        ["student", "station", "province_admissions", "province_edu"],
        documentation="函授站以考生号为每名录取新生办理入学报到：建立学籍记录和学生账号"
        "（用户名为考生号，初始密码为随机一次性密码，由函授站交给学生，首次登录时须修改），"
        "复查入学资格，填写学籍卡，编班。"
        "报到完毕时学籍状态为在籍；入学资格审核未通过时为入学资格取消。"
        "招生录取库中没有的考生（无录取信息）也可受理：函授站按录取通知书和身份证填写其信息，"
        "复查时只能选有误，向当地招生部门查询；审核通过后其录取信息登记入招生录取库，再次复查。"
        "（种子写“录取信息有误或无录取信息，向当地招生部门查询”，无录取信息的考生因此须能受理；"
        "原先只受理招生录取库中已有的考生，这一分支走不到，现按种子改正。）",
    )
    d.start("admitted", "函授站受理录取新生报到", "station", form="enrollment_checkin_start")
    d.service(
        "open_record", "建立新生学籍记录和学生账号", "station", "open_checkin", result="candidate"
    )
    d.user(
        "report",
        "新生持录取通知书、身份证等相关材料到所属函授站报到",
        "student",
        form="enrollment_checkin_report",
        due="03-15",
        deadline="3 月 15 日前",
        doc="3 月 15 日前持录取通知书、身份证等相关材料到所属函授站报到。",
    )
    d.xor("level_gateway", "是否专升本层次", "student")
    d.user(
        "junior_college",
        "专升本层次新生交专科毕业证复印件，填写专科信息登记表，签署专科学历《承诺书》",
        "student",
        form="enrollment_checkin_junior_college",
        ui=True,
    )
    d.user(
        "check",
        "新生入学资格复查、核实新生录取信息",
        "station",
        form="enrollment_checkin_check",
        ui=True,
        doc="核对录取通知书、身份证与招生录取库中的录取信息（见申请信息）。",
    )
    d.service(
        "admission_listed",
        "核对招生录取库",
        "station",
        "confirm_admission_check",
        result="admission_listed",
    )
    d.xor("check_result", "录取信息是否正确", "station")
    d.user(
        "query",
        "录取信息有误或无录取信息，向当地招生部门查询",
        "station",
        form="enrollment_checkin_query",
        ui=True,
    )
    d.xor("cause_gateway", "是否学生个人原因导致", "station")
    d.user(
        "proof",
        "学生个人原因导致的，由学生提供合法性证明材料",
        "student",
        form="enrollment_checkin_proof",
        ui=True,
    )
    d.user("forward", "合法性证明材料上报学院", "station", form="enrollment_checkin_forward")
    d.user("edu_review", "省级行政教育部门审核", "province_edu", form="review", ui=True)
    d.xor("edu_decision", "省级行政教育部门审核意见", "province_edu")
    d.user(
        "admissions_review", "当地省级招生部门审核", "province_admissions", form="review", ui=True
    )
    d.xor("admissions_decision", "当地省级招生部门审核意见", "province_admissions")
    d.service(
        "record_admission",
        "登记核实后的录取信息",
        "station",
        "record_confirmed_admission",
        result="admission_added",
    )
    d.service("cancel", "取消入学资格", "station", "cancel_admission")
    d.end("cancelled", "入学资格取消", "station")
    d.user(
        "card",
        "学生本人签字确认，填写学籍卡，粘贴班级相册",
        "student",
        form="enrollment_checkin_card",
        ui=True,
        doc="姓名、性别、身份证号、层次、专业须与录取信息一致；照片在表中上传。",
    )
    d.service("save_card", "保存学籍卡", "student", "save_status_card")
    d.service(
        "class_assignment",
        "新生编班，生成班级学籍注册名单和新生报到情况统计表",
        "station",
        "assign_class",
        result="class_documents",
    )
    d.user(
        "print_documents",
        "新生编班，打印班级学籍注册名单，填写新生报到情况统计表",
        "station",
        form="enrollment_checkin_class",
        doc="系统已编班，并生成了班级学籍注册名单和新生报到情况统计表"
        "（见文件与材料），请打印、核对。",
    )
    d.service("finish", "学籍记录置为在籍", "station", "finish_checkin")
    d.end("done", "新生入学、报到工作完毕", "station")

    d.chain("admitted", "open_record", "report", "level_gateway")
    d.flow("level_gateway", "junior_college", "专升本", 'candidate["level"] == "专升本"')
    d.flow("level_gateway", "check", "专科、本科", default=True)
    d.flow("junior_college", "check")
    d.chain("check", "admission_listed", "check_result")
    d.flow("check_result", "card", "正确", 'outcome == "correct"')
    d.flow("check_result", "query", "有误", 'outcome == "wrong"')
    d.flow("query", "cause_gateway")
    d.flow("cause_gateway", "proof", "学生个人原因", "own_fault == True")
    d.flow("cause_gateway", "admissions_review", "其他原因", default=True)
    d.chain("proof", "forward", "edu_review", "edu_decision")
    d.flow("edu_decision", "record_admission", "通过", APPROVED)
    d.flow("edu_decision", "cancel", "未通过", REJECTED)
    d.flow("admissions_review", "admissions_decision")
    d.flow("admissions_decision", "record_admission", "通过", APPROVED)
    d.flow("record_admission", "check")
    d.flow("admissions_decision", "cancel", "未通过", REJECTED)
    d.flow("cancel", "cancelled")
    d.chain("card", "save_card", "class_assignment", "print_documents", "finish", "done")
    return d
