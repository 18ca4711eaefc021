"""Per-sensor detector state, kept between passes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base, UTCDateTime


class DetectorState(Base):
    """Whether a rule's condition holds on a sensor, so a finding is raised once per episode."""

    __tablename__ = "detector_state"

    gateway_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sensor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rule_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    last_evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_finding_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
