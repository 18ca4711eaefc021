"""Equity analysis (special-category data: analysts and admins only) and the residents' summary."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status

from api.deps import DbSession, require
from api.models import User
from equity import service
from equity.analysis import MEASURE_KEYS
from equity.schemas import YouSaidWeDidIn, YouSaidWeDidOut
from registry.clock import utc_now

router = APIRouter(tags=["equity"])

Analyst = Annotated[User, Depends(require("equity:read"))]
By = Annotated[list[str] | None, Query(description="groups, repeated or comma-separated")]
Outcome = Annotated[str, Query(description=f"one of {', '.join(MEASURE_KEYS)}")]


def _by(by: list[str] | None) -> list[str]:
    names = [name.strip() for value in by or [] for name in value.split(",") if name.strip()]
    try:
        return service.check_dimensions(names)
    except service.UnknownGroup as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


def _outcome(outcome: str) -> str:
    if outcome not in MEASURE_KEYS:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"unknown outcome {outcome!r}; one of {', '.join(MEASURE_KEYS)}",
        )
    return outcome


@router.get("/equity/outcomes")
def outcomes(
    session: DbSession,
    _user: Analyst,
    by: By = None,
    outcome: Outcome = "breached",
) -> dict[str, Any]:
    """An outcome by group: counts, rates or medians with 95 % intervals, ratio to the rest, tests."""
    if by is None:
        by = []
    return service.outcomes_report(session, by=_by(by), outcome=_outcome(outcome))


@router.get("/equity/outcomes.csv")
def outcomes_csv(
    session: DbSession,
    _user: Analyst,
    by: By = None,
    outcome: Outcome = "breached",
) -> Response:
    """The same table as CSV."""
    if by is None:
        by = []
    report = service.outcomes_report(session, by=_by(by), outcome=_outcome(outcome))
    return Response(
        service.outcomes_csv(report),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="equity-{outcome}.csv"'},
    )


@router.get("/equity/adjusted")
def adjusted(
    session: DbSession,
    _user: Analyst,
    by: By = None,
    outcome: Outcome = "breached",
) -> dict[str, Any]:
    """Adjusted odds ratios (logistic regression controlling for archetype, IMD decile, hazard)."""
    if by is None:
        by = []
    return service.adjusted_report(session, by=_by(by), outcome=_outcome(outcome))


@router.get("/equity/silences")
def silences(session: DbSession, _user: Analyst, by: By = None) -> dict[str, Any]:
    """Sensor-found hazards no tenant reported, and homes with silent sensors, by group."""
    return service.silences_report(session, by=_by(by))


@router.get("/transparency")
def transparency(
    session: DbSession, _user: Annotated[User, Depends(require("transparency:read"))]
) -> dict[str, Any]:
    """For residents: aggregates only, small groups suppressed, and "you said, we did"."""
    return service.transparency_summary(session)


@router.post(
    "/transparency/you-said-we-did",
    response_model=YouSaidWeDidOut,
    status_code=status.HTTP_201_CREATED,
)
def you_said_we_did(
    body: YouSaidWeDidIn,
    session: DbSession,
    user: Annotated[User, Depends(require("transparency:write"))],
) -> YouSaidWeDidOut:
    """Publish a "you said, we did" entry."""
    row = service.add_you_said_we_did(session, entry=body, author=user.name, now=utc_now())
    return YouSaidWeDidOut.model_validate(row)
