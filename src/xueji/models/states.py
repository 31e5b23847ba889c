"""The states an instance, a user task and a timer row can be in (stored as their values)."""

from __future__ import annotations

from enum import StrEnum


class InstanceState(StrEnum):
    RUNNING = "running"
    SUSPENDED = "suspended"
    ERROR = "error"
    COMPLETED = "completed"
    TERMINATED = "terminated"
    # A terminated child an administrator counted as done, with outputs they gave.
    SKIPPED = "skipped"
    # A terminated child an administrator started again (the new child replaces it).
    REPLACED = "replaced"


# An instance in these states may still move on.
UNFINISHED = (InstanceState.RUNNING, InstanceState.SUSPENDED, InstanceState.ERROR)


class UserTaskState(StrEnum):
    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TimerState(StrEnum):
    PENDING = "pending"
    FIRED = "fired"
    CANCELLED = "cancelled"
    # Its step failed on every attempt; an administrator may retry it.
    FAILED = "failed"
