"""POST /messages: deliver a message to the instances waiting for it, or start a process."""

from __future__ import annotations

from fastapi import APIRouter

from xueji.auth.dependencies import CurrentUser
from xueji.db.dependencies import DbSession
from xueji.messages import service
from xueji.messages.schemas import MessageBody, MessageResult
from xueji.runtime import AppRuntime

router = APIRouter(tags=["messages"])


@router.post(
    "/messages",
    response_model=MessageResult,
    responses={
        403: {"description": "No element catching this message lets your roles send it"},
        404: {
            "description": "Nothing you may reach waits for it with this correlation, and "
            "nothing starts on it; the body names the message and the correlation"
        },
        422: {
            "description": "Correlation values of the wrong type, a payload that fails the "
            "catching element's form (each field named), or the step failed"
        },
    },
)
def send_message(
    body: MessageBody, session: DbSession, principal: CurrentUser, runtime: AppRuntime
) -> MessageResult:
    """Deliver a message to the waiting instances whose correlation values match, or start
    the processes whose message start event catches it; all in one transaction."""
    return service.send(session, runtime, principal, body.name, body.correlation, body.payload)
