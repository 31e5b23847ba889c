"""One error base carrying its HTTP status; one subclass per case the API reports."""

from __future__ import annotations

from typing import Any


class XuejiError(Exception):
    status_code = 500
    error = "InternalError"
    # Response headers the case needs (e.g. Retry-After); the app's handler adds them.
    headers: dict[str, str] | None = None

    def __init__(self, detail: Any = None):
        self.detail = detail if detail is not None else self.__doc__
        super().__init__(str(self.detail))


class NotAuthenticated(XuejiError):
    """Missing or invalid credentials."""

    status_code = 401
    error = "NotAuthenticated"


class Forbidden(XuejiError):
    """You may not do this."""

    status_code = 403
    error = "Forbidden"


class PasswordChangeRequired(Forbidden):
    """The account's password was reset or is a one-time one: choose a new one first."""

    error = "PasswordChangeRequired"


class NotFound(XuejiError):
    """No such object, or it is not yours to see."""

    status_code = 404
    error = "NotFound"


class Conflict(XuejiError):
    """The object changed under you (completed, claimed or moved on)."""

    status_code = 409
    error = "Conflict"


class ConcurrentChange(Conflict):
    """A concurrent transaction on the same cases won (the database broke a deadlock by
    rolling this one back): nothing was saved; retry."""

    headers = {"Retry-After": "1"}


class BusinessKeyInUse(Conflict):
    """An unfinished case of the same process has this business key already."""

    error = "BusinessKeyInUse"


class TooManyAttempts(XuejiError):
    """Too many failed logins; wait `Retry-After` seconds before trying again."""

    status_code = 429
    error = "TooManyAttempts"

    def __init__(self, retry_after: int, detail: Any = None):
        super().__init__(detail)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class InvalidInput(XuejiError):
    """The input fails validation; `detail` lists each problem."""

    status_code = 422
    error = "InvalidInput"


class DeploymentInvalid(InvalidInput):
    """A diagram, decision table or form cannot be deployed."""

    error = "DeploymentInvalid"


class FormInvalid(InvalidInput):
    """Submitted data does not satisfy the task's form."""

    error = "FormInvalid"


class ServiceError(InvalidInput):
    """A business rule refused the step; `detail` is the sentence the person reads."""

    error = "ServiceError"
    # A stable English code of the case, for clients that act on it (None: the sentence only).
    code: str | None = None

    def __init__(self, detail: Any = None, code: str | None = None):
        super().__init__(detail)
        if code is not None:
            self.code = code


class StatusChangeConflict(ServiceError):
    """A 学籍异动 application conflicts with the student's status or open applications."""

    error = "StatusChangeConflict"


class CascadeTooDeep(InvalidInput):
    """Instances starting or messaging each other went deeper than the limit."""

    error = "CascadeTooDeep"


class EngineStepFailed(InvalidInput):
    """An engine step failed (script error, no gateway condition true); nothing was changed."""

    error = "EngineStepFailed"

    def __init__(self, detail: Any = None, incident: dict[str, Any] | None = None):
        super().__init__(detail)
        # Recorded by the request's session handler after the rollback.
        self.incident = incident


class StepCrashed(XuejiError):
    """A step failed on a bug of ours (not the diagram's, not the user's); nothing was changed.

    Answered as a 500 with a request id; the traceback goes to the log and the incident,
    built from values read before the step ran, is kept after the rollback."""

    error = "InternalError"

    def __init__(self, detail: Any = None, incident: dict[str, Any] | None = None):
        super().__init__(detail)
        self.incident = incident
