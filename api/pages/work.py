"""The pages of the people who work the queue: the hazard queue and a case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from api.deps import AppContext, Context, DbSession, RowId, page_action, page_require
from api.pages import charts, queries
from api.pages.render import duration, render, words
from api.session import SignedIn
from compliance import repository, service
from compliance.models import Case
from compliance.schemas import ClockKind, EventIn
from ingest.store import TelemetryStoreError
from registry import repository as registry
from registry.clock import from_epoch_s, utc_now
from repairs import repository as repairs_repository
from repairs.models import WorkOrder
from repairs.rules import PRIORITY_KEYS

router = APIRouter(include_in_schema=False)

CLOCK_KINDS: tuple[str, ...] = ClockKind.__args__  # type: ignore[attr-defined]
CHART_BEFORE_WINDOW = timedelta(days=2)
CHART_AFTER_WINDOW = timedelta(hours=12)
CHART_DEFAULT_SPAN = timedelta(days=3)


@router.get("/queue")
def queue_page(
    request: Request,
    session: DbSession,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_require("cases:read"))],
    hazard: str | None = None,
    category: str | None = None,
    clock: str | None = None,
    area: str | None = None,
    officer: str | None = None,
) -> Response:
    """Open cases, nearest deadline first, with filters and assignment."""
    filters = queries.QueueFilters(
        hazard=hazard or None,
        category=category or None,
        clock=clock or None,
        area=area or None,
        officer=officer or None,
    )
    now = utc_now()
    view = queries.hazard_queue(
        session, filters=filters, now=now, timezone=context.engine.calendar.timezone
    )
    return render(
        request,
        "queue.html",
        signed,
        now=now,
        view=view,
        filters=filters,
        clock_kinds=CLOCK_KINDS,
        area_of=queries.area_of,
        personal=_may(signed, "cases:personal"),
    )


def _may(signed: SignedIn, permission: str) -> bool:
    from api.auth import may

    return may(signed.user.role, permission)


def allowed_actions(case: Case) -> list[str]:
    """The steps worth offering in the case's state; the state machine still has the last word."""
    if case.status == "closed":
        return ["reopened"]
    if case.outcome is None:
        return ["investigation_booked", "access_failed", "investigation_concluded", "closed"]
    running = {c.kind for c in case.clocks if c.status == "running"}
    actions = []
    if "written_summary" in running:
        actions.append("summary_sent")
    safety_due = any(c.kind == "safety_work" and c.status != "met" for c in case.clocks)
    if safety_due and case.stage != "safety_work_started":
        actions.append("safety_work_started")
    if safety_due or (case.category == "emergency" and "emergency_action" in running):
        actions.append("safety_work_completed")
    if "supplementary_work" in running:
        actions.append("supplementary_work_started")
    if case.outcome in ("emergency", "significant"):
        actions += ["alternative_accommodation_offered", "alternative_accommodation_declined"]
    actions.append("closed")
    return actions


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
class Chart:
    caption: str
    svg: str
    window: tuple[datetime, datetime] | None
    legend: tuple[tuple[str, str], ...] = ()


def _thresholds(figures: dict[str, Any], unit_suffix: str) -> list[charts.Threshold]:
    found = []
    for key, value in figures.items():
        if (
            key.startswith("threshold_")
            and key.endswith(unit_suffix)
            and isinstance(value, int | float)
        ):
            found.append(charts.Threshold(f"threshold {value:g}", float(value)))
    return found


def sensor_charts(context: AppContext, session: Session, case: Case, now: datetime) -> list[Chart]:
    """Humidity and temperature of the home's sensors around each finding's window."""
    windows = [
        (e.window_start, e.window_end)
        for e in case.evidence
        if e.window_start is not None and e.window_end is not None
    ]
    findings = [e for e in case.evidence if e.window_start is not None and e.window_end is not None]
    window: tuple[datetime, datetime] | None
    if windows:
        window = (min(w[0] for w in windows), max(w[1] for w in windows))
        start, end = window[0] - CHART_BEFORE_WINDOW, min(window[1] + CHART_AFTER_WINDOW, now)
    else:
        window = None
        start, end = now - CHART_DEFAULT_SPAN, now
    try:
        readings = context.telemetry.query(start=start, end=end, home_id=case.home_id)
    except TelemetryStoreError:
        return [Chart("The telemetry store did not answer; try again shortly.", "", None)]
    figures: dict[str, Any] = {}
    for e in findings:
        figures.update(e.figures)
    rooms = {
        f"{s.gateway_id}/{s.sensor_id}": s.room
        for s in registry.sensors_of_home(session, case.home_id)
    }
    made = []
    for measurement, unit, suffix in (
        ("humidity_pct", "% RH", "_pct"),
        ("temperature_c", "°C", "_c"),
        ("wme_pct", "% WME", "wme_pct"),
    ):
        by_sensor: dict[str, list[tuple[datetime, float]]] = {}
        for r in readings:
            value = getattr(r, measurement)
            if value is not None:
                by_sensor.setdefault(f"{r.gateway_id}/{r.sensor}", []).append(
                    (from_epoch_s(r.ts), value)
                )
        if not by_sensor:
            continue
        series = [
            charts.Series(f"{words(rooms.get(key, ''))} ({key})", points)
            for key, points in sorted(by_sensor.items())
        ]
        thresholds = _thresholds(figures, suffix) if measurement != "wme_pct" else []
        title = f"{words(measurement.rsplit('_', 1)[0])} in the home, {unit}"
        made.append(
            Chart(
                title,
                charts.line_chart(
                    series,
                    title=title,
                    unit=unit,
                    thresholds=thresholds,
                    window=window,
                    start=start,
                    end=end,
                ),
                window,
                tuple(
                    (one.label, charts.SERIES_COLOURS[i % len(charts.SERIES_COLOURS)])
                    for i, one in enumerate(series)
                ),
            )
        )
    return made


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    title: str
    actor: str
    detail: str


def timeline(session: Session, case: Case) -> list[TimelineItem]:
    """The case's events and its audit entries, in time order."""
    items = [
        TimelineItem(
            e.at,
            words(e.type)
            + (f": {words(e.details.get('outcome'))}" if e.details.get("outcome") else ""),
            e.actor,
            e.note or "",
        )
        for e in case.events
    ]
    for entry in queries.case_audit_entries(session, case):
        items.append(
            TimelineItem(
                entry.at,
                f"Audit: {entry.action}",
                entry.actor,
                f"entry {entry.id}, hash {entry.hash[:12]}…",
            )
        )
    return sorted(items, key=lambda i: i.at)


def _case_or_404(
    session: Session, request: Request, signed: SignedIn, case_id: int
) -> Case | Response:
    case = repository.get_case(session, case_id)
    if case is None:
        return render(
            request,
            "not_found.html",
            signed,
            status_code=404,
            reason=f"There is no case {case_id}.",
        )
    return case


@router.get("/cases/{case_id}")
def case_page(
    case_id: RowId,
    request: Request,
    session: DbSession,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_require("cases:read"))],
) -> Response:
    """One case: clocks, actions, home and household (by role), evidence charts, timeline."""
    found = _case_or_404(session, request, signed, case_id)
    if not isinstance(found, Case):
        return found
    case = found
    now = utc_now()
    household_visible = _may(signed, "households:read")
    tz = ZoneInfo(context.engine.calendar.timezone)
    work_orders = repairs_repository.list_work_orders(session, case_id=case.id)
    return render(
        request,
        "case.html",
        signed,
        now=now,
        now_local=now.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
        case=case,
        actions=allowed_actions(case),
        officers=queries.officer_names(session),
        personal=_may(signed, "cases:personal"),
        home_visible=_may(signed, "cases:personal"),
        home=registry.get_home(session, case.home_id),
        sensors=registry.sensors_of_home(session, case.home_id),
        household_visible=household_visible,
        household=registry.get_household(session, case.home_id) if household_visible else None,
        charts=sensor_charts(context, session, case, now),
        work_orders=work_orders,
        journeys={w.id: Journey.of(w) for w in work_orders},
        contractors=repairs_repository.contractors(session),
        priorities=PRIORITY_KEYS,
        raisable=raisable_work(case),
        summaries=[e for e in case.events if e.type == "summary_sent"],
        timeline=timeline(session, case),
    )


def _back(case_id: int, **params: str) -> RedirectResponse:
    return RedirectResponse(f"/cases/{case_id}?{urlencode(params)}", status.HTTP_303_SEE_OTHER)


def parse_local(value: str, timezone: str) -> datetime:
    """A datetime-local form value read in the organisation's time zone, as an aware datetime."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment


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
    supplementary_work_needed: Annotated[bool | None, Form()] = None,
) -> Response:
    """Record one step through the same service (and state machine) as the API."""
    try:
        event = EventIn(
            type=type,  # type: ignore[arg-type]
            at=parse_local(at, context.engine.calendar.timezone),
            note=note or None,
            outcome=outcome or None,  # type: ignore[arg-type]
            method=method or None,
            supplementary_work_needed=supplementary_work_needed,
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
        return RedirectResponse(
            "/queue?" + urlencode({"error": f"there is no case {case_id}"}),
            status.HTTP_303_SEE_OTHER,
        )
    except service.EventRefused as exc:
        return _back(case_id, error=str(exc))
    return _back(case_id, message=f"Recorded: {words(event.type).lower()}.")


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])} {first['msg']}"
    return str(exc)


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
        case = repository.get_case(session, case_id)
        if case is None:
            return RedirectResponse(
                "/queue?" + urlencode({"error": f"there is no case {case_id}"}),
                status.HTTP_303_SEE_OTHER,
            )
        if officer and officer not in queries.officer_names(session):
            return _back(case_id, error=f"{officer} is not an officer")
        service.assign_case(
            session, case_id=case.id, officer=officer or None, actor=signed.user.name, now=utc_now()
        )
    done = f"Case {case_id} assigned to {officer or 'nobody'}."
    if back == "queue":
        return RedirectResponse("/queue?" + urlencode({"message": done}), status.HTTP_303_SEE_OTHER)
    return _back(case_id, message=done)


@router.post("/cases/{case_id}/clocks/{kind}/reasonable-steps")
def reasonable_steps_form(
    case_id: RowId,
    kind: str,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_action("cases:write"))],
    steps: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    """The officer records the reasonable steps taken against a breached clock."""
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
        return RedirectResponse(
            "/queue?" + urlencode({"error": f"there is no case {case_id}"}),
            status.HTTP_303_SEE_OTHER,
        )
    except service.EventRefused as exc:
        return _back(case_id, error=str(exc))
    return _back(
        case_id, message=f"Reasonable steps recorded against the {words(kind).lower()} clock."
    )


@router.post("/cases/{case_id}/clocks/{kind}/excuse")
def excuse_form(
    case_id: RowId,
    kind: str,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_action("compliance:excuse"))],
    note: Annotated[str | None, Form(max_length=2000)] = None,
    back: Annotated[str, Form(max_length=12)] = "case",
) -> Response:
    """Compliance accepts the recorded reasonable steps: the breach is excused (never erased)."""
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
        return RedirectResponse(
            "/queue?" + urlencode({"error": f"there is no case {case_id}"}),
            status.HTTP_303_SEE_OTHER,
        )
    except service.EventRefused as exc:
        done, ok = str(exc), False
    else:
        done, ok = f"The {words(kind).lower()} breach on case {case_id} is excused.", True
    if back == "compliance":
        return RedirectResponse(
            "/compliance?" + urlencode({"message" if ok else "error": done}),
            status.HTTP_303_SEE_OTHER,
        )
    return _back(case_id, **{"message" if ok else "error": done})
