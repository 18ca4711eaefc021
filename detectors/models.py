"""Per-sensor detector state, kept between passes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, LargeBinary, String, Text
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


class DetectorSnapshot(Base):
    """The fleet fast path's per-sensor state arrays (`detectors.fleet.FleetState`), one row per name."""

    __tablename__ = "detector_snapshot"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sensors: Mapped[int] = mapped_column(Integer)
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class FleetTaskRow(Base):
    """Sensor and gateway health work for the fleet team (not a hazard case)."""

    __tablename__ = "fleet_task"
    __table_args__ = (Index("ix_fleet_task_status_detected_at", "status", "detected_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    home_id: Mapped[str] = mapped_column(String(64), index=True)
    gateway_id: Mapped[str] = mapped_column(String(64))
    sensor_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | resolved
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    description: Mapped[str] = mapped_column(Text)
    rule_key: Mapped[str] = mapped_column(String(64))
    rule_version: Mapped[int] = mapped_column(Integer)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
