"""The outbox, messages with their delivery log, and webhook subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import Base, UTCDateTime


class OutboxEvent(Base):
    """A domain event, written in the same transaction as the change that caused it.

    ``processed_at`` is set once, by the worker that fans it out into messages."""

    __tablename__ = "outbox_event"
    __table_args__ = (Index("ix_outbox_event_unprocessed", "processed_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    work_order_id: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookSubscription(Base):
    """A landlord system's endpoint (docs/notifications.md, "Webhooks"); the secret signs every delivery."""

    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(100))
    personal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Message(Base):
    """One message to one recipient by one channel; its idempotency key makes it once-only."""

    __tablename__ = "message"
    __table_args__ = (Index("ix_message_due", "status", "next_attempt_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_event.id"))
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_subscription.id"), index=True
    )
    audience: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="en")
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    address: Mapped[list[str] | None] = mapped_column(JSON)  # letters: the postal address lines
    after_send: Mapped[str | None] = mapped_column(String(32))  # e.g. summary_sent
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64), default="notify")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    provider_ref: Mapped[str | None] = mapped_column(String(100))

    attempt_log: Mapped[list[MessageAttempt]] = relationship(
        order_by="MessageAttempt.id", lazy="selectin"
    )


class MessageAttempt(Base):
    """The delivery log: each attempt's time, outcome, status code, error and next retry."""

    __tablename__ = "message_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(12))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    next_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
