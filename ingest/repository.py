"""Every dead-letter query."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ingest.contract import MAX_PAYLOAD_BYTES, DeadLetterRecord
from ingest.models import DeadLetter


def add_dead_letters(session: Session, rows: Sequence[DeadLetterRecord]) -> None:
    """Insert dead letters; the caller owns the transaction."""
    if not rows:
        return
    session.execute(
        insert(DeadLetter),
        [
            {
                "received_at": row.received_at,
                "topic": row.topic.replace("\x00", "\\x00"),
                "payload": row.payload[:MAX_PAYLOAD_BYTES],
                "payload_truncated": row.payload_truncated or len(row.payload) > MAX_PAYLOAD_BYTES,
                "gateway_id": row.gateway_id,
                "reason": row.reason.replace("\x00", "\\x00"),
                "rejected_readings": row.rejected_readings,
            }
            for row in rows
        ],
    )


def list_dead_letters(session: Session, *, limit: int = 100, offset: int = 0) -> list[DeadLetter]:
    """Dead letters newest first (by receipt time, then insertion order)."""
    statement = (
        select(DeadLetter)
        .order_by(DeadLetter.received_at.desc(), DeadLetter.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(statement))


def count_dead_letters(session: Session) -> int:
    """How many dead letters are kept."""
    return session.scalar(select(func.count()).select_from(DeadLetter)) or 0
