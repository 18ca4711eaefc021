"""The outbox: the sink ``homesafe.bootstrap`` installs on its sessions (``compliance.events``).

``record`` adds the event to the caller's session, so it is committed with the change that
caused it, or rolled back with it: no event is lost by a crash after the change, and none is
invented by a change that did not happen. The worker fans events out into messages later.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from notify.models import OutboxEvent


def record(
    session: Session,
    *,
    type: str,
    at: datetime,
    data: dict[str, Any],
    detail: dict[str, Any],
    case_id: int | None = None,
    work_order_id: int | None = None,
) -> None:
    """Append one event to the outbox, in the caller's transaction."""
    session.add(
        OutboxEvent(
            type=type,
            at=at,
            case_id=case_id,
            work_order_id=work_order_id,
            data=data,
            detail=detail,
        )
    )
