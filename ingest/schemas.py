"""What the API shows of a dead letter."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ingest.fleet import seq_gaps
from ingest.models import DeadLetter, GatewayHealthRow, SensorHealthRow
from registry.clock import from_epoch_s

PayloadEncoding = Literal["utf-8", "base64"]  # how a dead letter's bytes are shown


class DeadLetterOut(BaseModel):
    """A dead letter; payload is text when it is valid UTF-8, else base64 (see payload_encoding)."""

    model_config = ConfigDict(frozen=True)

    id: int
    received_at: datetime
    topic: str
    gateway_id: str | None
    reason: str
    payload: str
    payload_encoding: PayloadEncoding
    payload_truncated: bool
    rejected_readings: int

    @classmethod
    def from_row(cls, row: DeadLetter) -> DeadLetterOut:
        """Build from a DeadLetter row."""
        raw = bytes(row.payload)
        try:
            text = raw.decode("utf-8")
            encoding: PayloadEncoding = "utf-8"
        except UnicodeDecodeError:
            text = base64.b64encode(raw).decode("ascii")
            encoding = "base64"
        return cls(
            id=row.id,
            received_at=row.received_at,
            topic=row.topic,
            gateway_id=row.gateway_id,
            reason=row.reason,
            payload=text,
            payload_encoding=encoding,
            payload_truncated=row.payload_truncated,
            rejected_readings=row.rejected_readings,
        )


class SensorHealthOut(BaseModel):
    """A sensor's newest reading time and battery."""

    sensor: str
    last_reading_at: datetime
    last_seen_at: datetime
    battery_pct: float | None


class GatewayOut(BaseModel):
    """Fleet health of one gateway: status, last seen, seq gaps (lost messages), battery."""

    gateway_id: str
    home_id: str | None
    status: str | None
    fw: str | None
    status_at: datetime | None
    last_seen_at: datetime | None
    last_seq: int | None
    messages: int
    missed_messages: int
    repeated_messages: int
    seq_resets: int
    battery_min_pct: float | None
    sensors: list[SensorHealthOut]

    @classmethod
    def never_seen(cls, gateway_id: str, home_id: str) -> GatewayOut:
        """A registered gateway ingest has not heard from: a home whose hazards nobody sees."""
        return cls(
            gateway_id=gateway_id,
            home_id=home_id,
            status=None,
            fw=None,
            status_at=None,
            last_seen_at=None,
            last_seq=None,
            messages=0,
            missed_messages=0,
            repeated_messages=0,
            seq_resets=0,
            battery_min_pct=None,
            sensors=[],
        )

    @classmethod
    def from_rows(cls, row: GatewayHealthRow, sensors: list[SensorHealthRow]) -> GatewayOut:
        """Build from a stored health row and its sensors."""
        batteries = [s.battery_pct for s in sensors if s.battery_pct is not None]
        return cls(
            gateway_id=row.gateway_id,
            home_id=row.home_id,
            status=row.state,
            fw=row.fw,
            status_at=row.status_at,
            last_seen_at=row.last_seen_at,
            last_seq=row.last_seq,
            messages=row.messages,
            missed_messages=row.missed_before_reset
            + seq_gaps(row.first_seq, row.last_seq, row.messages),
            repeated_messages=row.repeated_messages,
            seq_resets=row.seq_resets,
            battery_min_pct=min(batteries) if batteries else None,
            sensors=[
                SensorHealthOut(
                    sensor=s.sensor,
                    last_reading_at=from_epoch_s(s.last_ts),
                    last_seen_at=s.last_seen_at,
                    battery_pct=s.battery_pct,
                )
                for s in sensors
            ],
        )
