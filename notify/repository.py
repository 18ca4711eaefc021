"""Every notify query.

Claims are conditional updates, so of two workers only one wins a row; on PostgreSQL the
candidate rows are read ``FOR UPDATE SKIP LOCKED`` so a second worker takes the next rows
instead of waiting (docs/architecture.md, "Scaling past one machine").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from notify.models import Message, OutboxEvent, WebhookSubscription


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def claim_events(session: Session, *, now: datetime, limit: int) -> list[OutboxEvent]:
    """Mark up to ``limit`` unprocessed events processed, oldest first; the ones this call won."""
    chosen = (
        select(OutboxEvent.id)
        .where(OutboxEvent.processed_at.is_(None))
        .order_by(OutboxEvent.id)
        .limit(limit)
    )
    if _postgres(session):
        chosen = chosen.with_for_update(skip_locked=True)
    ids = list(session.scalars(chosen))
    if not ids:
        return []
    won = list(
        session.scalars(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_(ids), OutboxEvent.processed_at.is_(None))
            .values(processed_at=now)
            .returning(OutboxEvent.id)
            .execution_options(synchronize_session=False)
        )
    )
    return list(
        session.scalars(select(OutboxEvent).where(OutboxEvent.id.in_(won)).order_by(OutboxEvent.id))
    )


def _due(now: datetime):  # type: ignore[no-untyped-def]
    return or_(
        and_(Message.status == "pending", Message.next_attempt_at <= now),
        and_(Message.status == "sending", Message.claimed_until < now),
    )


def claim_messages(
    session: Session, *, now: datetime, worker: str, until: datetime, limit: int
) -> list[int]:
    """Claim up to ``limit`` due messages (pending and due, or left ``sending`` by a worker whose
    lease ran out) for this worker until ``until``; each claim counts as an attempt."""
    chosen = (
        select(Message.id)
        .where(_due(now))
        .order_by(Message.next_attempt_at, Message.id)
        .limit(limit)
    )
    if _postgres(session):
        chosen = chosen.with_for_update(skip_locked=True)
    ids = list(session.scalars(chosen))
    if not ids:
        return []
    won = session.scalars(
        update(Message)
        .where(Message.id.in_(ids), _due(now))
        .values(
            status="sending",
            claimed_by=worker,
            claimed_until=until,
            attempts=Message.attempts + 1,
            first_attempt_at=func.coalesce(Message.first_attempt_at, now),
        )
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(won)


def release_claims(session: Session, *, worker: str, ids: list[int] | None = None) -> int:
    """Give back what a previous run of this worker left ``sending`` (it stopped mid-batch), or
    the given claims of this worker."""
    query = update(Message).where(Message.status == "sending", Message.claimed_by == worker)
    values: dict[str, Any] = {"status": "pending", "claimed_by": None, "claimed_until": None}
    if ids is not None:  # claimed but never tried: the claim's attempt did not happen
        query = query.where(Message.id.in_(ids))
        values["attempts"] = Message.attempts - 1
    result = session.execute(query.values(values).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def messages_by_id(session: Session, ids: list[int]) -> Sequence[Message]:
    """The messages with these ids, in id order, with their delivery logs."""
    return session.scalars(select(Message).where(Message.id.in_(ids)).order_by(Message.id)).all()


def subscription_secrets(session: Session, ids: set[int]) -> dict[int, str]:
    """The signing secrets of the live subscriptions among ``ids``."""
    if not ids:
        return {}
    rows = session.execute(
        select(WebhookSubscription.id, WebhookSubscription.secret).where(
            WebhookSubscription.id.in_(ids), WebhookSubscription.deleted_at.is_(None)
        )
    )
    return {row.id: row.secret for row in rows}


def message_for_update(session: Session, message_id: int) -> Message | None:
    return session.get(
        Message, message_id, with_for_update=_postgres(session), populate_existing=True
    )


def messages_of_case(session: Session, case_id: int) -> Sequence[Message]:
    """Every message about a case (to the tenant, staff and webhooks), oldest first."""
    return session.scalars(
        select(Message).where(Message.case_id == case_id).order_by(Message.created_at, Message.id)
    ).all()


def tenant_messages_sent(session: Session, *, case_ids: Sequence[int]) -> Sequence[Message]:
    """The messages delivered to tenants on these cases, oldest first (the damp and mould data
    model's notification table reads them: kind, channel, sent_at)."""
    if not case_ids:
        return []
    return session.scalars(
        select(Message)
        .where(
            Message.case_id.in_(list(case_ids)),
            Message.audience == "tenant",
            Message.status == "sent",
        )
        .order_by(Message.case_id, Message.sent_at, Message.id)
    ).all()


def message_with_key(session: Session, key: str) -> Message | None:
    return session.scalars(select(Message).where(Message.idempotency_key == key)).first()


def live_subscriptions(session: Session) -> Sequence[WebhookSubscription]:
    return session.scalars(
        select(WebhookSubscription)
        .where(WebhookSubscription.deleted_at.is_(None))
        .order_by(WebhookSubscription.id)
    ).all()


def get_subscription(session: Session, subscription_id: int) -> WebhookSubscription | None:
    found = session.get(WebhookSubscription, subscription_id)
    return found if found is not None and found.deleted_at is None else None


def deliveries(session: Session, subscription_id: int, *, limit: int = 200) -> Sequence[Message]:
    """A subscription's deliveries, newest first."""
    return session.scalars(
        select(Message)
        .where(Message.subscription_id == subscription_id)
        .order_by(Message.id.desc())
        .limit(limit)
    ).all()


def counts_by_status(session: Session) -> dict[tuple[str, str], int]:
    """How many messages there are per (channel, status), for the metrics."""
    rows = session.execute(
        select(Message.channel, Message.status, func.count()).group_by(
            Message.channel, Message.status
        )
    )
    return {(channel, status): int(count) for channel, status, count in rows}


def unprocessed_events(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.processed_at.is_(None))
        )
        or 0
    )
