"""4 学籍异动 — status_change (one per application) — 在规定时间内办理.

Where ../shared/spec/processes.md differs, the seed is followed (see `documentation`):
报教育厅审核备案 is the college's registrar's task (the college 报s to the 教育厅, who answers
with a 备案 number the registrar records), and the change takes effect on its 生效日期 rather
than on the day of the last approval.
"""

from tools.diagrams.builder import Diagram

APPROVED = 'outcome == "approved"'
REJECTED = 'outcome == "rejected"'


def build() -> Diagram:
    d = Diagram(
        "status_change",
        "学籍异动",
        ["student", "station", "registrar", "leader"],
        documentation="学籍异动：休学、复学、退学、转专业、转函授站、个人信息更正。"
        "每一步在规定时间内办理（7 天），逾期提醒。"
        "学生提出申请时即核对：已休学者不能再申请休学，未休学者不能申请复学，同一类别的申请"
        "未办结时不能再申请，休学与复学不能同时申请（均退回并说明原因）。"
        "报教育厅审核备案由学院学籍管理员办理（学院上报教育厅，登记教育厅的备案编号），"
        "按流程图，不设省教育厅泳道。"
        "修改学籍时先列出将要做的修改（修改前 → 修改后、生效日期）供核对确认；"
        "异动自生效学期开始之日（春季 3 月 1 日、秋季 9 月 1 日）生效：日期未到时等到该日"
        "再修改学籍记录，日期已过则确认后即修改。",
    )
    d.start("apply", "学生提出学籍异动书面申请", "student", form="status_change_apply", ui=True)
    # Later reviews have their own `reason`; the application is kept apart so they cannot
    # overwrite what the student asked for. A conflicting application is refused here.
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
        "registrar",
        form="status_change_filing",
        due="P7D",
        deadline="7 天内",
        doc="学院将异动材料报省教育厅审核备案，登记报送日期和教育厅的备案编号。",
    )
    d.user(
        "feedback",
        "审批结果反馈给函授站",
        "registrar",
        form="status_change_feedback",
        due="P7D",
        deadline="7 天内",
    )
    d.service(
        "preview",
        "列出学籍修改内容",
        "registrar",
        "preview_status_change",
        result="change_preview",
    )
    d.user(
        "update_record",
        "修改学院学籍管理信息系统中学生个人信息",
        "registrar",
        form="status_change_update",
        ui=True,
        due="P7D",
        deadline="7 天内",
        doc="请核对将要做的修改（修改前 → 修改后、生效日期）；确认后，系统于生效日期按此"
        "修改学生学籍记录。",
    )
    d.service(
        "effective_at",
        "确定生效日期",
        "registrar",
        "status_change_effective_at",
        result="effective",
    )
    d.xor("effective_reached", "是否已到生效日期", "registrar")
    d.timer("effective_date", "生效日期", "registrar", date='effective["at"]')
    d.service("apply_change", "更新学籍记录", "registrar", "apply_status_change")
    d.end("done", "学籍异动工作完毕", "registrar")
    d.chain("apply", "keep_application", "fill_form", "station_review", "station_decision")
    d.flow("station_decision", "station_rejected", "未通过", REJECTED)
    d.flow("station_decision", "college_review", "通过", APPROVED)
    d.flow("college_review", "college_decision")
    d.flow("college_decision", "college_rejected", "未通过", REJECTED)
    d.flow("college_decision", "leader_sign", "通过", APPROVED)
    d.chain("leader_sign", "province_filing", "feedback", "preview", "update_record")
    d.chain("update_record", "effective_at", "effective_reached")
    d.flow("effective_reached", "apply_change", "已到生效日期", 'effective["due"]')
    d.flow("effective_reached", "effective_date", "未到生效日期", default=True)
    d.chain("effective_date", "apply_change", "done")
    return d
