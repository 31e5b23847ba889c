"""9 毕业设计（论文）— thesis (one per station and cohort; per student inside)."""

from tools.diagrams.builder import Diagram

APPROVED = 'outcome == "approved"'
REJECTED = 'outcome == "rejected"'


def build() -> list[Diagram]:
    return [_cohort(), _student()]


def _cohort() -> Diagram:
    d = Diagram(
        "thesis",
        "毕业设计（论文）",
        ["station", "academic"],
        documentation="函授站按毕业班级组织毕业设计（论文）：工作计划开始前三周上报学院，"
        "每个学生的过程指导、答辩资格审核、答辩和成绩评定各自进行，"
        "评语表、成绩单一周内上报学院，学院（教学管理）接收。主泳池含其参与者的泳道："
        "函授站和学院教学管理（processes.md 只有函授站一条泳道；种子的“上报学院”有接收者）。",
    )
    d.start("start", "毕业设计（论文）工作开始", "station", form="thesis_start", ui=True)
    d.service("roster", "核对毕业设计（论文）学生名单", "station", "thesis_roster", result="roster")
    d.user(
        "plan",
        "按照教学计划、毕业设计管理规程制定毕业设计（论文）工作计划",
        "station",
        form="thesis_plan",
        ui=True,
        due="before:start_date:P21D",
        deadline="开始前三周",
        doc="毕业设计（论文）开始前三周上报学院。",
    )
    d.user(
        "assign",
        "下达毕业设计任务，确定毕业设计（论文）分组名单、指导教师",
        "station",
        form="thesis_assign",
        ui=True,
        doc="为名单中的每个学生填写分组、指导教师（指导教师账号）和题目。",
    )
    d.service(
        "assignments", "登记分组名单、指导教师", "station", "thesis_assignments", result="students"
    )
    d.user(
        "mobilisation",
        "召开毕业设计（论文）动员会，讲清毕业设计（论文）的目的、任务、要求、总体安排",
        "station",
        form="thesis_mobilisation",
        ui=True,
    )
    d.call(
        "each",
        "学生毕业设计（论文）",
        "station",
        called="thesis_student",
        collection="students",
        element="student",
        output="results",
        output_element="result",
    )
    d.service(
        "transcript",
        "编制毕业设计（论文）成绩单",
        "station",
        "thesis_transcript",
        result="transcript_upload",
    )
    d.user(
        "archive",
        "优秀毕业设计（论文）存档，评语表、成绩单一周内上报学院",
        "station",
        form="thesis_archive",
        ui=True,
        due="P7D",
        deadline="一周内",
        doc="成绩单已生成（见文件与材料）。优秀毕业设计（论文）存档后，"
        "评语表、成绩单一周内上报学院。",
    )
    d.timer("archive_week", "一周", "station", duration='"P7D"', attached_to="archive")
    d.script("remind", "逾期提醒：评语表、成绩单尚未上报学院", "station", "report_overdue = True")
    d.end("reminded", "已提醒", "station")
    d.user(
        "receive",
        "学院接收评语表、成绩单",
        "academic",
        form="thesis_receipt",
        doc="函授站上报的评语表、成绩单（见文件与材料）及优秀毕业设计（论文）存档情况。",
    )
    d.end("done", "毕业设计（论文）工作完毕", "academic")
    d.chain(
        "start",
        "plan",
        "roster",
        "assign",
        "assignments",
        "mobilisation",
        "each",
        "transcript",
        "archive",
        "receive",
        "done",
    )
    d.chain("archive_week", "remind", "reminded")
    return d


def _student() -> Diagram:
    d = Diagram(
        "thesis_student",
        "学生毕业设计（论文）",
        ["advisor", "station", "academic"],
        documentation="一个学生的毕业设计（论文）：指导教师过程控制，函授站答辩资格审核、"
        "组织答辩和成绩评定；成绩不及格的留级。未通过资格审核的，函授站视具体情况报学院"
        "（附建议），由学院（教学管理）决定推迟答辩或留级——种子写“报学院”，决定者是学院；"
        "processes.md 让函授站自己决定，此处按种子改正。",
    )
    d.start("student_start", "学生毕业设计（论文）开始", "advisor")
    d.user(
        "guidance",
        "毕业设计（论文）过程控制，填写过程指导单",
        "advisor",
        form="thesis_guidance",
        ui=True,
    )
    d.user("eligibility", "毕业设计（论文）答辩资格审核", "station", form="review", ui=True)
    d.xor("admitted", "答辩资格", "station")
    d.user(
        "ineligible",
        "视具体情况报学院推迟答辩或留级",
        "station",
        form="thesis_ineligible",
        ui=True,
    )
    d.user(
        "defence",
        "组织安排毕业设计（论文）答辩，填写评语表",
        "station",
        form="thesis_defence",
        ui=True,
    )
    d.user("grading", "成绩评定", "station", form="thesis_grading", ui=True)
    d.user(
        "college_decision",
        "学院决定推迟答辩或留级",
        "academic",
        form="thesis_college_decision",
        ui=True,
        doc="函授站报告的具体情况和建议、资格审核未通过的原因见申请信息。",
    )
    d.service(
        "record_ineligible",
        "登记学院决定",
        "academic",
        "thesis_record_result",
        params={"eligible": "False"},
        result="result",
    )
    d.xor("decided", "学院决定", "academic")
    d.service(
        "record",
        "登记毕业设计（论文）成绩",
        "station",
        "thesis_record_result",
        params={"eligible": "True"},
        result="result",
    )
    d.xor("conclusion", "成绩评定结果", "station")
    d.service("repeat", "留级", "station", "teaching_repeat_year", params={"reason": "reason"})
    d.end("repeated", "留级", "station")
    d.end("deferred", "推迟答辩", "academic")
    d.end("passed", "毕业设计（论文）通过", "station")
    d.chain("student_start", "guidance", "eligibility", "admitted")
    d.flow("admitted", "ineligible", "未通过", REJECTED)
    d.flow("admitted", "defence", "通过", APPROVED)
    d.chain("ineligible", "college_decision", "record_ineligible", "decided")
    d.flow("decided", "deferred", "推迟答辩", 'result["outcome"] == "推迟答辩"')
    d.flow("decided", "repeat", "留级", 'result["outcome"] == "留级"')
    d.chain("defence", "grading", "record", "conclusion")
    d.flow("conclusion", "repeat", "不及格", 'result["outcome"] == "留级"')
    d.flow("conclusion", "passed", "通过", default=True)
    d.chain("repeat", "repeated")
    return d
