"""The panel's deep-dive requests, resident-defined KPIs and their published periods, milestone
surveys, and the annual review's notes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base, UTCDateTime


class DeepDiveRequest(Base):
    """A case set the panel asked about (hazard, area, quarters, outcome) and the landlord's answer."""

    __tablename__ = "deep_dive_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asked_by: Mapped[str] = mapped_column(String(64))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    hazard: Mapped[str | None] = mapped_column(String(40))
    area: Mapped[str | None] = mapped_column(String(8))
    quarter_from: Mapped[str] = mapped_column(String(7))  # 2025-Q1
    quarter_to: Mapped[str] = mapped_column(String(7))
    outcome: Mapped[str] = mapped_column(String(16))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ResidentKpi(Base):
    """A KPI the panel proposed from the measures Homesafe holds; public once the landlord publishes it."""

    __tablename__ = "resident_kpi"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    measure: Mapped[str] = mapped_column(String(40))
    target_pct: Mapped[float] = mapped_column(Float)
    why: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), default="proposed")
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class KpiPeriod(Base):
    """A KPI's figure for one quarter, frozen when published; a missed target carries the
    landlord's written explanation, without which the quarter is not published."""

    __tablename__ = "kpi_period"
    __table_args__ = (UniqueConstraint("kpi_id", "quarter"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("resident_kpi.id"), index=True)
    quarter: Mapped[str] = mapped_column(String(7))
    numerator: Mapped[int] = mapped_column(Integer)
    denominator: Mapped[int] = mapped_column(Integer)
    met: Mapped[bool | None] = mapped_column(Boolean)  # None: too few to judge
    explanation: Mapped[str | None] = mapped_column(Text)
    published_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SurveyInvitation(Base):
    """One household asked one question at one milestone of a work order, through a one-time link
    (only the link's hash is kept); the answer lands on the same row."""

    __tablename__ = "survey_invitation"
    __table_args__ = (UniqueConstraint("work_order_id", "milestone", "home_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"), index=True)
    case_id: Mapped[int] = mapped_column(Integer)
    home_id: Mapped[str] = mapped_column(String(64))
    milestone: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rating: Mapped[int | None] = mapped_column(Integer)  # 1 (very unhappy) to 5 (very happy)
    operative_rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)


class ReviewNote(Base):
    """The annual review: the landlord's account of a KPI's or commitment's year, and the panel's
    comments on it."""

    __tablename__ = "review_note"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)  # the calendar year reviewed
    subject: Mapped[str] = mapped_column(String(40))  # kpi:<id> | commitment:<id>
    author_role: Mapped[str] = mapped_column(String(12))  # landlord | panel
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)
