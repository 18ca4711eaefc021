"""What the compliance service takes in and gives out (pydantic)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from compliance.rules import HAZARD_KEYS
from registry.clock import Instant, to_rfc3339

Category = Literal["emergency", "significant", "potential"]
Source = Literal["sensor", "tenant", "staff", "contractor"]
ClockKind = Literal[
    "emergency_action", "investigate", "written_summary", "safety_work", "supplementary_work"
]
ClockStatus = Literal["running", "met", "breached", "breached_excused"]
EventType = Literal[
    "investigation_booked",
    "access_failed",
    "investigation_concluded",
    "summary_sent",
    "safety_work_started",
    "safety_work_completed",
    "supplementary_work_started",
    "alternative_accommodation_offered",
    "alternative_accommodation_declined",
    "closed",
    "reopened",
    "triage_confirmed",  # extension: an officer confirms a sensor finding (on_triage setting)
]
Outcome = Literal["emergency", "significant", "not_significant", "no_hazard"]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    @field_serializer("*", when_used="json")
    def _times_in_utc(self, value: Any) -> Any:
        return to_rfc3339(value) if isinstance(value, datetime) else value


class ReportIn(BaseModel):
    """A hazard report from a tenant, staff member or contractor (contract section 3)."""

    model_config = ConfigDict(extra="forbid")

    home_id: str = Field(min_length=1, max_length=64)
    hazard: str = Field(min_length=1, max_length=40)
    source: Literal["tenant", "staff", "contractor"]
    reported_at: Instant
    description: str = Field(default="", max_length=10_000)
    emergency: bool = False

    @field_validator("hazard")
    @classmethod
    def _hhsrs_hazard(cls, value: str) -> str:
        """Hazards are the HHSRS (2005) hazards by their snake-case keys (contract section 3)."""
        if value not in HAZARD_KEYS:
            raise ValueError(
                f"{value!r} is not an HHSRS hazard key; one of {', '.join(sorted(HAZARD_KEYS))}"
            )
        return value


class EventIn(BaseModel):
    """One step of a case's life (contract section 3)."""

    model_config = ConfigDict(extra="forbid")

    type: EventType
    at: Instant
    note: str | None = Field(default=None, max_length=10_000)
    evidence: dict[str, Any] | list[Any] | str | None = None
    outcome: Outcome | None = None
    method: str | None = Field(
        default=None,
        max_length=40,
        description="access_failed: how contact was tried; summary_sent: how it was sent",
    )
    supplementary_work_needed: bool | None = None


class ClockOut(_Out):
    kind: ClockKind
    started_at: datetime
    due_at: datetime
    met_at: datetime | None
    status: ClockStatus
    breached_at: datetime | None = None
    reasonable_steps: str | None = None
    reasonable_steps_by: str | None = None
    reasonable_steps_at: datetime | None = None
    excused_by: str | None = None
    excused_at: datetime | None = None


class EvidenceOut(_Out):
    kind: str
    recorded_at: datetime
    source: str
    description: str | None
    sensor: str | None
    room: str | None
    rule: str | None
    rule_version: str | None
    window_start: datetime | None
    window_end: datetime | None
    figures: dict[str, Any]


class EventOut(_Out):
    type: str
    at: datetime
    recorded_at: datetime
    actor: str
    note: str | None
    details: dict[str, Any]


class CaseOut(_Out):
    id: int
    home_id: str
    hazard: str
    category: Category
    source: Source
    aware_at: datetime
    status: str
    stage: str
    outcome: str | None
    rule_set: str
    clocks: list[ClockOut]
    in_scope: bool = True
    next_due_at: datetime | None = None


class CaseDetailOut(CaseOut):
    timeline: list[EventOut]
    evidence: list[EvidenceOut]
    alternative_accommodation_due: bool
    access_failures: int
    access_attempts: list[dict[str, Any]] = Field(default_factory=list)
    access_reasonable_steps: bool = False
    accommodation: str = "not_due"
    accommodation_offered_at: datetime | None = None
    accommodation_declined_at: datetime | None = None
    summary_sent_at: datetime | None = None
    summary_sent_method: str | None = None
    triage_due_at: datetime | None = None
    assigned_to: str | None = None


class AssignmentIn(BaseModel):
    """Who works the case: an officer's name, or null for nobody."""

    model_config = ConfigDict(extra="forbid")

    officer: str | None = Field(default=None, min_length=1, max_length=64)


class ReasonableStepsIn(BaseModel):
    """The reasonable steps an officer took against a breached clock."""

    model_config = ConfigDict(extra="forbid")

    steps: str = Field(min_length=1, max_length=10_000)


class ExcuseIn(BaseModel):
    """A compliance officer's acceptance of the recorded steps, with an optional note."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=10_000)


class CannotMeetIn(BaseModel):
    """Why the safety work cannot be done in time."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=10_000)


class FindingIn(BaseModel):
    """A detector's finding as compliance receives it."""

    home_id: str
    hazard: str
    category: Literal["emergency", "potential"]
    detected_at: Instant
    sensor: str | None = None
    room: str | None = None
    rule: str
    rule_version: str
    window_start: Instant
    window_end: Instant
    figures: dict[str, Any] = Field(default_factory=dict)
    description: str | None = None
