"""Documents a step generates (rosters, sheets, lists), kept as uploads of its instance."""

from __future__ import annotations

from typing import Any

from xueji.instances.context import StepContext
from xueji.models import Upload
from xueji.uploads.service import XLSX, content_of, store_generated
from xueji.uploads.storage import storage_for


def store_document(
    step: StepContext,
    file_name: str,
    document: Any,
    station_id: int | None,
    student_id: int | None = None,
    content_type: str = XLSX,
) -> int:
    """Keep a generated XLSX (an openpyxl workbook, or its bytes) as an upload of this step's
    instance, readable by whoever may read the instance; its upload id."""
    return store_generated(
        step.session,
        storage_for(step.settings),
        file_name,
        document,
        instance_id=step.instance_id,
        actor=step.actor,
        station_id=station_id,
        student_id=student_id,
        content_type=content_type,
    )


def upload_content(step: StepContext, upload: Upload) -> bytes:
    """The bytes of an upload a step reads (a station's 标准库 file)."""
    return content_of(upload, storage_for(step.settings))
