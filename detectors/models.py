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


class DetectorStateBlock(Base):
    """The fast-path state (`detectors.fleet.FleetState` rows) of a block of sensors, end to end.

    Hundreds of sensors a row: PostgreSQL writes a few large values instead of a tuple, an index
    entry and a WAL record per sensor (`detectors.repository.save_state`, docs/detectors.md).
    """

    __tablename__ = "detector_state_block"

    block: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    layout: Mapped[str] = mapped_column(String(16))  # detector_state_layout.layout of `states`
    sensors: Mapped[int] = mapped_column(Integer)
    gateway_ids: Mapped[str] = mapped_column(Text)  # one a line, in `states` order
    sensor_ids: Mapped[str] = mapped_column(Text)  # one a line, in `states` order
    states: Mapped[bytes] = mapped_column(LargeBinary)  # `sensors` fixed-width records of `layout`


class DetectorStateLayout(Base):
    """The record layouts state rows were written in, so a changed layout still loads by field name."""

    __tablename__ = "detector_state_layout"

    layout: Mapped[str] = mapped_column(String(16), primary_key=True)
    fields: Mapped[str] = mapped_column(Text)  # JSON [[name, numpy type, shape], …]


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
