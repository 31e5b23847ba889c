"""3 在校生日常学籍管理 — daily_records (学生在校期间, one per enrolled student).

The seed's four activities are all steps: 学生学籍信息查询 and 学生学籍数据统计 read the
student's record and the station's counts into the case (with links to the records pages
/students/{id} and /statistics, which serve them at any time), when the case starts and after
every status change. 学生学籍异动处理 waits for the student's application (message
学籍异动申请) and runs process 4 for it, as often as the student applies; 学生学籍卡归档
follows the message 学生离校 (sent by 7 when the student graduates), or a status change
that ends the student's studies (退学).
"""

from tools.diagrams.builder import Diagram

LEFT = 'student_status in ("退学", "毕业", "结业", "肄业")'


def build() -> Diagram:
    d = Diagram(
        "daily_records",
        "在校生日常学籍管理",
        ["student", "station", "registrar"],
        documentation="学生在校期间的日常学籍管理（按种子流程图的四项）：学生学籍信息查询、"
        "学生学籍数据统计（开始时和每次学籍异动后读取学籍记录与本站本年级的统计，"
        "随时可在学籍记录页 /students/{学生} 和统计页 /statistics 查看）；学生学籍异动处理"
        "（学生提出申请，按学籍异动流程办理，可多次）；学生学籍卡归档（学生离校时由函授站归档，"
        "流程结束；毕业生学历电子注册在学生毕业时发出学生离校消息）。"
        "processes.md 把数据统计、信息查询只作为接口，种子画的是四个方框，此处按种子作为步骤。",
    )
    change = d.message("msg_status_change", "学籍异动申请")
    leave = d.message("msg_leave", "学生离校")
    d.start("enrolled", "学生在校期间", "station", form="daily_records_start", ui=True)
    d.service(
        "check_student",
        "核对在籍学生",
        "station",
        "check_enrolled_student",
        result="student_status",
    )
    d.service(
        "query",
        "学生学籍信息查询",
        "station",
        "student_record_query",
        result="record",
    )
    d.service(
        "statistics",
        "学生学籍数据统计",
        "station",
        "student_record_statistics",
        result="statistics",
    )
    d.event_gateway("wait", "等待学籍事件", "station")
    d.catch(
        "change_requested",
        "学籍异动申请",
        "student",
        change,
        correlation="student",
        variable="application",
        form="status_change_apply",
    )
    d.script(
        "take_application",
        "接收异动申请",
        "registrar",
        "kind = application['kind']\n"
        "reason = application['reason']\n"
        "effective_term = application['effective_term']\n"
        "target_major = application.get('target_major')\n"
        "target_station = application.get('target_station')\n"
        "corrections = application.get('corrections')",
    )
    d.call("change", "学生学籍异动处理", "registrar", called="status_change")
    d.service("read_status", "查询学籍状态", "registrar", "student_status", result="student_status")
    d.xor("still_enrolled", "是否离校", "registrar")
    d.catch(
        "leaving",
        "学生离校",
        "station",
        leave,
        correlation="student",
        variable="departure",
        form="daily_records_leave",
    )
    d.user(
        "archive",
        "学生学籍卡归档",
        "station",
        form="daily_records_archive",
        ui=True,
        due="P30D",
        deadline="30 天内",
        doc="学生已离校：请整理学生学籍卡及相关材料，归档并登记档案号。",
    )
    d.end("archived", "学籍卡归档完毕", "station")
    d.chain("enrolled", "check_student", "query", "statistics", "wait")
    d.flow("wait", "change_requested")
    d.flow("wait", "leaving")
    d.chain("change_requested", "take_application", "change", "read_status", "still_enrolled")
    d.flow("still_enrolled", "archive", "已离校", LEFT)
    d.flow("still_enrolled", "query", "在校", default=True)
    d.chain("leaving", "archive", "archived")
    return d
