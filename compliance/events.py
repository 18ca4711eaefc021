"""Domain events leave the case rooms through this one small interface (docs/architecture.md).

A service that changes a case (or a work order) calls ``record(session, type=..., ...)`` in the
same transaction as the change. What happens to the event is the composition root's choice: it
installs a sink on the sessions it makes (``homesafe.bootstrap`` puts ``notify.outbox.record``
there), so the event is written to the outbox in the caller's transaction and committed or
rolled back with the change. Sessions with no sink (unit tests, benchmarks) record nothing and
pay only a dictionary look-up, so the services never import ``notify``.

Event types are the webhook contract's (docs/notifications.md, "Webhooks"): ``case.opened``,
``case.updated``, ``clock.warning``, ``clock.breached``, ``clock.met``, ``summary.sent``,
``work_order.created``, ``work_order.updated``, ``finding.raised``. ``data`` holds the case (or
work order) as the API returns it, without personal fields, and ``detail`` what happened (the
step, the clock, the report's channel...), which the notification rules read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

SINK_KEY = "homesafe.events"

EVENT_TYPES: tuple[str, ...] = (
    "case.opened",
    "case.updated",
    "clock.warning",
    "clock.breached",
    "clock.met",
    "summary.sent",
    "work_order.created",
    "work_order.updated",
    "finding.raised",
)

# Events for the people-facing channels only, never a webhook's: a milestone survey's detail
# carries the household's one-time link (docs/residents.md).
INTERNAL_EVENT_TYPES: tuple[str, ...] = ("survey.requested",)


class EventSink(Protocol):
    """Where events go: called inside the caller's transaction."""

    def __call__(
        self,
        session: Session,
        *,
        type: str,
        at: datetime,
        data: dict[str, Any],
        detail: dict[str, Any],
        case_id: int | None = None,
        work_order_id: int | None = None,
    ) -> None: ...


def enabled(session: Session) -> bool:
    """Whether the session carries a sink (so building an event's data is worth it)."""
    return SINK_KEY in session.info


def record(
    session: Session,
    *,
    type: str,
    at: datetime,
    data: dict[str, Any],
    detail: dict[str, Any] | None = None,
    case_id: int | None = None,
    work_order_id: int | None = None,
) -> None:
    """Hand one event to the session's sink, if it has one."""
    if type not in EVENT_TYPES and type not in INTERNAL_EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    sink: EventSink | None = session.info.get(SINK_KEY)
    if sink is None:
        return
    sink(
        session,
        type=type,
        at=at,
        data=data,
        detail=detail or {},
        case_id=case_id,
        work_order_id=work_order_id,
    )
