"""Dead letters: every rejected telemetry message, kept in the case database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base, UTCDateTime

MAX_DEAD_LETTER_PAYLOAD_BYTES = 64 * 1024


class DeadLetter(Base):
    """One rejected telemetry message: topic, raw payload (≤ 64 KiB), receipt time, reasons."""

    __tablename__ = "dead_letter"
    __table_args__ = (Index("ix_dead_letter_received_at_id", "received_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    topic: Mapped[str] = mapped_column(Text, nullable=False)
    payload: Mapped[bytes] = mapped_column(
        LargeBinary(MAX_DEAD_LETTER_PAYLOAD_BYTES), nullable=False
    )
    payload_truncated: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    gateway_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    rejected_readings: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
