"""Equity analysis (special-category data: analysts and admins only) and the residents' summary."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status

from api.access_log import record_analysis
from api.deps import DbSession, require
from api.models import User
from equity import service
from equity.analysis import MEASURE_KEYS
from equity.outcomes import GROUPS
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


def _logged(
    session: DbSession, user: User, by: list[str] | None, outcome: str, via: str
) -> tuple[list[str], str]:
    """The checked groups and outcome, the read kept in the access log (api.access_log)."""
    dims, outcome = _by(by or []), _outcome(outcome)
    record_analysis(
        session,
        actor=user.name,
        role=user.role,
        dimensions=dims or list(GROUPS),
        outcome=outcome,
        via=via,
        now=utc_now(),
    )
    return dims, outcome


@router.get("/equity/outcomes")
def outcomes(
    session: DbSession,
    user: Analyst,
    by: By = None,
    outcome: Outcome = "breached",
) -> dict[str, Any]:
    """An outcome by group: counts, rates or medians with 95 % intervals, ratio to the rest, tests."""
    dims, outcome = _logged(session, user, by, outcome, "GET /api/v1/equity/outcomes")
    return service.outcomes_report(session, by=dims, outcome=outcome)


@router.get("/equity/outcomes.csv")
def outcomes_csv(
    session: DbSession,
    user: Analyst,
    by: By = None,
    outcome: Outcome = "breached",
) -> Response:
    """The same table as CSV."""
    dims, outcome = _logged(session, user, by, outcome, "GET /api/v1/equity/outcomes.csv")
    report = service.outcomes_report(session, by=dims, outcome=outcome)
    return Response(
        service.outcomes_csv(report),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="equity-{outcome}.csv"'},
    )


@router.get("/equity/adjusted")
def adjusted(
    session: DbSession,
    user: Analyst,
    by: By = None,
    outcome: Outcome = "breached",
) -> dict[str, Any]:
    """Adjusted odds ratios (logistic regression controlling for archetype, IMD decile, hazard)."""
    dims, outcome = _logged(session, user, by, outcome, "GET /api/v1/equity/adjusted")
    return service.adjusted_report(session, by=dims, outcome=outcome)


@router.get("/equity/silences")
def silences(session: DbSession, user: Analyst, by: By = None) -> dict[str, Any]:
    """Sensor-found hazards no tenant reported, and homes with silent sensors, by group."""
    dims = _by(by)
    record_analysis(
        session,
        actor=user.name,
        role=user.role,
        dimensions=dims or list(GROUPS),
        outcome="silences",
        via="GET /api/v1/equity/silences",
        now=utc_now(),
    )
    return service.silences_report(session, by=dims)


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
