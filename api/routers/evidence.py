"""A finding's evidence as a chart, and the fleet team's sensor-health tasks."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Depends, HTTPException, Query, status

from api.auth import may
from api.deps import Context, DbSession, RowId, require
from api.models import User
from compliance import repository as cases
from detectors import repository
from detectors.schemas import EvidenceSeriesOut, FleetTaskOut
from detectors.service import EvidenceItem, evidence_series
from ingest.store import TelemetryStoreError

router = APIRouter(tags=["detectors"])


@router.get("/cases/{case_id}/evidence/{n}/series", response_model=EvidenceSeriesOut)
def case_evidence_series(
    case_id: RowId,
    n: int,
    session: DbSession,
    context: Context,
    user: Annotated[User, Depends(require("cases:read"))],
) -> EvidenceSeriesOut:
    """The n-th evidence item (1-based) with hourly readings around its window and its thresholds;
    a report's own words only for roles with `cases:personal`."""
    case = cases.get_case(session, case_id)
    items = sorted(case.evidence, key=lambda e: e.id) if case is not None else []
    if not 1 <= n <= len(items):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"case {case_id} has no evidence {n}")
    try:
        # cast: the Evidence row's mutable `figures: dict` meets the protocol's read-only Mapping.
        item = cast(EvidenceItem, items[n - 1])
        found = evidence_series(context.telemetry, item, case_id=case_id, n=n)
    except TelemetryStoreError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"telemetry store: {exc}") from exc
    if not found.rule and not may(user.role, "cases:personal"):
        return found.model_copy(update={"description": None})  # a tenant's or staff's report text
    return found


@router.get("/fleet/tasks", response_model=list[FleetTaskOut])
def fleet_tasks(
    session: DbSession,
    _user: Annotated[User, Depends(require("fleet:read"))],
    status_: Annotated[str | None, Query(alias="status")] = "open",
    home_id: str | None = None,
    kind: str | None = None,
) -> list[FleetTaskOut]:
    """Sensor and gateway health tasks, newest first (status open by default; `all` for every one)."""
    rows = repository.list_fleet_tasks(
        session, status=None if status_ == "all" else status_, home_id=home_id, kind=kind
    )
    return [FleetTaskOut.model_validate(row) for row in rows]
