"""Every ORM class; Alembic's autogenerate and the drift test read `Base.metadata` from here."""

from xueji.db.base import Base
from xueji.models.auth import ApiToken, Role, User, user_roles
from xueji.models.definitions import Deployment, Form, ProcessDefinition
from xueji.models.events import OutboxEvent, Webhook, WebhookDelivery
from xueji.models.history import HistoryEvent
from xueji.models.imports import ImportJob
from xueji.models.instances import Incident, ProcessInstance
from xueji.models.operations import AuditEntry, WorkerHeartbeat
from xueji.models.records import (
    Admission,
    Attachment,
    Course,
    Grade,
    Major,
    SchoolClass,
    Sequence,
    Station,
    StatusChange,
    Student,
    ThesisResult,
    Upload,
)
from xueji.models.states import UNFINISHED, InstanceState, TimerState, UserTaskState
from xueji.models.tasks import UserTask
from xueji.models.timers import Timer

__all__ = [
    "UNFINISHED",
    "InstanceState",
    "TimerState",
    "UserTaskState",
    "Admission",
    "Attachment",
    "ImportJob",
    "Course",
    "Grade",
    "Major",
    "SchoolClass",
    "Sequence",
    "StatusChange",
    "ThesisResult",
    "Upload",
    "OutboxEvent",
    "Webhook",
    "WebhookDelivery",
    "ApiToken",
    "AuditEntry",
    "WorkerHeartbeat",
    "Base",
    "Deployment",
    "Form",
    "HistoryEvent",
    "Incident",
    "ProcessDefinition",
    "ProcessInstance",
    "Role",
    "Station",
    "Student",
    "Timer",
    "User",
    "UserTask",
    "user_roles",
]
