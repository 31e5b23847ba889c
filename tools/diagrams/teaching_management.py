"""10 教学管理 — teaching_management (one per station and term); calls 9 毕业设计（论文）.

After 阅卷评定成绩 each student's case runs in the pool 学生学业进度 (one child instance per
student): the progress rules (processes/teaching_progress.dmn) decide at each stage, and
their outcomes are the labelled branches of the seed — 及格 / 不及格, 不及格课程少于 1/2
(学期补考), 留级, 毕业清考, 不及格课程少于 1/3 (最后一次补考), 清考后仍有 1/3 课程不及格,
肄、结业 (肄业 or 结业 as the rule says) and 学生离校, thrown for process 3. 学期补考, 毕业清考
and 最后一次补考 are the station's tasks of the student concerned, with the make-up results.
"""

from tools.diagrams.builder import Diagram, Node

APPROVED = 'outcome == "approved"'
REJECTED = 'outcome == "rejected"'
DECISION = "teaching_progress"
STUDENT = "teaching_student_progress"


def build() -> list[Diagram]:
    return [_term(), _student()]


def _term() -> Diagram:
    d = Diagram(
        "teaching_management",
        "教学管理",
        ["station", "academic"],
        documentation="函授站每学期的教学管理：教学计划、学期任务表与抽考课程、课程表、"
        "面授、命题与审核、考试与阅卷；每个学生的成绩按学业进度规则处理（学生学业进度：学期"
        "补考、留级、毕业清考、最后一次补考、肄、结业），毕业学期组织毕业设计（论文）、答辩，"
        "教学计划完成，学生毕业；非毕业学期到此结束，进入下一学期（流程图中的“教学计划完成”"
        "只用于毕业学期）。"
        "“3 月 15 日前”按本实例的学期计算：春季学期为当年 3 月 15 日，秋季学期为次年"
        " 3 月 15 日（下一次修订教学计划的期限），秋季实例开始时不会已逾期。",
    )
    d.start("start", "教学管理工作开始", "station", form="teaching_management_start", ui=True)
    d.user(
        "plan",
        "制定、修订教学计划",
        "station",
        form="teaching_management_plan",
        ui=True,
        due="春季:03-15;秋季:03-15@+1",
        deadline="3 月 15 日前",
        doc="3 月 15 日前完成（秋季学期为次年 3 月 15 日前）。",
    )
    d.user(
        "task_list",
        "编制学期任务表，确定抽考课程",
        "station",
        form="teaching_management_courses",
        ui=True,
    )
    d.service(
        "term_courses",
        "核对学期课程",
        "station",
        "teaching_term_courses",
        params={"courses": "courses"},
        result="term_courses",
    )
    d.user(
        "timetable",
        "聘请教师，编排课程表",
        "station",
        form="teaching_management_timetable",
        ui=True,
    )
    d.user(
        "arrangement",
        "面授前二周上报学期面授教学安排表、自聘教师名单",
        "station",
        form="teaching_management_arrangement",
        ui=True,
        due="before:teaching_date:P14D",
        deadline="面授前二周",
        doc="面授前二周上报学院审核。",
    )
    d.user(
        "arrangement_review",
        "学院审核",
        "academic",
        form="review",
        ui=True,
        due="P7D",
        deadline="7 天内",
    )
    d.xor("arrangement_decision", "面授教学安排审核意见", "academic")
    d.user(
        "teaching",
        "组织安排面授",
        "station",
        form="teaching_management_teaching",
        ui=True,
    )
    d.user(
        "papers",
        "组织教师命题",
        "station",
        form="teaching_management_papers",
        ui=True,
        due="before:exam_date:P14D",
        deadline="考试前二周",
        doc="考试前二周上报学院审核。",
    )
    d.user(
        "papers_review",
        "学院审核",
        "academic",
        form="review",
        ui=True,
        due="P7D",
        deadline="7 天内",
    )
    d.xor("papers_decision", "试题审核意见", "academic")
    d.script(
        "papers_returned",
        "将试题返回函授站，告知原因",
        "academic",
        "papers_return_reason = reason",
    )
    d.xor("sampled", "是否有抽考课程", "academic")
    d.user(
        "sampled_papers",
        "抽考课目试题寄发函授站",
        "academic",
        form="teaching_management_sampled_papers",
        ui=True,
    )
    d.user("exam", "组织考试", "station", form="teaching_management_exam", ui=True)
    d.user(
        "marking",
        "阅卷评定成绩",
        "station",
        form="teaching_management_grades",
        ui=True,
        doc="录入本学期每个学生每门课程的考试成绩（60 分及格；缺考按不及格）。",
    )
    d.service(
        "marking_record",
        "登记成绩",
        "station",
        "teaching_record_grades",
        params={"grades": "grades"},
        result="grade_entry",
    )
    d.service(
        "roster",
        "确定参加学业进度评定的学生",
        "station",
        "teaching_progress_roster",
        result="progress_students",
    )
    d.call(
        "each_student",
        "学生学业进度（学期补考、留级、毕业清考、肄、结业）",
        "station",
        called=STUDENT,
        collection="progress_students",
        element="student",
        output="progress_outcomes",
        output_element="progress",
    )
    d.xor("graduating", "毕业学期", "station")
    d.service(
        "thesis_students",
        "确定毕业设计（论文）学生名单",
        "station",
        "teaching_thesis_students",
        params={"candidates": '[s["id"] for s in progress_students]'},
        result="students",
    )
    d.call("thesis", "毕业设计（论文）、答辩", "station", called="thesis")
    d.end("term_end", "本学期教学工作完毕，进入下一学期", "station")
    d.end("done", "教学计划完成，学生毕业", "station")

    d.chain("start", "plan", "task_list", "term_courses", "timetable", "arrangement")
    d.chain("arrangement", "arrangement_review", "arrangement_decision")
    d.flow("arrangement_decision", "arrangement", "未通过", REJECTED)
    d.flow("arrangement_decision", "teaching", "通过", APPROVED)
    d.chain("teaching", "papers", "papers_review", "papers_decision")
    d.flow("papers_decision", "papers_returned", "未通过", REJECTED)
    d.flow("papers_returned", "papers")
    d.flow("papers_decision", "sampled", "通过", APPROVED)
    d.flow(
        "sampled",
        "sampled_papers",
        "有抽考课程",
        'len([c for c in term_courses if c["sampled"]]) > 0',
    )
    d.flow("sampled", "exam", "无抽考课程", default=True)
    d.chain("sampled_papers", "exam", "marking", "marking_record", "roster", "each_student")
    d.flow("each_student", "graduating")
    d.flow("graduating", "thesis_students", "毕业学期", "graduating")
    d.flow("graduating", "term_end", "非毕业学期", default=True)
    d.chain("thesis_students", "thesis", "done")
    return d


def _makeup(d: Diagram, id: str, name: str, stage: str, doc: str) -> None:
    """A make-up sitting of one student's failed courses and its grades on the record; its
    sheet lists those courses (never an earlier sitting's scores)."""
    d.service(
        f"{id}_sheet",
        f"列出{name}课程",
        "station",
        "teaching_makeup_sheet",
        params={"stage": f'"{stage}"'},
        result="grades",
    )
    d.user(id, name, "station", form="teaching_management_makeup", ui=True, doc=doc)
    d.flow(f"{id}_sheet", id)
    d.service(
        f"{id}_record",
        f"登记{name}成绩",
        "station",
        "teaching_record_makeup",
        params={"stage": f'"{stage}"', "grades": "grades"},
        result="grade_entry",
    )
    d.flow(id, f"{id}_record")


def _judge(d: Diagram, id: str, name: str, stage: str) -> None:
    """Count the student's failed courses at a stage and decide by the progress rules."""
    d.service(
        f"{id}_count",
        name,
        "station",
        "teaching_count_failed",
        params={"stage": f'"{stage}"'},
        result="progress_item",
    )
    d.rule(f"{id}_rule", f"学业进度规则（{stage}）", "station", DECISION)
    d.flow(f"{id}_count", f"{id}_rule")


def _student() -> Diagram:
    d = Diagram(
        STUDENT,
        "学生学业进度",
        ["station", "academic"],
        documentation="每个学生一个：本学期成绩按学业进度规则（processes/teaching_progress.dmn）"
        "处理。及格；不及格课程少于 1/2 的参加学期补考；达到 1/2 的留级。毕业学期仍有不及格"
        "课程的参加毕业清考：清考后不及格课程少于 1/3 的参加最后一次补考，清考后仍有 1/3 课程"
        "不及格或最后一次补考仍不及格的肄、结业（已学完全部课程的结业，有课程未参加考核的"
        "肄业，由规则决定），并发出学生离校消息，在校生日常学籍管理据此归档学籍卡。"
        "学期补考仍不及格的课程留到毕业清考。"
        "按流程图（与 processes.md 不同之处）：学期补考、毕业清考、最后一次补考是函授站为"
        "该生办理的步骤，各有补考成绩登记表；最后一次补考仍不及格的也由规则决定肄业或结业"
        "（processes.md 写作一律结业）；肄、结业后发出学生离校。",
    )
    leave = d.message("msg_leave", "学生离校")
    d.start("s_start", "学生本学期成绩", "station")
    _judge(d, "s_term", "统计本学期不及格课程", "学期")
    d.xor("s_term_result", "阅卷评定成绩", "station")
    d.xor("s_term_failed", "不及格课程比例", "station")
    _makeup(
        d,
        "s_makeup",
        "学期补考",
        "学期补考",
        "该生本学期不及格课程少于 1/2：组织学期补考，录入每门不及格课程的补考成绩。",
    )
    d.service("s_repeat", "留级", "academic", "teaching_repeat", result="progress_record")
    d.end("s_repeated", "留级", "academic")
    d.xor("s_term_settled", "本学期成绩已定", "station")
    d.xor("s_graduating", "毕业学期", "station")
    d.end("s_next_term", "进入下一学期", "station")
    d.service(
        "s_all_count",
        "统计全部不及格课程",
        "station",
        "teaching_count_failed",
        params={"stage": '"毕业清考"'},
        result="progress_item",
    )
    d.xor("s_has_failed", "是否有不及格课程", "station")
    _makeup(
        d,
        "s_clearance",
        "毕业清考",
        "毕业清考",
        "毕业学期：该生仍有不及格课程，组织毕业清考，录入每门不及格课程的清考成绩。",
    )
    _judge(d, "s_cleared", "统计清考后不及格课程", "毕业清考")
    d.xor("s_clearance_result", "清考结果", "station")
    _makeup(
        d,
        "s_final",
        "最后一次补考",
        "最后一次补考",
        "清考后不及格课程少于 1/3：组织最后一次补考，录入每门不及格课程的成绩。",
    )
    _judge(d, "s_final_judged", "统计最后一次补考后不及格课程", "最后一次补考")
    d.xor("s_final_result", "最后一次补考结果", "station")
    d.end("s_graduate", "准予毕业", "station")
    d.service("s_conclude", "肄、结业", "academic", "teaching_conclude", result="progress_record")
    # 学生离校 for 3 在校生日常学籍管理 (its 学籍卡归档 catches it by the student).
    left = Node("s_left", "学生离校", "academic", "endEvent", "event")
    left.body.append(
        f'<bpmn:messageEventDefinition id="s_left_message" messageRef="{leave}">'
        "<bpmn:extensionElements><spiffworkflow:messagePayload>"
        '{"reason": progress, "remark": "教学管理：" + progress}'
        "</spiffworkflow:messagePayload></bpmn:extensionElements>"
        "</bpmn:messageEventDefinition>"
    )
    d._add(left)

    d.chain("s_start", "s_term_count")
    d.flow("s_term_rule", "s_term_result")
    d.flow("s_term_result", "s_term_settled", "及格", 'progress == "合格"')
    d.flow("s_term_result", "s_term_failed", "不及格", default=True)
    d.flow("s_term_failed", "s_makeup_sheet", "不及格课程少于 1/2", 'progress == "学期补考"')
    d.flow("s_term_failed", "s_repeat", "留级", default=True)
    d.flow("s_repeat", "s_repeated")
    d.flow("s_makeup_record", "s_term_settled")
    d.flow("s_term_settled", "s_graduating")
    d.flow("s_graduating", "s_all_count", "毕业学期", "graduating")
    d.flow("s_graduating", "s_next_term", "非毕业学期", default=True)
    d.flow("s_all_count", "s_has_failed")
    d.flow("s_has_failed", "s_graduate", "无不及格课程", 'progress_item["failed"] == 0')
    d.flow("s_has_failed", "s_clearance_sheet", "毕业清考", default=True)
    d.flow("s_clearance_record", "s_cleared_count")
    d.flow("s_cleared_rule", "s_clearance_result")
    d.flow("s_clearance_result", "s_graduate", "及格", 'progress == "合格"')
    d.flow(
        "s_clearance_result", "s_final_sheet", "不及格课程少于 1/3", 'progress == "最后一次补考"'
    )
    d.flow("s_clearance_result", "s_conclude", "清考后仍有 1/3 课程不及格", default=True)
    d.flow("s_final_record", "s_final_judged_count")
    d.flow("s_final_judged_rule", "s_final_result")
    d.flow("s_final_result", "s_graduate", "及格", 'progress == "合格"')
    d.flow("s_final_result", "s_conclude", "不及格", default=True)
    d.flow("s_conclude", "s_left")
    return d
