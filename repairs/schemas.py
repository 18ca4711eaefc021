"""What the repairs service takes in and gives out (pydantic)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

from registry.clock import Instant, to_rfc3339
from repairs.enums import ContractorKind, PriorityKey, VisitOutcome, WorkKind


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    @field_serializer("*", when_used="json")
    def _times_in_utc(self, value: Any) -> Any:
        return to_rfc3339(value) if isinstance(value, datetime) else value


class ContractorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    kind: ContractorKind = "contractor"


class ContractorOut(_Out):
    id: int
    name: str
    kind: str


class WorkOrderIn(BaseModel):
    """A work order raised on a case."""

    model_config = ConfigDict(extra="forbid")

    case_id: int
    kind: WorkKind
    contractor_id: int
    priority: PriorityKey
    description: str | None = Field(default=None, max_length=10_000)
    # Work in a block's shared parts: after it, the block's other households are asked too.
    communal: bool = False


class BookingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    booked_for: Instant


class DispatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: Instant


class VisitIn(BaseModel):
    """What happened at a visit; no access needs how the visit was arranged and why it failed."""

    model_config = ConfigDict(extra="forbid")

    outcome: VisitOutcome
    at: Instant
    method: str | None = Field(default=None, max_length=16)
    reason: str | None = Field(default=None, max_length=10_000)
    work_done: str | None = Field(default=None, max_length=10_000)

    @model_validator(mode="after")
    def _needs(self) -> VisitIn:
        if self.outcome == "no_access" and not (self.method and self.reason):
            raise ValueError("a no-access visit needs the method and the reason")
        if self.outcome == "follow_on" and not self.reason:
            raise ValueError("a follow-on visit needs the reason")
        if self.outcome == "completed" and not self.work_done:
            raise ValueError("a completed visit needs what was done (work_done)")
        return self


class SatisfactionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=1, le=5)
    at: Instant


class VisitOut(_Out):
    id: int
    booked_for: datetime | None
    at: datetime | None
    outcome: str
    method: str | None
    reason: str | None


class WorkOrderOut(_Out):
    id: int
    case_id: int
    home_id: str
    hazard: str
    kind: str
    contractor_id: int
    priority: str
    description: str | None
    reported_at: datetime
    raised_at: datetime
    target_at: datetime
    status: str
    dispatched_at: datetime | None
    completed_at: datetime | None
    work_done: str | None
    satisfaction_score: int | None
    verification: str
    verify_until: datetime | None
    verified_at: datetime | None
    recurred_at: datetime | None
    flagged: bool
    visits: list[VisitOut]


class KpiIn(BaseModel):
    """A resident-driven KPI: conditions are `{field: value | [values] | {"ge": x, ...}}`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    numerator: dict[str, Any]
    denominator: dict[str, Any] = Field(default_factory=dict)
    filter: dict[str, Any] = Field(default_factory=dict)


class ShareOut(BaseModel):
    numerator: int
    denominator: int
    rate: float | None
