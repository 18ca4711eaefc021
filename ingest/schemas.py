"""What the API shows of a dead letter."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ingest.models import DeadLetter


class DeadLetterOut(BaseModel):
    """A dead letter; payload is text when it is valid UTF-8, else base64 (see payload_encoding)."""

    model_config = ConfigDict(frozen=True)

    id: int
    received_at: datetime
    topic: str
    gateway_id: str | None
    reason: str
    payload: str
    payload_encoding: Literal["utf-8", "base64"]
    payload_truncated: bool
    rejected_readings: int

    @classmethod
    def from_row(cls, row: DeadLetter) -> DeadLetterOut:
        """Build from a DeadLetter row."""
        raw = bytes(row.payload)
        try:
            text = raw.decode("utf-8")
            encoding: Literal["utf-8", "base64"] = "utf-8"
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
