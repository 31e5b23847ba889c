"""5 电子图像采集 — photo_collection (毕业前一年, one per station and graduating cohort).

The registrar starts it for a station and a graduation year; the list comes from the records.
Each student of the list runs `photo_collection_student` (统一拍摄 or 未统一拍摄); when the
station has reported, the process waits 40 days (图像采集40天后) and starts process 6
(photo_verification) for the same students.
"""

from tools.diagrams.builder import Diagram

UNIFIED = 'outcome == "unified"'
INDIVIDUAL = 'outcome == "individual"'


def build() -> list[Diagram]:
    return [_cohort(), _student()]


def _cohort() -> Diagram:
    d = Diagram(
        "photo_collection",
        "电子图像采集",
        ["registrar", "station", "student"],
        documentation="毕业前一年，按函授站和毕业年份采集毕业生电子图像；"
        "采集 40 天后启动电子图像校对。",
    )
    d.start("cohort", "毕业前一年", "registrar", form="photo_collection_start", ui=True)
    d.service(
        "list_graduates",
        "编制毕业生电子图像采集名单",
        "registrar",
        "photo_collection_list",
        params={"station": "station", "year": "year"},
        result="students",
    )
    d.user(
        "arrange",
        "函授站联系新华图片社确定电子图像采集时间、地点",
        "station",
        form="photo_collection_arrange",
        due="P14D",
        deadline="14 天内",
        doc="与新华图片社商定统一拍摄的时间、地点；确定后系统生成采集名单（签字表）。",
    )
    d.service(
        "roster",
        "打印毕业生电子图像采集名单",
        "station",
        "photo_collection_roster",
        params={"students": "students"},
        result="roster",
    )
    d.call(
        "each_student",
        "学生电子图像采集",
        "student",
        called="photo_collection_student",
        collection="students",
        element="student",
        output="results",
        output_element="result",
    )
    d.user(
        "report",
        "函授站整理学生电子图片信息，上报学院",
        "station",
        form="photo_collection_report",
        due="P14D",
        deadline="14 天内",
    )
    d.timer("wait_40_days", "图像采集40天后", "registrar", duration='"P40D"')
    d.service(
        "start_verification",
        "启动电子图像校对",
        "registrar",
        "photo_verification_start",
        result="verification",
    )
    d.end("done", "电子图像采集工作完毕", "registrar")
    d.chain(
        "cohort",
        "list_graduates",
        "arrange",
        "roster",
        "each_student",
        "report",
        "wait_40_days",
        "start_verification",
        "done",
    )
    return d


def _student() -> Diagram:
    d = Diagram(
        "photo_collection_student",
        "学生电子图像采集",
        ["registrar", "student", "photo_agency"],
        documentation="采集名单中的一名学生：核实信息、填涂采集卡、统一拍摄或自行散拍。",
    )
    d.start("listed", "列入采集名单", "registrar")
    d.service(
        "load_record",
        "调取学生学籍信息",
        "student",
        "photo_student_info",
        params={"student": "student"},
        result="info",
    )
    d.user(
        "verify_info",
        "学生核实个人信息并签字确认",
        "student",
        form="photo_collection_verify",
        ui=True,
        due="before:collection_date:P1D",
        deadline="采集日前一天",
        doc="请核对学籍信息（姓名、性别、身份证号、层次、专业），无误后签字确认；"
        "如有错误请在备注中说明，并另行提出学籍异动（个人信息更正）申请。",
    )
    d.user(
        "fill_card",
        "学生填涂毕业生电子图像采集卡",
        "student",
        form="photo_collection_card",
        ui=True,
        due="before:collection_date:P1D",
        deadline="采集日前一天",
        doc="按身份证填涂采集卡，并选择是否参加统一拍摄。",
    )
    d.xor("shooting", "是否统一拍摄", "student")
    d.user("shoot", "拍摄电子照片", "photo_agency", form="photo_collection_shoot")
    d.user(
        "mail",
        "新华图片社寄送纸质相片和电子光盘",
        "photo_agency",
        form="photo_collection_mail",
        due="P30D",
        deadline="30 天内",
    )
    d.user(
        "self_shoot",
        "学生自行散拍",
        "student",
        form="photo_collection_self",
        due="P30D",
        deadline="30 天内",
    )
    d.user(
        "retrieve",
        "个人取回电子图片信息",
        "student",
        form="photo_collection_retrieve",
        due="P14D",
        deadline="14 天内",
        doc="到新华图片社网点取回本人电子图片，上传后填写图片编号。",
    )
    # The photo is recorded as soon as it is in hand, so that a wrong upload is refused to
    # whoever handed it in.
    for path, lane in (("unified", "photo_agency"), ("individual", "student")):
        d.service(
            f"record_{path}",
            "记录电子图像采集结果",
            lane,
            "photo_collected",
            params={"student": "student"},
            result="result",
        )
    d.end("collected", "学生电子图像采集完毕", "student")
    d.chain("listed", "load_record", "verify_info", "fill_card", "shooting")
    d.flow("shooting", "shoot", "统一拍摄", UNIFIED)
    d.flow("shooting", "self_shoot", "未统一拍摄", INDIVIDUAL)
    d.chain("shoot", "record_unified", "mail", "collected")
    d.chain("self_shoot", "retrieve", "record_individual", "collected")
    return d
