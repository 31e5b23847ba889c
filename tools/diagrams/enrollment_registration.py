"""2 新生学籍电子注册 — enrollment_registration (one instance per station and intake)."""

from tools.diagrams.builder import Diagram

CORRECT = 'outcome == "correct"'


def build() -> Diagram:
    d = Diagram(
        "enrollment_registration",
        "新生学籍电子注册",
        ["station", "registrar", "chsi"],
        documentation="函授站按新生学籍注册标准库（国家字段 KSH XH XM …）录入本站本年级新生，"
        "自行校验后上报；学院按招生录取库审核，录入学籍管理信息系统并编制学号，"
        "导出上网注册。注册通过后，该批学生的学籍状态为已注册。",
    )
    d.start("begin", "开始新生学籍电子注册", "station", form="enrollment_registration_start")
    d.service(
        "provide_template",
        "学院提供新生学籍注册标准库",
        "registrar",
        "registration_template",
        result="template",
    )
    d.user(
        "entry",
        "函授站按照学院提供的新生学籍注册标准库录入新生信息",
        "station",
        form="enrollment_registration_rows",
        ui=True,
        doc="下载学院提供的标准库（按招生录取库预填，见文件与材料），补全后上传；或逐行在线录入。",
    )
    d.service(
        "load_rows", "读取新生学籍注册信息", "station", "load_registration_rows", result="rows"
    )
    d.service(
        "auto_check",
        "校验身份证号、必填项、重复、专业层次",
        "station",
        "check_registration_rows",
        result="check",
    )
    d.user(
        "self_check",
        "自行校验新生学籍电子注册信息",
        "station",
        form="enrollment_registration_self_check",
        ui=True,
        doc="系统校验发现的问题列在批量数据表中（问题行在前），校验结果文件见文件与材料；"
        "有问题时只能选择有误并修改。",
    )
    d.service(
        "confirm_self_check",
        "确认自行校验结果",
        "station",
        "confirm_check_result",
        params={"problems": 'check["problems"]', "checks": '"系统校验"'},
    )
    d.xor("self_check_result", "自行校验结果", "station")
    d.user(
        "correct",
        "函授站核实、补充、修改学籍电子注册信息",
        "station",
        form="enrollment_registration_rows",
        ui=True,
        doc="需修改的行列在批量数据表中（问题行在前），校验结果文件见文件与材料；"
        "提交修改后的全部行，或重新上传标准库。",
    )
    d.user(
        "submit",
        "新生学籍注册信息上报",
        "station",
        form="enrollment_registration_submit",
        due="03-25",
        deadline="3 月 25 日前",
    )
    d.service(
        "audit_rows", "比对招生录取库", "registrar", "audit_registration_rows", result="audit"
    )
    d.user(
        "college_review",
        "学院按照招生录取库审核新生学籍电子注册信息",
        "registrar",
        form="enrollment_registration_audit",
        ui=True,
        doc="与招生录取库不一致的行列在批量数据表中；有不一致时只能退回函授站。",
    )
    d.service(
        "confirm_college_review",
        "确认学院审核结果",
        "registrar",
        "confirm_check_result",
        params={"problems": 'audit["problems"]', "checks": '"比对招生录取库"'},
    )
    d.xor("college_result", "学院审核结果", "registrar")
    d.service(
        "college_feedback",
        "学籍注册信息反馈函授站",
        "registrar",
        "registration_feedback",
        params={
            "source": '"学院审核"',
            "reason": 'reason if outcome == "wrong" else "与招生录取库不一致"',
            "problems": 'audit["problems"]',
            "marked": 'wrong_rows if outcome == "wrong" else []',
        },
        result="feedback",
    )
    d.user(
        "compile",
        "汇总新生学籍电子注册信息，录入学院学籍管理信息系统，编制学号反馈给函授站",
        "registrar",
        form="enrollment_registration_compile",
        due="04-15",
        deadline="4 月 15 日前",
    )
    d.service(
        "assign_numbers",
        "录入学院学籍管理信息系统，编制学号",
        "registrar",
        "assign_registration_numbers",
        result="numbers",
    )
    d.service("export", "导出新生学籍信息", "registrar", "export_registration", result="export")
    d.user(
        "register_online",
        "从学院学籍管理系统导出新生学籍信息上网注册",
        "registrar",
        form="enrollment_registration_online",
        doc="导出的新生学籍信息文件见文件与材料。",
    )
    d.user(
        "chsi_review",
        "教育部网络中心审核上网注册信息",
        "chsi",
        form="enrollment_registration_chsi",
        ui=True,
        due="04-30",
        deadline="4 月 30 日前",
    )
    d.xor("chsi_result", "上网注册结果", "chsi")
    d.service(
        "chsi_feedback",
        "上网注册未通过信息反馈函授站",
        "registrar",
        "registration_feedback",
        params={
            "source": '"教育部网络中心"',
            "reason": "reason",
            "problems": "[]",
            "marked": "failed_rows",
        },
        result="feedback",
    )
    d.service("finish", "学籍状态置为已注册", "registrar", "finish_registration")
    d.end("done", "新生学籍电子注册完毕", "registrar")

    d.chain("begin", "provide_template", "entry", "load_rows", "auto_check", "self_check")
    d.chain("self_check", "confirm_self_check", "self_check_result")
    d.flow("self_check_result", "submit", "正确", CORRECT + ' and len(check["problems"]) == 0')
    d.flow("self_check_result", "correct", "有误", default=True)
    d.flow("correct", "load_rows")
    d.chain("submit", "audit_rows", "college_review", "confirm_college_review", "college_result")
    d.flow("college_result", "compile", "正确", CORRECT + ' and len(audit["problems"]) == 0')
    d.flow("college_result", "college_feedback", "有误", default=True)
    d.flow("college_feedback", "correct")
    d.chain("compile", "assign_numbers", "export", "register_online", "chsi_review", "chsi_result")
    d.flow("chsi_result", "finish", "通过", 'outcome == "approved"')
    d.flow("chsi_result", "chsi_feedback", "未通过", 'outcome == "rejected"')
    d.flow("chsi_feedback", "correct")
    d.flow("finish", "done")
    return d
