"""Cases, their clocks (deadlines are rows), warnings, timeline, evidence and the audit log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import Base, UTCDateTime


class Case(Base):
    __tablename__ = "case"
    __table_args__ = (
        Index("ix_case_home_hazard_status", "home_id", "hazard", "status"),
        Index("ix_case_status_next_due_at", "status", "next_due_at", "id"),
        # 0003_compliance: the hazard queue unfiltered and by hazard, nearest deadline first.
        Index("ix_case_next_due_at", "next_due_at", "id"),
        Index("ix_case_hazard_status_next_due_at", "hazard", "status", "next_due_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    home_id: Mapped[str] = mapped_column(ForeignKey("home.home_id"))
    hazard: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    aware_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rule_set: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    stage: Mapped[str] = mapped_column(String(32), default="awaiting_investigation")
    outcome: Mapped[str | None] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_to: Mapped[str | None] = mapped_column(String(64))
    access_failures: Mapped[int] = mapped_column(Integer, default=0)
    alternative_accommodation_due: Mapped[bool] = mapped_column(Boolean, default=False)
    # 0002_compliance: what compliance.lifecycle.CaseState needs, and the hazard queue's sort key.
    in_scope: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    accommodation: Mapped[str] = mapped_column(
        String(16), default="not_due", server_default="not_due"
    )
    accommodation_offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accommodation_declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    investigation_booked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    access_attempts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    triage_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    summary_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    summary_sent_method: Mapped[str | None] = mapped_column(String(32))
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 0004_compliance: scope and tenure as judged at the latest awareness, the accommodation
    # sequence, safety and supplementary work, and closing with a reason (and a second person).
    scope_reason: Mapped[str | None] = mapped_column(Text)
    tenancy_ref: Mapped[str | None] = mapped_column(String(64))
    tenure: Mapped[str | None] = mapped_column(String(24))
    accommodation_due_reason: Mapped[str | None] = mapped_column(String(16))
    accommodation_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    household_moved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    household_returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    safety_work_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    supplementary_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closure_reason: Mapped[str | None] = mapped_column(String(32))
    closure_requested_by: Mapped[str | None] = mapped_column(String(64))
    closure_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closure_request_reason: Mapped[str | None] = mapped_column(String(32))

    clocks: Mapped[list[Clock]] = relationship(
        back_populates="case", order_by="Clock.id", lazy="selectin"
    )
    events: Mapped[list[CaseEvent]] = relationship(order_by="CaseEvent.id", lazy="selectin")
    evidence: Mapped[list[Evidence]] = relationship(order_by="Evidence.id", lazy="selectin")
    investigations: Mapped[list[Investigation]] = relationship(
        order_by="Investigation.number", lazy="selectin"
    )


class Clock(Base):
    __tablename__ = "clock"
    __table_args__ = (
        Index("ix_clock_status_due_at", "status", "due_at"),
        # 0003_compliance: the few cases with a breach, for the queue's ``breached`` filter.
        Index(
            "ix_clock_breached_case_id",
            "case_id",
            postgresql_where=text("status IN ('breached', 'breached_excused')"),
            sqlite_where=text("status IN ('breached', 'breached_excused')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="running")
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reasonable_steps: Mapped[str | None] = mapped_column(Text)
    excused_by: Mapped[str | None] = mapped_column(String(64))
    excused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reasonable_steps_by: Mapped[str | None] = mapped_column(String(64))
    reasonable_steps_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    excuse_reason: Mapped[str | None] = mapped_column(Text)
    # 0004_compliance: the duty it times (when not the kind's own), how it ended, and for an
    # investigate clock the investigation's type.
    duty: Mapped[str | None] = mapped_column(String(32))
    ended: Mapped[str | None] = mapped_column(String(8))
    ended_reason: Mapped[str | None] = mapped_column(Text)
    investigation_type: Mapped[str | None] = mapped_column(String(16))

    case: Mapped[Case] = relationship(back_populates="clocks")


class Investigation(Base):
    """A concluded investigation: type, method, who investigated and what it found (0004)."""

    __tablename__ = "investigation"
    __table_args__ = (UniqueConstraint("case_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(16))
    concluded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    method: Mapped[str | None] = mapped_column(String(16))
    investigator: Mapped[str | None] = mapped_column(String(200))
    investigator_role: Mapped[str | None] = mapped_column(String(100))
    findings: Mapped[str | None] = mapped_column(Text)
    supplementary_work_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    safety_plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    supplementary_plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    needs_considered: Mapped[list[str]] = mapped_column(JSON, default=list)


class ClockWarning(Base):
    """A warning due before a deadline; `fired_at` is set once, by whichever scheduler claims it."""

    __tablename__ = "clock_warning"
    __table_args__ = (
        UniqueConstraint("clock_id", "warn_at"),
        Index("ix_warning_due", "fired_at", "warn_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("clock.id"))
    warn_at: Mapped[datetime] = mapped_column(UTCDateTime)
    label: Mapped[str] = mapped_column(String(64))
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseEvent(Base):
    """One step of a case's life, as recorded (the timeline)."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    type: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Evidence(Base):
    """A sensor finding or a report that joined the case."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # sensor_finding | report
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)
    sensor: Mapped[str | None] = mapped_column(String(130))
    room: Mapped[str | None] = mapped_column(String(16))
    rule: Mapped[str | None] = mapped_column(String(64))
    rule_version: Mapped[str | None] = mapped_column(String(16))
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AuditEntry(Base):
    """Append-only; each entry carries the SHA-256 of its predecessor and of its own content."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditCheckpoint(Base):
    """The audit chain's head as it stood on a day, so a cut-off tail shows; append-only.

    ``signature`` is the HMAC-SHA256 of the day, count and head hash under ``HOMESAFE_AUDIT_KEY``,
    when that key is set (``compliance.audit.checkpoint_signature``).
    """

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)
    entries: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str | None] = mapped_column(String(64))
