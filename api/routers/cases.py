"""Cases, reports and case events (contract section 3)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access_log import HOUSEHOLD_NEEDS, record_read
from api.auth import may
from api.deps import AppContext, Context, DbSession, RowId, require
from api.models import User
from api.security import document_csp
from compliance import repository, service
from compliance.enums import ClockKind
from compliance.models import Case
from compliance.schemas import (
    AssignmentIn,
    CannotMeetIn,
    CaseDetailOut,
    CaseOut,
    EventIn,
    EventOut,
    ExcuseIn,
    ReasonableEndeavoursIn,
    ReportIn,
)
from compliance.service import Engine
from compliance.summary import SummaryFacts, render_html, render_pdf
from registry.clock import utc_now

router = APIRouter(tags=["cases"])


# Free text that may carry tenants' words (report text, notes, evidence given with a step): only
# for roles allowed personal data (`cases:personal`, api/auth.py), as on the pages.
PRIVATE_DETAILS = ("evidence",)


def _without_personal(detail: CaseDetailOut) -> CaseDetailOut:
    """The case as a role without `cases:personal` sees it: steps and clocks, not tenants' words."""
    return detail.model_copy(
        update={
            "timeline": [
                event.model_copy(
                    update={
                        "note": None,
                        "details": {
                            k: v for k, v in event.details.items() if k not in PRIVATE_DETAILS
                        },
                    }
                )
                for event in detail.timeline
            ],
            "evidence": [
                item if item.rule else item.model_copy(update={"description": None})
                for item in detail.evidence
            ],
        }
    )


def _detail(
    case: Case,
    engine: Engine,
    user: User,
    session: Session | None = None,
    now: datetime | None = None,
) -> CaseDetailOut:
    detail = _full_detail(case, engine, user, session, now)
    if session is not None and may(user.role, "households:needs"):
        record_read(
            session,
            actor=user.name,
            role=user.role,
            what=HOUSEHOLD_NEEDS,
            subject=f"home {case.home_id} (case {case.id})",
            via=f"api case {case.id}",
            now=now or utc_now(),
        )
    if not may(user.role, "cases:personal"):
        return _without_personal(detail)
    return detail


def _full_detail(
    case: Case,
    engine: Engine,
    user: User | None = None,
    session: Session | None = None,
    now: datetime | None = None,
) -> CaseDetailOut:
    personal = user is not None and may(user.role, "cases:personal")
    needs = user is not None and may(user.role, "households:needs")
    extra: dict[str, object] = {}
    if session is not None and (personal or needs):
        extra = service.case_people(
            session, case, engine, personal=personal, needs=needs, now=now or utc_now()
        )
    return CaseDetailOut.model_validate(
        {
            **CaseOut.model_validate(case).model_dump(),
            **service.case_record(case),
            **extra,
            "timeline": [EventOut.model_validate(e) for e in case.events],
            "evidence": case.evidence,
            "alternative_accommodation_due": case.alternative_accommodation_due,
            "access_failures": case.access_failures,
            "access_attempts": case.access_attempts or [],
            "access_reasonable_steps": service.access_reasonable_steps(case, engine),
            "accommodation": case.accommodation,
            "accommodation_offered_at": case.accommodation_offered_at,
            "accommodation_declined_at": case.accommodation_declined_at,
            "summary_sent_at": case.summary_sent_at,
            "summary_sent_method": case.summary_sent_method,
            "triage_due_at": service.triage_due(case, engine),
            "assigned_to": case.assigned_to,
        }
    )


def _case_or_404(session: Session, case_id: int) -> Case:
    case = repository.get_case(session, case_id)
    if case is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no case {case_id}")
    return case


@router.get("/cases", response_model=list[CaseOut])
def list_cases(
    session: DbSession,
    _response: Response,
    _user: Annotated[User, Depends(require("cases:read"))],
    status_: Annotated[str | None, Query(alias="status")] = None,
    hazard: str | None = None,
    home_id: str | None = None,
    breached: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0,
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
    case_id: RowId,
    session: DbSession,
    context: Context,
    user: Annotated[User, Depends(require("cases:read"))],
) -> CaseDetailOut:
    """One case: its clocks, investigations, timeline and evidence."""
    return _detail(_case_or_404(session, case_id), context.engine, user, session, context.now())


@router.post("/reports", response_model=CaseDetailOut, status_code=status.HTTP_201_CREATED)
def post_report(
    report: ReportIn,
    session: DbSession,
    context: Context,
    response: Response,
    user: Annotated[User, Depends(require("cases:write"))],
) -> CaseDetailOut:
    """Record a hazard report: opens the home's case for the hazard, or joins the open one."""
    case, created = service.record_report(
        session, report=report, actor=user.name, now=context.now(), engine=context.engine
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return _detail(case, context.engine, user, session, context.now())


@router.post("/cases/{case_id}/events", response_model=CaseDetailOut)
def post_event(
    case_id: RowId,
    event: EventIn,
    session: DbSession,
    context: Context,
    user: Annotated[User, Depends(require("cases:write"))],
) -> CaseDetailOut:
    """One step of the case's life; 409 with the reason when the case's state does not allow it."""
    case = service.record_event(
        session,
        case_id=case_id,
        event=event,
        actor=user.name,
        now=context.now(),
        engine=context.engine,
    )
    return _detail(case, context.engine, user, session, context.now())


@router.post("/cases/{case_id}/clocks/{kind}/reasonable-endeavours", response_model=CaseDetailOut)
@router.post(
    "/cases/{case_id}/clocks/{kind}/reasonable-steps",
    response_model=CaseDetailOut,
    deprecated=True,
    description="The former name of .../reasonable-endeavours.",
)
def post_reasonable_steps(
    case_id: RowId,
    kind: ClockKind,
    body: ReasonableEndeavoursIn,
    session: DbSession,
    context: Context,
    user: Annotated[User, Depends(require("cases:write"))],
) -> CaseDetailOut:
    """An officer records all reasonable endeavours made against the breached clock of this kind
    (the statutory defence, s.10A(5) Landlord and Tenant Act 1985)."""
    service.record_reasonable_steps(
        session,
        case_id=case_id,
        kind=kind,
        steps=body.endeavours,
        actor=user.name,
        now=context.now(),
    )
    return _detail(_case_or_404(session, case_id), context.engine, user, session, context.now())


@router.post("/cases/{case_id}/clocks/{kind}/excuse", response_model=CaseDetailOut)
def post_excuse(
    case_id: RowId,
    kind: ClockKind,
    session: DbSession,
    context: Context,
    user: Annotated[User, Depends(require("compliance:excuse"))],
    body: ExcuseIn | None = None,
) -> CaseDetailOut:
    """A compliance officer accepts the recorded steps: the breach becomes breached_excused."""
    service.excuse_breach(
        session,
        case_id=case_id,
        kind=kind,
        actor=user.name,
        now=context.now(),
        note=body.note if body else None,
    )
    return _detail(_case_or_404(session, case_id), context.engine, user, session, context.now())


@router.post("/cases/{case_id}/safety-work-cannot-be-met", response_model=CaseDetailOut)
def post_cannot_meet(
    case_id: RowId,
    body: CannotMeetIn,
    session: DbSession,
    context: Context,
    user: Annotated[User, Depends(require("cases:write"))],
) -> CaseDetailOut:
    """Safety work cannot be done in time: the duty to offer alternative accommodation shows."""
    case = service.safety_work_cannot_be_met(
        session,
        case_id=case_id,
        reason=body.reason,
        actor=user.name,
        now=context.now(),
        engine=context.engine,
    )
    return _detail(case, context.engine, user, session, context.now())


@router.post("/cases/{case_id}/assignment", response_model=CaseDetailOut)
def post_assignment(
    case_id: RowId,
    body: AssignmentIn,
    session: DbSession,
    context: Context,
    user: Annotated[User, Depends(require("cases:assign"))],
) -> CaseDetailOut:
    """Give the case to an officer (``{"officer": null}``: to nobody); 422 if they are not one."""
    if body.officer is not None and not session.scalar(
        select(User.id).where(
            User.name == body.officer, User.role == "officer", User.disabled_at.is_(None)
        )
    ):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"{body.officer} is not an officer"
        )
    case = service.assign_case(
        session, case_id=case_id, officer=body.officer, actor=user.name, now=context.now()
    )
    return _detail(case, context.engine, user, session, context.now())


def _summary_facts(session: Session, case_id: int, context: AppContext) -> SummaryFacts:
    return service.summary_facts(
        session, _case_or_404(session, case_id), context.engine, now=context.now()
    )


@router.get("/cases/{case_id}/summary.html", response_class=HTMLResponse)
def get_summary_html(
    case_id: RowId,
    session: DbSession,
    context: Context,
    _user: Annotated[User, Depends(require("cases:personal"))],
    large_print: bool = False,
) -> HTMLResponse:
    """The written summary for the tenant, as HTML (large print on request)."""
    facts = _summary_facts(session, case_id, context)
    html = render_html(facts, large_print=large_print)
    return HTMLResponse(html, headers={"Content-Security-Policy": document_csp(html)})


@router.get("/cases/{case_id}/summary.pdf")
def get_summary_pdf(
    case_id: RowId,
    session: DbSession,
    context: Context,
    _user: Annotated[User, Depends(require("cases:personal"))],
    large_print: bool = False,
) -> Response:
    """The written summary for the tenant, as PDF (large print on request)."""
    facts = _summary_facts(session, case_id, context)
    suffix = "-large-print" if large_print else ""
    return Response(
        render_pdf(facts, large_print=large_print),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="case-{case_id}-summary{suffix}.pdf"'},
    )
