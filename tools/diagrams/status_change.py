"""4 学籍异动 — status_change (one per application) — 在规定时间内办理."""

from tools.diagrams.builder import Diagram

APPROVED = 'outcome == "approved"'
REJECTED = 'outcome == "rejected"'


def build() -> Diagram:
    d = Diagram(
        "status_change",
        "学籍异动",
        ["student", "station", "registrar", "leader", "province_edu"],
        documentation="学籍异动：休学、复学、退学、转专业、转函授站、个人信息更正。"
        "每一步在规定时间内办理（7 天），逾期提醒。",
    )
    d.start("apply", "学生提出学籍异动书面申请", "student", form="status_change_apply", ui=True)
    # Later reviews have their own `reason`; the application is kept apart so they cannot
    # overwrite what the student asked for.
    d.service(
        "keep_application",
        "登记异动申请",
        "student",
        "keep_status_change_application",
        result="application",
    )
    d.user(
        "fill_form",
        "填写学籍异动审批表",
        "student",
        form="status_change_form",
        ui=True,
        due="P7D",
        deadline="7 天内",
        doc="请填写学籍异动审批表，并上传相关证明材料（扫描件）。",
    )
    d.user(
        "station_review",
        "函授站签署审核意见",
        "station",
        form="review",
        ui=True,
        due="P7D",
        deadline="7 天内",
    )
    d.xor("station_decision", "函授站审核意见", "station")
    d.end("station_rejected", "退回申请，告知原因", "station")
    d.user(
        "college_review",
        "学院审核",
        "registrar",
        form="review",
        ui=True,
        due="P7D",
        deadline="7 天内",
    )
    d.xor("college_decision", "学院审核意见", "registrar")
    d.end("college_rejected", "退回申请，告知原因", "registrar")
    d.user(
        "leader_sign",
        "学籍主管领导签批",
        "leader",
        form="status_change_sign",
        due="P7D",
        deadline="7 天内",
    )
    d.user(
        "province_filing",
        "报教育厅审核备案",
        "province_edu",
        form="status_change_filing",
        due="P7D",
        deadline="7 天内",
    )
    d.user(
        "feedback",
        "审批结果反馈给函授站",
        "registrar",
        form="status_change_feedback",
        due="P7D",
        deadline="7 天内",
    )
    d.user(
        "update_record",
        "修改学院学籍管理信息系统中学生个人信息",
        "registrar",
        form="status_change_update",
        due="P7D",
        deadline="7 天内",
        doc="确认后，系统按申请内容修改学生学籍记录（同一事务）。",
    )
    d.service("apply_change", "更新学籍记录", "registrar", "apply_status_change")
    d.end("done", "学籍异动工作完毕", "registrar")
    d.chain("apply", "keep_application", "fill_form", "station_review", "station_decision")
    d.flow("station_decision", "station_rejected", "未通过", REJECTED)
    d.flow("station_decision", "college_review", "通过", APPROVED)
    d.flow("college_review", "college_decision")
    d.flow("college_decision", "college_rejected", "未通过", REJECTED)
    d.flow("college_decision", "leader_sign", "通过", APPROVED)
    d.chain("leader_sign", "province_filing", "feedback", "update_record", "apply_change", "done")
    return d
