"""Contractors, work orders, their visits, and the landlord's own repair KPIs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import Base, UTCDateTime


class Contractor(Base):
    """Who does the work: an outside contractor or the landlord's in-house team."""

    __tablename__ = "contractor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # contractor | in_house
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WorkOrder(Base):
    """Safety or supplementary work on a case, from report to completion and verification."""

    __tablename__ = "work_order"
    __table_args__ = (
        Index("ix_work_order_verification_verify_until", "verification", "verify_until"),
        Index("ix_work_order_home_hazard", "home_id", "hazard"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    home_id: Mapped[str] = mapped_column(String(64))
    hazard: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))  # safety | supplementary
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"), index=True)
    priority: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    target_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="raised")
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    work_done: Mapped[str | None] = mapped_column(Text)
    satisfaction_score: Mapped[int | None] = mapped_column(Integer)
    satisfaction_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verification: Mapped[str] = mapped_column(String(16), default="not_started")
    verify_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    raised_by: Mapped[str] = mapped_column(String(64))
    # Who was sent (for feedback on the individual operative: staff and the panel see it,
    # the public never by name), and whether the work was in a block's shared parts.
    operative: Mapped[str | None] = mapped_column(String(100))
    communal: Mapped[bool] = mapped_column(Boolean, default=False)

    contractor: Mapped[Contractor] = relationship(lazy="joined")
    visits: Mapped[list[Visit]] = relationship(order_by="Visit.id", lazy="selectin")


class Visit(Base):
    """An appointment and what happened: booked, completed, no access (with method and reason), follow-on."""

    __tablename__ = "work_order_visit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"), index=True)
    booked_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))  # booked | completed | no_access | follow_on
    method: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))


class RepairKpi(Base):
    """A resident-driven KPI the landlord defines: share of `numerator` within `denominator`, after `filter`."""

    __tablename__ = "repair_kpi"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    numerator: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    denominator: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    filter: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
