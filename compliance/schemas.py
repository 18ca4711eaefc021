"""What the compliance service takes in and gives out (pydantic)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
)

from compliance.enums import (
    ApiEventType,
    Category,
    ClockKind,
    ClockStatus,
    Ended,
    InvestigationType,
    Outcome,
    ReportSource,
    Source,
)
from compliance.rules import HAZARD_KEYS
from registry.clock import Instant, to_rfc3339


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
    source: ReportSource
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


class WorkPlanIn(BaseModel):
    """A piece of work as the tenant's letter describes it, with its target dates."""

    model_config = ConfigDict(extra="forbid")

    what: str = Field(min_length=1, max_length=2_000)
    begin_by: date | None = None
    complete_by: date | None = None


class EventIn(BaseModel):
    """One step of a case's life (contract section 3, and Homesafe's further steps)."""

    model_config = ConfigDict(extra="forbid")

    type: ApiEventType
    at: Instant
    note: str | None = Field(
        default=None, max_length=10_000, description="internal: never printed on a letter"
    )
    evidence: dict[str, Any] | list[Any] | str | None = None
    outcome: Outcome | None = None
    method: str | None = Field(
        default=None,
        max_length=40,
        description=(
            "access_failed: how contact was tried; summary_sent: how it was sent; "
            "investigation_concluded: in_person or remote"
        ),
    )
    supplementary_work_needed: bool | None = None
    reason: str | None = Field(
        default=None,
        max_length=40,
        description=(
            "closed / closure_requested: work_complete_verified, no_hazard_found, "
            "tenancy_ended, duplicate, out_of_scope; emergency_duty_ceased: "
            "household_moved_out, third_party_consent_refused"
        ),
    )
    investigation_type: InvestigationType | None = None
    investigator: str | None = Field(default=None, max_length=200)
    investigator_role: str | None = Field(default=None, max_length=100)
    findings: str | None = Field(
        default=None, max_length=10_000, description="what was found, in words for the tenant"
    )
    safety_work: WorkPlanIn | None = None
    supplementary_work: WorkPlanIn | None = None


class ClockOut(_Out):
    kind: ClockKind
    started_at: datetime
    due_at: datetime
    met_at: datetime | None
    status: ClockStatus
    duty: str | None = None
    ended: Ended | None = None
    ended_reason: str | None = None
    investigation_type: InvestigationType | None = None
    breached_at: datetime | None = None
    reasonable_endeavours: str | None = Field(
        default=None,
        validation_alias=AliasChoices("reasonable_endeavours", "reasonable_steps"),
        description="all reasonable endeavours recorded against a breach (the defence)",
    )
    reasonable_endeavours_by: str | None = Field(
        default=None,
        validation_alias=AliasChoices("reasonable_endeavours_by", "reasonable_steps_by"),
    )
    reasonable_endeavours_at: datetime | None = Field(
        default=None,
        validation_alias=AliasChoices("reasonable_endeavours_at", "reasonable_steps_at"),
    )
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
    scope_reason: str | None = None
    tenure: str | None = None
    next_due_at: datetime | None = None


class InvestigationOut(_Out):
    number: int
    type: InvestigationType
    concluded_at: datetime
    recorded_at: datetime
    recorded_by: str
    outcome: Outcome
    method: str | None
    investigator: str | None
    investigator_role: str | None
    findings: str | None
    supplementary_work_needed: bool
    safety_plan: dict[str, Any] | None
    supplementary_plan: dict[str, Any] | None


class CaseDetailOut(CaseOut):
    timeline: list[EventOut]
    evidence: list[EvidenceOut]
    alternative_accommodation_due: bool
    access_failures: int
    access_attempts: list[dict[str, Any]] = Field(default_factory=list)
    access_reasonable_steps: bool = Field(
        default=False,
        description="three failed access attempts by three different methods are on record",
    )
    accommodation: str = "not_due"
    accommodation_offered_at: datetime | None = None
    accommodation_declined_at: datetime | None = None
    summary_sent_at: datetime | None = None
    summary_sent_method: str | None = None
    triage_due_at: datetime | None = None
    assigned_to: str | None = None
    investigations: list[InvestigationOut] = Field(default_factory=list)
    tenancy_ref: str | None = None
    accommodation_due_reason: str | None = None
    accommodation_decision_due_at: datetime | None = None
    accommodation_accepted_at: datetime | None = None
    household_moved_at: datetime | None = None
    household_returned_at: datetime | None = None
    safety_work_started_at: datetime | None = None
    supplementary_completed_at: datetime | None = None
    closure_reason: str | None = None
    closure_requested_by: str | None = None
    closure_requested_at: datetime | None = None
    closure_request_reason: str | None = None
    closed_at: datetime | None = None
    household_needs: list[str] | None = Field(
        default=None,
        description="needs that raise the risk (child_under_5, over_65, health_or_disability, "
        "language); only for roles that work cases",
    )
    tenant: dict[str, Any] | None = Field(
        default=None, description="the tenancy's lead tenant and contacts; staff who work cases"
    )
    address: str | None = None


class AssignmentIn(BaseModel):
    """Who works the case: an officer's name, or null for nobody."""

    model_config = ConfigDict(extra="forbid")

    officer: str | None = Field(default=None, min_length=1, max_length=64)


class ReasonableEndeavoursIn(BaseModel):
    """All reasonable endeavours an officer made to meet a breached clock (``steps`` also read)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    endeavours: str = Field(
        min_length=1,
        max_length=10_000,
        validation_alias=AliasChoices("endeavours", "steps"),
    )


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
