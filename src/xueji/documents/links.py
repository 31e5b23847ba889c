"""Which documents a process step needs, as links its task shows (GET /tasks/{id}
`documents`): generated from the case's data when followed."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

# (process key, user task id) → the documents the step works from: title and URL template
# filled from the case (instance_id, student_id), its variables (year, season, station) and the
# class 新生编班 put the student in (class_id, from class_documents).
APPROVAL_FORM = "/api/v1/documents/status-change/{instance_id}"
STEP_DOCUMENTS: dict[tuple[str, str], list[tuple[str, str]]] = {
    **{
        ("status_change", step): [("学籍异动审批表", APPROVAL_FORM)]
        for step in ("leader_sign", "province_filing", "update_record")
    },
    ("enrollment_checkin", "print_documents"): [
        ("班级学籍注册名单", "/api/v1/documents/class-roster/{class_id}?format=pdf"),
        ("班级学籍注册名单（XLSX）", "/api/v1/documents/class-roster/{class_id}?format=xlsx"),
        ("新生报到情况统计表", "/api/v1/documents/checkin-statistics?intake={year}&format=pdf"),
        ("新生报到情况统计表（XLSX）",
         "/api/v1/documents/checkin-statistics?intake={year}&format=xlsx"),
    ],
    ("daily_records", "archive"): [("学籍卡", "/api/v1/documents/student-card/{student_id}")],
    ("graduation_registration", "print_stamp_roster"): [
        ("预毕业生验印名单",
         "/api/v1/documents/seal-verification?year={year}&season={season}&format=pdf"),
        ("预毕业生验印名单（XLSX）",
         "/api/v1/documents/seal-verification?year={year}&season={season}&format=xlsx"),
    ],
    **{
        ("photo_collection", step): [
            ("毕业生电子图像采集名单",
             "/api/v1/documents/photo-collection?year={year}&station={station}"),
        ]
        for step in ("arrange", "report")
    },
    ("photo_collection_student", "fill_card"): [
        ("毕业生电子图像采集卡", "/api/v1/documents/photo-card/{student_id}"),
    ],
}  # fmt: skip


def step_documents(
    process_key: str,
    element_id: str,
    instance_id: str,
    student_id: int | None,
    variables: dict[str, Any],
) -> list[dict[str, str]]:
    """The step's document links, leaving out those whose case lacks what the URL needs."""
    values = {
        "instance_id": instance_id,
        "student_id": student_id,
        **{k: variables.get(k) for k in ("year", "season", "station")},
        "class_id": (variables.get("class_documents") or {}).get("class_id"),
    }
    links = []
    for title, template in STEP_DOCUMENTS.get((process_key, element_id), []):
        needed = [name for name in values if "{" + name + "}" in template]
        if any(values[name] in (None, "") for name in needed):
            continue
        url = template.format(**{k: quote(str(v)) for k, v in values.items()})
        links.append({"title": title, "url": url})
    return links
