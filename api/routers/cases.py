"""Cases, reports and case events (contract section 3)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status

from api.deps import Context, DbSession, require
from api.models import User
from compliance import repository, service
from compliance.models import Case
from compliance.schemas import CaseDetailOut, CaseOut, EventIn, EventOut, ReportIn
from registry.clock import utc_now

router = APIRouter(tags=["cases"])


def _detail(case: Case) -> CaseDetailOut:
    return CaseDetailOut.model_validate(
        {
            **CaseOut.model_validate(case).model_dump(),
            "timeline": [EventOut.model_validate(e) for e in case.events],
            "evidence": case.evidence,
            "alternative_accommodation_due": case.alternative_accommodation_due,
            "access_failures": case.access_failures,
        }
    )


@router.get("/cases", response_model=list[CaseOut])
def list_cases(
    session: DbSession,
    response: Response,
    _user: Annotated[User, Depends(require("cases:read"))],
    status_: Annotated[str | None, Query(alias="status")] = None,
    hazard: str | None = None,
    home_id: str | None = None,
    breached: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[Case]:
    """Cases, nearest running deadline first."""
    return list(
        repository.list_cases(
            session,
            status=status_,
            hazard=hazard,
            home_id=home_id,
            breached=breached,
            limit=limit,
            offset=offset,
        )
    )


@router.get("/cases/{case_id}", response_model=CaseDetailOut)
def get_case(
    case_id: int, session: DbSession, _user: Annotated[User, Depends(require("cases:read"))]
) -> CaseDetailOut:
    """One case: its clocks, timeline and evidence."""
    case = repository.get_case(session, case_id)
    if case is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no case {case_id}")
    return _detail(case)


@router.post("/reports", response_model=CaseDetailOut, status_code=status.HTTP_201_CREATED)
def post_report(
    report: ReportIn,
    session: DbSession,
    context: Context,
    response: Response,
    user: Annotated[User, Depends(require("cases:write"))],
) -> CaseDetailOut:
    """Record a hazard report: opens the home's case for the hazard, or joins the open one."""
    try:
        case, created = service.record_report(
            session, report=report, actor=user.name, now=utc_now(), engine=context.engine
        )
    except service.HomeNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    if not created:
        response.status_code = status.HTTP_200_OK
    return _detail(case)


@router.post("/cases/{case_id}/events", response_model=CaseDetailOut)
def post_event(
    case_id: int,
    event: EventIn,
    session: DbSession,
    context: Context,
    user: Annotated[User, Depends(require("cases:write"))],
) -> CaseDetailOut:
    """One step of the case's life; 409 with the reason when the case's state does not allow it."""
    try:
        case = service.record_event(
            session,
            case_id=case_id,
            event=event,
            actor=user.name,
            now=utc_now(),
            engine=context.engine,
        )
    except service.CaseNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except service.EventRefused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return _detail(case)
