"""The pages of the people who work the queue: the hazard queue and a case, with its steps.

Each route parses the form or query, calls one service function and renders; the rules (which
duty is most urgent, which steps the case's state allows, what closing needs) are
``compliance.service``'s and ``compliance.lifecycle``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from api.access_log import HOUSEHOLD_NEEDS, record_read
from api.auth import may, officer_names
from api.deps import AppContext, Context, DbSession, RowId, page_action, page_require
from api.pages import sensors
from api.pages.render import duration, render, words
from api.pages.resident import case_photos
from api.session import SignedIn
from compliance import repository, service
from compliance.enums import CEASE_REASONS, CLOSURE_REASONS, ClockKind
from compliance.models import Case
from compliance.schemas import EventIn, WorkPlanIn
from notify import service as notify_service
from registry import repository as registry
from registry.clock import utc_now
from registry.service import NEEDS
from repairs import repository as repairs_repository
from repairs.enums import PRIORITY_KEYS
from repairs.models import WorkOrder

router = APIRouter(include_in_schema=False)

CLOCK_KINDS: tuple[str, ...] = ClockKind.__args__  # type: ignore[attr-defined]
PAGE_SIZE = 100

# Each step as a person asks for it (imperative), and what the form's button says.
STEP_TITLES: dict[str, str] = {
    "triage_confirmed": "Confirm the sensor finding",
    "investigation_booked": "Book the investigation",
    "access_failed": "Record a failed attempt to get in",
    "investigation_concluded": "Record the investigation's findings",
    "renewed_investigation_requested": "Record the tenant's request for an in-person investigation",
    "further_investigation_opened": "Open a further investigation",
    "summary_sent": "Send the written summary",
    "safety_work_started": "Record that safety work has started",
    "safety_work_completed": "Record the home made safe",
    "supplementary_steps_taken": "Record steps taken to begin the supplementary work",
    "supplementary_work_started": "Record the supplementary work begun",
    "supplementary_work_completed": "Record the supplementary work completed",
    "alternative_accommodation_offered": "Offer alternative accommodation",
    "alternative_accommodation_accepted": "Record the offer accepted",
    "alternative_accommodation_declined": "Record the offer declined",
    "household_moved": "Record the household moved out",
    "household_returned": "Record the household back home",
    "emergency_duty_ceased": "Record that the 24-hour duty no longer applies",
    "closure_requested": "Ask to close the case",
    "closed": "Close the case",
    "reopened": "Reopen the case",
}
# What a recorded step is called in the timeline and messages (past tense: it happened).
STEP_DONE: dict[str, str] = {
    "triage_confirmed": "Sensor finding confirmed",
    "investigation_booked": "Investigation booked",
    "access_failed": "Access attempt failed",
    "investigation_concluded": "Investigation concluded",
    "renewed_investigation_requested": "In-person investigation requested",
    "further_investigation_opened": "Further investigation opened",
    "summary_sent": "Written summary sent",
    "safety_work_started": "Safety work started",
    "safety_work_completed": "Home made safe",
    "supplementary_steps_taken": "Steps taken to begin supplementary work",
    "supplementary_work_started": "Supplementary work begun",
    "supplementary_work_completed": "Supplementary work completed",
    "alternative_accommodation_offered": "Alternative accommodation offered",
    "alternative_accommodation_accepted": "Alternative accommodation accepted",
    "alternative_accommodation_declined": "Alternative accommodation declined",
    "household_moved": "Household moved out",
    "household_returned": "Household back home",
    "emergency_duty_ceased": "24-hour duty ceased",
    "closure_requested": "Closure requested",
    "closed": "Case closed",
    "reopened": "Case reopened",
}
CLOSURE_WORDS: dict[str, str] = {
    "work_complete_verified": "Work complete and verified",
    "no_hazard_found": "No hazard found (or not a significant one)",
    "tenancy_ended": "The tenancy ended",
    "duplicate": "Duplicate of another case (name it in the note)",
    "out_of_scope": "Out of scope of Awaab's Law",
}
CEASE_WORDS: dict[str, str] = {
    "household_moved_out": "The household moved out of the home before the 24 hours ran out",
    "third_party_consent_refused": (
        "A third party's consent was needed and could not be had despite all reasonable endeavours"
    ),
}
RULE_SET_WORDS: dict[str, str] = {
    "phase_1": "Awaab's Law phase 1 (from 27 October 2025)",
    "phase_2": "Awaab's Law phase 2 (from 30 November 2026)",
    "phase_3": "Awaab's Law phase 3",
    "out_of_scope": "before Awaab's Law came into force",
}
TENURE_WORDS: dict[str, str] = {
    "social_rent": "social rent",
    "affordable_rent": "affordable rent",
    "shared_ownership": "shared ownership",
    "leasehold": "leasehold",
    "licence": "licence",
    "other": "other",
}


def back_to(path: str, **said: str) -> RedirectResponse:
    """Back to a page with what was done (``message``) or why not (``error``)."""
    return RedirectResponse(
        f"{path}?{urlencode(said)}" if said else path, status.HTTP_303_SEE_OTHER
    )


def _back(case_id: int, **said: str) -> RedirectResponse:
    return back_to(f"/cases/{case_id}", **said)


def _no_case(case_id: int) -> RedirectResponse:
    return back_to("/queue", error=f"there is no case {case_id}")


def _may(signed: SignedIn, permission: str) -> bool:
    return may(signed.user.role, permission)


@router.get("/queue")
def queue_page(
    request: Request,
    session: DbSession,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_require("cases:read"))],
    q: Annotated[str | None, Query(max_length=100)] = None,
    status_: Annotated[str | None, Query(alias="status", max_length=8)] = None,
    show: Annotated[list[str] | None, Query(max_length=20)] = None,
    hazard: Annotated[str | None, Query(max_length=40)] = None,
    category: Annotated[str | None, Query(max_length=16)] = None,
    clock: Annotated[str | None, Query(max_length=32)] = None,
    area: Annotated[str | None, Query(max_length=10)] = None,
    officer: Annotated[str | None, Query(max_length=64)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Cases by urgency (breached duties first), with quick filters, search and assignment."""
    now = utc_now()
    shown = set(show or ())
    search = (q or "").strip() or None
    chosen_status = (
        status_ if status_ in ("open", "closed", "all") else ("all" if search else "open")
    )
    query = repository.QueueQuery(
        status=chosen_status,
        hazard=hazard or None,
        category=category or None,
        clock=clock or None,
        area=area or None,
        officer=signed.user.name if "mine" in shown else (officer or None),
        breached="breached" in shown,
        due_before=service.end_of_local_day(now, context.engine) if "today" in shown else None,
        emergency="emergency" in shown,
        search=search,
        search_personal=_may(signed, "cases:personal"),
    )
    view = service.hazard_queue(
        session,
        query=query,
        now=now,
        engine=context.engine,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return render(
        request,
        "queue.html",
        signed,
        now=now,
        view=view,
        query=query,
        shown=shown,
        search=search or "",
        status_choice=chosen_status,
        officer_filter=officer or "",
        page=page,
        pages=max(1, -(-view.total // PAGE_SIZE)),
        clock_kinds=CLOCK_KINDS,
        officers=officer_names(session),
        area_of=service.area_of,
        personal=_may(signed, "cases:personal"),
        step_done=STEP_DONE,
        closure_words=CLOSURE_WORDS,
    )


def raisable_work(case: Case) -> list[str]:
    """The kinds of work order an open case may have, those its clocks call for first."""
    if case.status != "open":
        return []
    clocked = {c.kind for c in case.clocks}
    return sorted(("safety", "supplementary"), key=lambda kind: f"{kind}_work" not in clocked)


@dataclass(frozen=True)
class Journey:
    """The two parts of a repair's journey: report to dispatch, dispatch to completion."""

    to_dispatch: timedelta | None
    dispatch_to_complete: timedelta | None

    @classmethod
    def of(cls, order: WorkOrder) -> Journey:
        """The parts measured so far (None for a part not yet ended)."""
        first = order.dispatched_at - order.reported_at if order.dispatched_at else None
        second = (
            order.completed_at - order.dispatched_at
            if order.completed_at and order.dispatched_at
            else None
        )
        return cls(first, second)

    def words(self, part: timedelta | None) -> str:
        """A part as a person reads it, or 'not yet'."""
        return duration(part) if part is not None else "not yet"


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    title: str
    actor: str
    detail: str
    audit: bool = False


def timeline(session: Session, case: Case) -> list[TimelineItem]:
    """The case's events and its audit entries, in time order."""
    items = []
    for e in case.events:
        title = STEP_DONE.get(e.type, words(e.type))
        extra = [
            words(str(e.details[key]))
            for key in ("outcome", "investigation_type", "method", "reason")
            if e.details.get(key)
        ]
        if extra:
            title += ": " + ", ".join(extra).lower()
        items.append(TimelineItem(e.at, title, e.actor, e.note or ""))
    for entry in repository.case_audit_entries(session, case):
        items.append(
            TimelineItem(
                entry.at,
                f"Audit log: {entry.action.replace('.', ' ').replace('_', ' ')}",
                entry.actor,
                f"entry {entry.id}, hash {entry.hash[:12]}…",
                audit=True,
            )
        )
    return sorted(items, key=lambda i: (i.at, i.audit))


def withdrawn_breaches(session: Session, case: Case) -> dict[int, datetime]:
    """Clock id → when its automatic breach was withdrawn (the act was on time, recorded late)."""
    return {
        int(entry.entity_id): entry.at
        for entry in repository.case_audit_entries(session, case)
        if entry.action == "clock.breach_withdrawn"
    }


def not_found(request: Request, signed: SignedIn | None, reason: str) -> Response:
    return render(request, "not_found.html", signed, status_code=404, reason=reason)


def household_words(people: dict[str, Any]) -> str:
    """Who is waiting, as the signed-in person may read it."""
    tenant = people.get("tenant") or {}
    if tenant.get("name"):
        return f"{tenant['name']} (the tenant) and their household"
    return "The household"


@router.get("/cases/{case_id}")
def case_page(
    case_id: RowId,
    request: Request,
    session: DbSession,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_require("cases:read"))],
) -> Response:
    """One case: its next step, clocks, steps, people (by role), evidence, letters, timeline."""
    case = repository.get_case(session, case_id)
    if case is None:
        return not_found(request, signed, f"There is no case {case_id}.")
    now = utc_now()
    tz = ZoneInfo(context.engine.calendar.timezone)
    personal = _may(signed, "cases:personal")
    people = service.case_people(
        session,
        case,
        context.engine,
        personal=personal,
        needs=_may(signed, "households:needs"),
        now=now,
    )
    if _may(signed, "households:needs"):
        record_read(
            session,
            actor=signed.user.name,
            role=signed.user.role,
            what=HOUSEHOLD_NEEDS,
            subject=f"home {case.home_id} (case {case.id})",
            via=f"page /cases/{case.id}",
            now=now,
        )
    work_orders = repairs_repository.list_work_orders(session, case_id=case.id)
    return render(
        request,
        "case.html",
        signed,
        now=now,
        now_local=now.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
        case=case,
        record=service.case_record(case),
        people=people,
        personal=personal,
        needs_words=NEEDS,
        next=service.next_step(case, context.engine, household=household_words(people)),
        steps=service.possible_steps(case, context.engine, at=now),
        step_titles=STEP_TITLES,
        step_done=STEP_DONE,
        duty_label=service.duty_label,
        excuse_state=service.excuse_state,
        withdrawn=withdrawn_breaches(session, case),
        closure_reasons=CLOSURE_REASONS,
        closure_words=CLOSURE_WORDS,
        closure_note=next(
            (e.note or "" for e in reversed(case.events) if e.type == "closure_requested"), ""
        )
        if case.closure_requested_by
        else "",
        cease_reasons=CEASE_REASONS,
        cease_words=CEASE_WORDS,
        rule_set_words=RULE_SET_WORDS,
        tenure_words=TENURE_WORDS,
        officers=officer_names(session),
        home=registry.get_home(session, case.home_id),
        sensors=registry.sensors_of_home(session, case.home_id),
        charts=sensors.home_charts(
            context.telemetry,
            session,
            home_id=case.home_id,
            evidence=case.evidence,
            now=now,
            timezone=context.engine.calendar.timezone,
        ),
        work_orders=work_orders,
        journeys={w.id: Journey.of(w) for w in work_orders},
        contractors=repairs_repository.contractors(session),
        priorities=PRIORITY_KEYS,
        raisable=raisable_work(case),
        letters=service.letters_sent(case),
        summary_methods=service.SUMMARY_METHODS,
        # notify's include (case_notify.html): messages about the case and its photos.
        notify_messages=notify_service.case_messages(session, case_id=case.id)
        if may(signed.user.role, "cases:personal")
        else [],
        notify_photos=case_photos(case) if may(signed.user.role, "cases:personal") else [],
        timeline=timeline(session, case),
    )


def parse_local(value: str, timezone: str) -> datetime:
    """A datetime-local form value read in the organisation's time zone, as an aware datetime."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment


def _plan(what: str | None, begin_by: str | None, complete_by: str | None) -> WorkPlanIn | None:
    if not (what or "").strip():
        return None
    return WorkPlanIn(
        what=(what or "").strip(),
        begin_by=date.fromisoformat(begin_by) if begin_by else None,
        complete_by=date.fromisoformat(complete_by) if complete_by else None,
    )


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])} {first['msg']}"
    return str(exc)


@router.post("/cases/{case_id}/events")
def record_event_form(
    case_id: RowId,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_action("cases:write"))],
    type: Annotated[str, Form(max_length=40)],
    at: Annotated[str, Form(max_length=40)],
    note: Annotated[str | None, Form(max_length=10_000)] = None,
    outcome: Annotated[str | None, Form(max_length=20)] = None,
    method: Annotated[str | None, Form(max_length=40)] = None,
    reason: Annotated[str | None, Form(max_length=40)] = None,
    supplementary_work_needed: Annotated[bool | None, Form()] = None,
    investigation_type: Annotated[str | None, Form(max_length=16)] = None,
    investigator: Annotated[str | None, Form(max_length=200)] = None,
    investigator_role: Annotated[str | None, Form(max_length=100)] = None,
    findings: Annotated[str | None, Form(max_length=10_000)] = None,
    safety_what: Annotated[str | None, Form(max_length=2000)] = None,
    safety_begin_by: Annotated[str | None, Form(max_length=10)] = None,
    safety_complete_by: Annotated[str | None, Form(max_length=10)] = None,
    supplementary_what: Annotated[str | None, Form(max_length=2000)] = None,
    supplementary_begin_by: Annotated[str | None, Form(max_length=10)] = None,
    supplementary_complete_by: Annotated[str | None, Form(max_length=10)] = None,
) -> Response:
    """Record one step through the same service (and state machine) as the API."""
    if type in ("closed", "closure_requested"):
        return _back(case_id, error="close a case from its closing page, which asks for a reason")
    try:
        event = EventIn(
            type=type,  # type: ignore[arg-type]
            at=parse_local(at, context.engine.calendar.timezone),
            note=(note or "").strip() or None,
            outcome=outcome or None,  # type: ignore[arg-type]
            method=method or None,
            reason=reason or None,
            supplementary_work_needed=supplementary_work_needed,
            investigation_type=investigation_type or None,  # type: ignore[arg-type]
            investigator=(investigator or "").strip() or None,
            investigator_role=(investigator_role or "").strip() or None,
            findings=(findings or "").strip() or None,
            safety_work=_plan(safety_what, safety_begin_by, safety_complete_by),
            supplementary_work=_plan(
                supplementary_what, supplementary_begin_by, supplementary_complete_by
            ),
        )
    except (ValidationError, ValueError) as exc:
        return _back(case_id, error=f"the form was not complete: {_first_error(exc)}")
    try:
        with context.sessions.begin() as session:
            service.record_event(
                session,
                case_id=case_id,
                event=event,
                actor=signed.user.name,
                now=utc_now(),
                engine=context.engine,
            )
    except service.CaseNotFound:
        return _no_case(case_id)
    except (service.EventRefused, service.InvalidInput) as exc:
        return _back(case_id, error=exc.reason)
    return _back(case_id, message=f"Recorded: {STEP_DONE.get(event.type, event.type).lower()}.")


@router.post("/cases/{case_id}/safety-work-cannot-be-met")
def cannot_meet_form(
    case_id: RowId,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_action("cases:write"))],
    reason: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    """The safety work cannot be done in time: the alternative accommodation decision is due now."""
    try:
        with context.sessions.begin() as session:
            service.safety_work_cannot_be_met(
                session,
                case_id=case_id,
                reason=reason,
                actor=signed.user.name,
                now=utc_now(),
                engine=context.engine,
            )
    except service.CaseNotFound:
        return _no_case(case_id)
    except service.EventRefused as exc:
        return _back(case_id, error=exc.reason)
    return _back(
        case_id,
        message="Recorded: the safety work cannot be done in time. Decide on alternative "
        "accommodation before the deadline.",
    )


@router.get("/cases/{case_id}/close")
def close_page(
    case_id: RowId,
    request: Request,
    session: DbSession,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_require("cases:write"))],
    reason: Annotated[str, Query(max_length=40)] = "",
    note: Annotated[str, Query(max_length=10_000)] = "",
) -> Response:
    """Confirm closing: the reason, what would cease, and whether a second officer must approve."""
    case = repository.get_case(session, case_id)
    if case is None:
        return not_found(request, signed, f"There is no case {case_id}.")
    if case.status != "open":
        return _back(case_id, error="the case is already closed")
    plan = (
        service.closing(
            case,
            context.engine,
            reason=reason,
            actor=signed.user.name,
            at=utc_now(),
            note=note.strip() or None,
        )
        if reason in CLOSURE_REASONS
        else None
    )
    return render(
        request,
        "close.html",
        signed,
        case=case,
        plan=plan,
        reason=reason,
        note=note,
        closure_reasons=CLOSURE_REASONS,
        closure_words=CLOSURE_WORDS,
        duty_label=service.duty_label,
        now_local=utc_now()
        .astimezone(ZoneInfo(context.engine.calendar.timezone))
        .strftime("%Y-%m-%dT%H:%M"),
    )


@router.post("/cases/{case_id}/close")
def close_form(
    case_id: RowId,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_action("cases:write"))],
    reason: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=10_000)] = "",
    at: Annotated[str, Form(max_length=40)] = "",
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Close the case (or ask a second officer to approve), after the confirmation page."""
    if confirm != "yes":
        return back_to(f"/cases/{case_id}/close", reason=reason, note=note)
    if reason not in CLOSURE_REASONS:
        return back_to(f"/cases/{case_id}/close", error="choose why the case closes", note=note)
    try:
        when = parse_local(at, context.engine.calendar.timezone) if at else utc_now()
        with context.sessions.begin() as session:
            _, recorded = service.close_case(
                session,
                case_id=case_id,
                reason=reason,
                note=note.strip() or None,
                at=when,
                actor=signed.user.name,
                now=utc_now(),
                engine=context.engine,
            )
    except service.CaseNotFound:
        return _no_case(case_id)
    except (service.EventRefused, service.InvalidInput) as exc:
        return _back(case_id, error=exc.reason)
    except ValueError as exc:
        return _back(case_id, error=f"the form was not complete: {exc}")
    if recorded == "closure_requested":
        return _back(
            case_id,
            message="Closure requested. Duties are still outstanding, so another officer must "
            "approve it from this page.",
        )
    return _back(case_id, message=f"Case closed: {CLOSURE_WORDS[reason].lower()}.")


@router.post("/cases/{case_id}/assign")
def assign_form(
    case_id: RowId,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_action("cases:assign"))],
    officer: Annotated[str, Form(max_length=64)] = "",
    back: Annotated[str, Form(max_length=10)] = "case",
) -> Response:
    """Give the case to an officer (or to nobody); the audit log records who and when."""
    with context.sessions.begin() as session:
        if repository.get_case(session, case_id) is None:
            return _no_case(case_id)
        if officer and officer not in officer_names(session):
            return _back(case_id, error=f"{officer} is not an officer")
        service.assign_case(
            session, case_id=case_id, officer=officer or None, actor=signed.user.name, now=utc_now()
        )
    done = f"Case {case_id} assigned to {officer or 'nobody'}."
    if back == "queue":
        return back_to("/queue", message=done)
    return _back(case_id, message=done)


@router.post("/cases/{case_id}/clocks/{kind}/reasonable-endeavours")
@router.post("/cases/{case_id}/clocks/{kind}/reasonable-steps")
def reasonable_endeavours_form(
    case_id: RowId,
    kind: str,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_action("cases:write"))],
    steps: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    """The officer records all reasonable endeavours made against a breached clock."""
    try:
        with context.sessions.begin() as session:
            service.record_reasonable_steps(
                session,
                case_id=case_id,
                kind=kind,
                steps=steps,
                actor=signed.user.name,
                now=utc_now(),
            )
    except service.CaseNotFound:
        return _no_case(case_id)
    except service.EventRefused as exc:
        return _back(case_id, error=exc.reason)
    return _back(case_id, message="All reasonable endeavours recorded against the breach.")


@router.post("/cases/{case_id}/clocks/{kind}/excuse")
def excuse_form(
    case_id: RowId,
    kind: str,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_action("compliance:excuse"))],
    note: Annotated[str | None, Form(max_length=2000)] = None,
    back: Annotated[str, Form(max_length=12)] = "case",
) -> Response:
    """Compliance accepts the recorded reasonable endeavours: the breach is excused (never erased)."""
    try:
        with context.sessions.begin() as session:
            service.excuse_breach(
                session,
                case_id=case_id,
                kind=kind,
                actor=signed.user.name,
                now=utc_now(),
                note=note,
            )
    except service.CaseNotFound:
        return _no_case(case_id)
    except service.EventRefused as exc:
        said = {"error": exc.reason}
    else:
        said = {"message": f"The breach on case {case_id} is excused: all reasonable endeavours."}
    return back_to("/compliance" if back == "compliance" else f"/cases/{case_id}", **said)


def context_letters(context: AppContext) -> Any:
    """The letter delivery channel the composition root plugged in, if any."""
    return getattr(context, "letters", None)
