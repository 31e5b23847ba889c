"""Upload responses."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class UploadOut(BaseModel):
    id: int
    file_name: str
    content_type: str = Field(description="Sniffed from the bytes: JPEG, PNG, PDF or XLSX")
    size: int
    sha256: str
    station: str | None = Field(description="Code of the station the file belongs to")
    student: int | None = Field(description="Id of the student the file is about")
    instance_id: str | None = Field(description="The process instance that generated it")
    generated: bool
    uploaded_by: str
    created_at: datetime
