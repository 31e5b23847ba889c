"""What a service task receives about the step it runs in (its first argument)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from xueji.config import Settings
from xueji.errors import NotFound, ServiceError
from xueji.models import ProcessDefinition, ProcessInstance, Station

# start(definition, variables, *, station_id, student_id, business_key) -> the new instance
StartProcess = Callable[..., ProcessInstance]
# send(name, correlation, payload) -> None: delivers a message to the instances waiting for it
SendMessage = Callable[[str, dict[str, Any], dict[str, Any]], None]


def _cannot_send(name: str, correlation: dict[str, Any], payload: dict[str, Any]) -> None:
    raise ServiceError(f"this step cannot send the message {name!r}")


@dataclass(frozen=True)
class StepContext:
    session: Session
    instance_id: str
    actor: str
    settings: Settings
    # Starts another process from inside this step (xueji.instances.flows.create_instance),
    # as one more link of the step's cascade, so that its depth limit holds.
    start: StartProcess
    # Sends a message from inside this step (xueji.instances.flows), with the instance's scope,
    # as one more link of the cascade; a message nobody waits for is kept in the history.
    send: SendMessage = _cannot_send

    def instance(self) -> ProcessInstance:
        """The instance whose step this is (its row exists before its first step)."""
        instance = self.session.get(ProcessInstance, self.instance_id)
        if instance is None:
            raise NotFound(f"no process instance {self.instance_id!r}")
        return instance

    def station_id(self) -> int:
        """The station of the instance, for services that work on one station's records."""
        station_id = self.instance().station_id
        if station_id is None:
            raise ServiceError("本流程没有所属函授站 (the case belongs to no station)")
        return station_id

    def station(self) -> Station:
        """The station of the instance (a college-wide starter names it in the start form)."""
        station_id = self.instance().station_id
        if station_id is None:
            raise ServiceError("请在开始时填写函授站代码（station）")
        station = self.session.get(Station, station_id)
        if station is None:
            raise NotFound(f"no station {station_id}")
        return station

    def start_process(
        self, definition: ProcessDefinition, variables: dict[str, Any], **scope: Any
    ) -> ProcessInstance:
        return self.start(definition, variables, **scope)

    def send_message(self, name: str, correlation: dict[str, Any], payload: dict[str, Any]) -> None:
        """Deliver message `name` (e.g. 学生离校) to the instances waiting for it."""
        self.send(name, correlation, payload)
