"""What the interop service takes in and gives out (pydantic)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_serializer

from registry.clock import to_rfc3339

EntityType = Literal["case", "home", "tenancy", "work_order"]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    @field_serializer("*", when_used="json")
    def _times_in_utc(self, value: Any) -> Any:
        return to_rfc3339(value) if isinstance(value, datetime) else value


class ReferenceIn(BaseModel):
    """A reference another system allocated to a Homesafe case, home, tenancy or work order."""

    model_config = ConfigDict(extra="forbid")

    entity_type: EntityType
    entity_id: str = Field(
        min_length=1, max_length=64, description="case or work order id, home_id, tenancy_ref"
    )
    allocated_by: str = Field(
        min_length=1, max_length=50, description="the system: 'NEC Housing', 'Dampfix portal'"
    )
    value: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=200)


class ReferenceOut(_Out):
    id: int
    entity_type: str
    entity_id: str
    allocated_by: str
    value: str
    description: str | None
    created_at: datetime
    created_by: str
    path: str = Field(description="where the entity is in this API")


class WorkOrderUpdateIn(BaseModel):
    """One status update from a contractor's or housing management system, for the work order
    carrying ``reference`` (allocated by the batch's system)."""

    model_config = ConfigDict(extra="forbid")

    reference: str = Field(min_length=1, max_length=100)
    status: str = Field(
        min_length=1,
        max_length=32,
        description="booked, dispatched, completed, no_access or follow_on (or the data model's "
        "work status codes Scheduled, InProgress, Complete/Completed, Delayed, OnHold)",
    )
    at: AwareDatetime = Field(description="when it happened (booked: when it was booked)")
    booked_for: AwareDatetime | None = Field(default=None, description="booked: the appointment")
    method: str | None = Field(
        default=None, max_length=16, description="no_access: how the visit was arranged"
    )
    reason: str | None = Field(
        default=None, max_length=10_000, description="no_access / follow_on: why"
    )
    work_done: str | None = Field(
        default=None, max_length=10_000, description="completed: what was done"
    )
    satisfaction: int | None = Field(
        default=None, ge=1, le=5, description="completed: the resident's score"
    )


class WorkOrderUpdatesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    allocated_by: str = Field(
        min_length=1, max_length=50, description="the system whose references these are"
    )
    updates: list[WorkOrderUpdateIn] = Field(min_length=1, max_length=5000)


class UpdateError(BaseModel):
    line: int = Field(
        description="the update's line: CSV line number (header is 1), or 1-based position in the JSON list"
    )
    reason: str


class UpdatesResult(BaseModel):
    applied: int
    work_orders: list[int]
