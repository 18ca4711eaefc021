"""Dead letters: every rejected telemetry message, kept in the case database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, LargeBinary, String, Text
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


class GatewayHealthRow(Base):
    """Fleet health of one gateway, merged from every ingest worker's batched reports."""

    __tablename__ = "gateway_health"

    gateway_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    home_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    fw: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    first_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    messages: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    repeated_messages: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    seq_resets: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    missed_before_reset: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class SensorHealthRow(Base):
    """The newest reading seen from one sensor, and its battery."""

    __tablename__ = "sensor_health"

    gateway_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sensor: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_ts: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    battery_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    readings: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
