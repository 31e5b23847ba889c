"""10 教学管理 — teaching_management (one per station and term); calls 9 毕业设计（论文）.

The academic progress rules (学期补考 / 留级, 毕业清考, 最后一次补考) are the decision table
processes/teaching_progress.dmn. After each grade sheet (the term's exams, 毕业清考, 最后一次补考)
a service counts each student's failed courses, one businessRuleTask evaluates the table per
student (SpiffWorkflow's parallel multi-instance), and a service applies the outcomes; the
three stages share these elements, so the table is evaluated in one place.
"""

from tools.diagrams.builder import Diagram

APPROVED = 'outcome == "approved"'
REJECTED = 'outcome == "rejected"'
DECISION = "teaching_progress"


def build() -> Diagram:
    d = Diagram(
        "teaching_management",
        "教学管理",
        ["station", "academic"],
        documentation="函授站每学期的教学管理：教学计划、学期任务表与抽考课程、课程表、"
        "面授、命题与审核、考试与阅卷；成绩按学业进度规则处理（学期补考、留级、毕业清考），"
        "毕业学期组织毕业设计（论文）、答辩。",
    )
    d.start("start", "教学管理工作开始", "station", form="teaching_management_start", ui=True)
    d.user(
        "plan",
        "制定、修订教学计划",
        "station",
        form="teaching_management_plan",
        ui=True,
        due="03-15",
        deadline="3 月 15 日前",
        doc="3 月 15 日前完成。",
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
    d.user(
        "clearance",
        "毕业清考",
        "station",
        form="teaching_management_grades",
        ui=True,
        doc="录入清考成绩：每个仍有不及格课程的学生、每门不及格课程。",
    )
    d.user(
        "final",
        "最后一次补考",
        "station",
        form="teaching_management_grades",
        ui=True,
        doc="录入最后一次补考成绩；仍不及格的按结业处理。",
    )
    for entry, stage in (("marking", "学期"), ("clearance", "毕业清考"), ("final", "最后一次补考")):
        d.service(
            f"{entry}_record",
            "登记成绩",
            "station",
            "teaching_record_grades",
            params={"stage": f'"{stage}"', "grades": "grades"},
            result="grade_entry",
        )
        d.chain(entry, f"{entry}_record", "count")
    d.service(
        "count",
        "统计不及格课程",
        "station",
        "teaching_count_failed",
        params={"stage": 'grade_entry["stage"]'},
        result="progress_inputs",
    )
    d.rule("progress_rule", "学业进度规则", "station", DECISION)
    # Once per student: SpiffWorkflow's own parallel multi-instance (the variable names are
    # what processes/teaching_progress.dmn reads and writes).
    d.nodes["progress_rule"].attrs["loop"] = "\n".join(
        [
            "<bpmn:multiInstanceLoopCharacteristics>",
            "<bpmn:loopDataInputRef>progress_inputs</bpmn:loopDataInputRef>",
            "<bpmn:loopDataOutputRef>progress_outcomes</bpmn:loopDataOutputRef>",
            '<bpmn:inputDataItem id="progress_item" name="progress_item" />',
            '<bpmn:outputDataItem id="progress" name="progress" />',
            "</bpmn:multiInstanceLoopCharacteristics>",
        ]
    )
    d.service(
        "apply",
        "学期补考、留级、最后一次补考、肄、结业",
        "station",
        "teaching_apply_progress",
        params={
            "stage": 'grade_entry["stage"]',
            "inputs": "progress_inputs",
            "outcomes": "progress_outcomes",
        },
        result="progress_results",
    )
    d.xor("stage_route", "成绩阶段", "station")
    d.xor("graduating", "毕业学期", "station")
    d.xor("final_needed", "不及格课程少于 1/3", "station")
    d.service(
        "thesis_students",
        "确定毕业设计（论文）学生名单",
        "station",
        "teaching_thesis_students",
        params={"candidates": 'progress_results["毕业清考"]["students"]'},
        result="students",
    )
    d.call("thesis", "毕业设计（论文）、答辩", "station", called="thesis")
    d.end("term_end", "教学计划完成", "station")
    d.end("done", "教学计划完成 → 学生毕业", "station")

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
    d.chain("sampled_papers", "exam", "marking")
    d.chain("count", "progress_rule", "apply", "stage_route")
    d.flow("stage_route", "graduating", "学期", 'grade_entry["stage"] == "学期"')
    d.flow("stage_route", "final_needed", "毕业清考", 'grade_entry["stage"] == "毕业清考"')
    d.flow("stage_route", "thesis_students", "最后一次补考", default=True)
    d.flow("graduating", "clearance", "毕业清考", "graduating")
    d.flow("graduating", "term_end", "非毕业学期", default=True)
    d.flow(
        "final_needed",
        "final",
        "最后一次补考",
        'len(progress_results["毕业清考"]["最后一次补考"]) > 0',
    )
    d.flow("final_needed", "thesis_students", "无需补考", default=True)
    d.chain("thesis_students", "thesis", "done")
    return d
