"""6 电子图像校对 — photo_verification (图像采集40天后).

Started by process 5 forty days after the collection (or by the registrar by hand) for a
station's cohort. Each student checks the published photo and data in
`photo_verification_student`; an error loops back to the check for that student only, and a
confirmation marks the photo 已校对 for 7's 照片审核.
"""

from tools.diagrams.builder import Diagram


def build() -> list[Diagram]:
    return [_cohort(), _student()]


def _cohort() -> Diagram:
    d = Diagram(
        "photo_verification",
        "电子图像校对",
        ["registrar", "photo_agency", "chsi", "student"],
        documentation="图像采集40天后：新华图片社报送、网络中心上网，学生逐个上网校对。",
    )
    d.start("collected", "图像采集40天后", "registrar", form="photo_verification_start", ui=True)
    d.user(
        "submit",
        "新华图片社将采集的电子图片报送教育部网络中心",
        "photo_agency",
        form="photo_verification_submit",
        due="P14D",
        deadline="14 天内",
    )
    d.user(
        "publish",
        "网络中心将图片上网",
        "chsi",
        form="photo_verification_publish",
        due="P14D",
        deadline="14 天内",
    )
    d.call(
        "each_student",
        "学生上网校对",
        "student",
        called="photo_verification_student",
        collection="students",
        element="student",
        output="results",
        output_element="result",
    )
    d.end("done", "电子图像校对工作完毕", "registrar")
    d.chain("collected", "submit", "publish", "each_student", "done")
    return d


def _student() -> Diagram:
    d = Diagram(
        "photo_verification_student",
        "学生电子图像校对",
        ["registrar", "student", "station"],
        documentation="一名学生上网校对电子图像和个人信息；有误时修改后重新校对。"
        "照片有误时由函授站联系新华图片社（种子：“联系新华图片社”是联系图片社的人的任务，"
        "不是图片社自己的；processes.md 把它给了新华图片社，此处按种子改为函授站）。",
    )
    d.start("listed", "列入校对名单", "registrar")
    d.user(
        "check",
        "学生上网校对个人信息",
        "student",
        form="photo_verification_check",
        ui=True,
        due="P14D",
        deadline="14 天内",
        doc="登录网络中心网站，核对本人电子照片及姓名、身份证号等信息。",
    )
    d.xor("correct", "校对结果", "student")
    d.user(
        "confirm",
        "学生点击确认",
        "student",
        form="photo_verification_confirm",
        due="P7D",
        deadline="7 天内",
    )
    d.service(
        "record_verified",
        "记录图像校对结果",
        "student",
        "photo_verified",
        params={"student": "student"},
        result="result",
    )
    d.end("verified", "校对完毕，图像信息可供学历上网使用", "student")
    d.user(
        "opinion",
        "学生在线提交修改意见",
        "student",
        form="photo_verification_opinion",
        ui=True,
        due="P7D",
        deadline="7 天内",
    )
    d.xor("error_kind", "有误类别", "student")
    d.user(
        "fix_photo",
        "联系新华图片社",
        "station",
        form="photo_verification_fix",
        due="P14D",
        deadline="14 天内",
        doc="照片有误：函授站联系新华图片社重新拍摄或修正照片，收到后上传新照片，学生重新校对。",
    )
    d.service(
        "record_retake",
        "更换电子照片",
        "station",
        "photo_retaken",
        params={"student": "student"},
        result="retaken_photo",
    )
    d.user(
        "station_confirm",
        "函授站在线审核确认",
        "station",
        form="photo_verification_station",
        due="P7D",
        deadline="7 天内",
        doc="在线审核学生提交的修改意见并确认。学籍记录本身有误的，"
        "须由学生另行提出学籍异动（个人信息更正）申请。",
    )
    d.chain("listed", "check", "correct")
    d.flow("correct", "confirm", "正确", 'outcome == "correct"')
    d.flow("correct", "opinion", "有误", 'outcome == "wrong"')
    d.chain("confirm", "record_verified", "verified")
    d.flow("opinion", "error_kind")
    d.flow("error_kind", "fix_photo", "照片有误", 'outcome == "photo_wrong"')
    d.flow("error_kind", "station_confirm", "其他信息有误", 'outcome == "other_wrong"')
    d.chain("fix_photo", "record_retake", "check")
    d.flow("station_confirm", "check")
    return d
