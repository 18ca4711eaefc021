"""Compliance use cases: open or join a case, record its events, breach, warn and excuse.

Every state change loads the case's rows into ``compliance.lifecycle.CaseState``, applies the pure
rule (which refuses with ``lifecycle.EventRefused``), writes the ``Transition`` back (new clocks
get their warning rows, new investigations their rows) and appends audit entries: who, what,
when, before and after; a withdrawn automatic breach gets an entry of its own.
Services take keyword-only arguments and never commit: the request or job owns the transaction.
On PostgreSQL each step locks the case row first, so the API and the schedulers serialise per case.

Beyond the contract's events (whose names stay as they are) Homesafe records the further steps
of docs/api.md ("Case events"), and ``triage_confirmed``: with ``awareness_from_sensors =
on_triage`` a sensor case opens ``awaiting_triage`` with no clocks until an officer confirms it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from compliance import audit, events, lifecycle, repository
from compliance.calendar import WorkingDayCalendar
from compliance.clocks import triage_due_at, warning_times
from compliance.enums import EVENT_TYPES
from compliance.lifecycle import (
    AccessAttempt,
    CaseState,
    ClockState,
    ClosureRequest,
    EventRefused,
    Transition,
    WorkPlan,
)
from compliance.lifecycle import (
    Investigation as InvestigationState,
)
from compliance.models import Case, CaseEvent, Clock, ClockWarning, Evidence, Investigation
from compliance.reporting import ClockRow, summary_figures
from compliance.repository import BREACHED
from compliance.rules import (
    CLOCK_RULE_BY_DUTY,
    RULE_SETS,
    ComplianceSettings,
    OutOfScope,
    RuleSet,
    rule_set_for,
    tenure_scope,
)
from compliance.schemas import CaseOut, EventIn, FindingIn, ReportIn, WorkPlanIn
from compliance.summary import Landlord, SummaryFacts, WorkItem, render_text
from registry import repository as registry
from registry.clock import to_rfc3339
from registry.models import Home
from registry.service import needs_of

__all__ = [
    "OUT_OF_SCOPE",
    "TRIAGE_CONFIRMED",
    "CaseNotFound",
    "Engine",
    "EventRefused",
    "HomeNotFound",
    "InvalidInput",
]

TRIAGE_CONFIRMED = "triage_confirmed"

# Awareness before Awaab's Law: a rule set that covers nothing, so no clock ever starts.
OUT_OF_SCOPE = RuleSet(
    key="out_of_scope",
    effective_from=date.min,
    emergency_hazards=frozenset(),
    significant_hazards=frozenset(),
)


class CaseNotFound(LookupError):
    """No case with that id."""


class HomeNotFound(LookupError):
    """No home with that id in the registry."""


class InvalidInput(ValueError):
    """Input that can never be right (a time in the future): the API answers 422 with the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Engine:
    """The calendar and settings every compliance function needs, built once by the composition root."""

    calendar: WorkingDayCalendar
    settings: ComplianceSettings = field(default_factory=ComplianceSettings)
    rule_sets: tuple[RuleSet, ...] = RULE_SETS
    landlord: Landlord = field(default_factory=Landlord)

    def rule_set(self, key: str, aware_at: datetime) -> RuleSet:
        """The case's rule set by its stored key (the one in force at awareness)."""
        for rule_set in self.rule_sets:
            if rule_set.key == key:
                return rule_set
        if key == OUT_OF_SCOPE.key:
            return OUT_OF_SCOPE
        return rule_set_for(aware_at, self.calendar.timezone, self.rule_sets)


# --- rows <-> lifecycle state ---------------------------------------------------------------------


def _plan(data: dict[str, Any] | None) -> WorkPlan | None:
    if not data:
        return None
    return WorkPlan(
        what=data.get("what") or "",
        begin_by=date.fromisoformat(data["begin_by"]) if data.get("begin_by") else None,
        complete_by=date.fromisoformat(data["complete_by"]) if data.get("complete_by") else None,
    )


def _plan_json(plan: WorkPlan | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    return {
        "what": plan.what,
        "begin_by": plan.begin_by.isoformat() if plan.begin_by else None,
        "complete_by": plan.complete_by.isoformat() if plan.complete_by else None,
    }


def case_state(case: Case) -> CaseState:
    """The pure lifecycle's view of a case row and its clock and investigation rows."""
    request = None
    if case.closure_requested_by and case.closure_requested_at and case.closure_request_reason:
        request = ClosureRequest(
            by=case.closure_requested_by,
            at=case.closure_requested_at,
            reason=case.closure_request_reason,  # type: ignore[arg-type]
        )
    return CaseState(
        hazard=case.hazard,
        category=case.category,  # type: ignore[arg-type]
        source=case.source,  # type: ignore[arg-type]
        aware_at=case.aware_at,
        rule_set_key=case.rule_set,
        in_scope=case.in_scope,
        scope_reason=case.scope_reason,
        status=case.status,  # type: ignore[arg-type]
        stage=case.stage,
        outcome=case.outcome,  # type: ignore[arg-type]
        clocks=tuple(
            ClockState(
                kind=c.kind,
                started_at=c.started_at,
                due_at=c.due_at,
                met_at=c.met_at,
                status=c.status,  # type: ignore[arg-type]
                breached_at=c.breached_at,
                excused_at=c.excused_at,
                excuse_reason=c.excuse_reason,
                duty=c.duty,
                ended=c.ended,  # type: ignore[arg-type]
                ended_reason=c.ended_reason,
                investigation_type=c.investigation_type,  # type: ignore[arg-type]
            )
            for c in case.clocks
        ),
        investigations=tuple(
            InvestigationState(
                number=i.number,
                type=i.type,  # type: ignore[arg-type]
                concluded_at=i.concluded_at,
                outcome=i.outcome,  # type: ignore[arg-type]
                method=i.method,  # type: ignore[arg-type]
                investigator=i.investigator,
                investigator_role=i.investigator_role,
                findings=i.findings,
                supplementary_work_needed=i.supplementary_work_needed,
                safety_plan=_plan(i.safety_plan),
                supplementary_plan=_plan(i.supplementary_plan),
                needs_considered=tuple(i.needs_considered or ()),
            )
            for i in case.investigations
        ),
        access_attempts=tuple(
            AccessAttempt(at=datetime.fromisoformat(a["at"]), method=a["method"])
            for a in case.access_attempts or ()
        ),
        investigation_booked_at=case.investigation_booked_at,
        safety_work_started_at=case.safety_work_started_at,
        supplementary_completed_at=case.supplementary_completed_at,
        accommodation=case.accommodation,  # type: ignore[arg-type]
        accommodation_due_reason=case.accommodation_due_reason,
        accommodation_offered_at=case.accommodation_offered_at,
        accommodation_accepted_at=case.accommodation_accepted_at,
        accommodation_declined_at=case.accommodation_declined_at,
        household_moved_at=case.household_moved_at,
        household_returned_at=case.household_returned_at,
        closure_request=request,
        closure_reason=case.closure_reason,  # type: ignore[arg-type]
        closed_at=case.closed_at,
    )


def _write_back(
    session: Session,
    case: Case,
    after: CaseState,
    engine: Engine,
    *,
    actor: str = "",
    now: datetime | None = None,
) -> None:
    """Copy the state after a transition onto the rows; new clocks get rows and warning rows,
    new investigations rows of their own."""
    case.category = after.category
    case.rule_set = after.rule_set_key
    case.in_scope = after.in_scope
    case.scope_reason = after.scope_reason
    case.status = after.status
    case.stage = after.stage
    case.outcome = after.outcome
    case.closed_at = after.closed_at
    case.closure_reason = after.closure_reason
    request = after.closure_request
    case.closure_requested_by = request.by if request else None
    case.closure_requested_at = request.at if request else None
    case.closure_request_reason = request.reason if request else None
    case.investigation_booked_at = after.investigation_booked_at
    case.safety_work_started_at = after.safety_work_started_at
    case.supplementary_completed_at = after.supplementary_completed_at
    case.access_attempts = [
        {"at": to_rfc3339(a.at), "method": a.method} for a in after.access_attempts
    ]
    case.access_failures = len(after.access_attempts)
    case.accommodation = after.accommodation
    case.accommodation_due_reason = after.accommodation_due_reason
    case.alternative_accommodation_due = after.accommodation == "due"
    case.accommodation_offered_at = after.accommodation_offered_at
    case.accommodation_accepted_at = after.accommodation_accepted_at
    case.accommodation_declined_at = after.accommodation_declined_at
    case.household_moved_at = after.household_moved_at
    case.household_returned_at = after.household_returned_at
    rows = list(case.clocks)
    new_rows: list[Clock] = []
    for index, state in enumerate(after.clocks):
        if index < len(rows):
            row = rows[index]
        else:
            row = Clock(kind=state.kind, started_at=state.started_at, due_at=state.due_at)
            case.clocks.append(row)
            new_rows.append(row)
        row.met_at = state.met_at
        row.status = state.status
        row.breached_at = state.breached_at
        row.excused_at = state.excused_at
        row.excuse_reason = state.excuse_reason
        row.duty = state.duty
        row.ended = state.ended
        row.ended_reason = state.ended_reason
        row.investigation_type = state.investigation_type
    for record in after.investigations[len(case.investigations) :]:
        case.investigations.append(
            Investigation(
                number=record.number,
                type=record.type,
                concluded_at=record.concluded_at,
                recorded_at=now or record.concluded_at,
                recorded_by=actor,
                outcome=record.outcome,
                method=record.method,
                investigator=record.investigator,
                investigator_role=record.investigator_role,
                findings=record.findings,
                supplementary_work_needed=record.supplementary_work_needed,
                safety_plan=_plan_json(record.safety_plan),
                supplementary_plan=_plan_json(record.supplementary_plan),
                needs_considered=list(record.needs_considered),
            )
        )
    running = [c.due_at for c in after.clocks if c.status == "running"]
    case.next_due_at = min(running) if running else None
    if new_rows:
        session.flush()
        for row in new_rows:
            for warn_at, label in warning_times(
                row.started_at, row.due_at, engine.calendar, engine.settings
            ):
                session.add(ClockWarning(clock_id=row.id, warn_at=warn_at, label=label))


def _snapshot(case: Case) -> dict[str, Any]:
    return {
        "status": case.status,
        "stage": case.stage,
        "category": case.category,
        "outcome": case.outcome,
        "in_scope": case.in_scope,
        "rule_set": case.rule_set,
        "accommodation": case.accommodation,
        "access_attempts": len(case.access_attempts or ()),
        "clocks": [
            {
                "kind": c.kind,
                "duty": c.duty or c.kind,
                "status": c.status,
                "due_at": to_rfc3339(c.due_at),
                "met_at": to_rfc3339(c.met_at) if c.met_at else None,
                "ended": c.ended,
            }
            for c in case.clocks
        ],
    }


def _lock_case(session: Session, case_id: int) -> Case:
    """The case row, locked for this transaction on PostgreSQL, fresh from the database."""
    case = session.get(
        Case,
        case_id,
        with_for_update=session.get_bind().dialect.name == "postgresql",
        populate_existing=True,
    )
    if case is None:
        raise CaseNotFound(f"no case {case_id}")
    return case


def case_data(case: Case) -> dict[str, Any]:
    """The case as the API returns it in lists (no personal fields), as JSON: an event's ``data``."""
    return CaseOut.model_validate(case).model_dump(mode="json")


def _emit(session: Session, type: str, case: Case, *, at: datetime, detail: dict[str, Any]) -> None:
    """Hand a domain event to the session's sink (compliance.events), in this transaction."""
    if not events.enabled(session):
        return
    session.flush()
    events.record(session, type=type, at=at, data=case_data(case), detail=detail, case_id=case.id)


def _report_detail(evidence: Evidence) -> dict[str, Any] | None:
    """What the notification rules need to know about a report that joined a case."""
    if evidence.kind != "report":
        return None
    return {"source": evidence.source, **(evidence.figures or {})}


def _rule_set_at(aware_at: datetime, engine: Engine) -> RuleSet:
    try:
        return rule_set_for(aware_at, engine.calendar.timezone, engine.rule_sets)
    except OutOfScope:
        return OUT_OF_SCOPE


# --- opening and joining --------------------------------------------------------------------------


def _require_not_future(at: datetime, now: datetime, engine: Engine, what: str) -> None:
    skew = timedelta(minutes=engine.settings.future_skew_minutes)
    if at > now + skew:
        raise InvalidInput(
            f"{what} {to_rfc3339(at)} is in the future (now {to_rfc3339(now)}); "
            f"times up to {engine.settings.future_skew_minutes} minutes ahead are accepted"
        )


def _tenure_at(
    session: Session, *, home_id: str, at: datetime, engine: Engine
) -> tuple[str | None, str | None, str | None]:
    """The tenancy reference and tenure on the local date of ``at``, and why clocks do not run
    for it (None: they run)."""
    tenancy = registry.tenancy_on(session, home_id, engine.calendar.local_date(at))
    tenure = tenancy.tenure if tenancy else None
    return (tenancy.tenancy_ref if tenancy else None), tenure, tenure_scope(tenure, engine.settings)


def open_or_join_case(
    session: Session,
    *,
    home_id: str,
    hazard: str,
    category: str,
    source: str,
    aware_at: datetime,
    evidence: Evidence,
    actor: str,
    now: datetime,
    engine: Engine,
    case_id: int | None = None,
) -> tuple[Case, bool]:
    """Join the home's open case for this hazard (the awareness judged when it happened), or
    open one with its clocks (``case_id``: the id a new case takes, for interop's import of a
    Homesafe export into an empty store)."""
    _require_not_future(aware_at, now, engine, "the time the landlord became aware,")
    if session.get(Home, home_id) is None:
        raise HomeNotFound(f"home {home_id!r} is not in the registry")
    if session.get_bind().dialect.name == "postgresql":
        # One open case per home and hazard even when two reports arrive at once.
        session.get(Home, home_id, with_for_update=True)
    tenancy_ref, tenure, tenure_reason = _tenure_at(
        session, home_id=home_id, at=aware_at, engine=engine
    )
    rule_set = _rule_set_at(aware_at, engine)
    found = repository.open_case_for(session, home_id=home_id, hazard=hazard)
    if found is not None:
        case = _lock_case(session, found.id)
        before = _snapshot(case)
        case.evidence.append(evidence)
        transition = lifecycle.new_awareness(
            case_state(case),
            category=category,  # type: ignore[arg-type]
            source=source,  # type: ignore[arg-type]
            at=aware_at,
            rule_set=rule_set,
            calendar=engine.calendar,
            settings=engine.settings,
            tenure_reason=tenure_reason,
        )
        _write_back(session, case, transition.after, engine, actor=actor, now=now)
        if transition.started or tenure_reason is not None:
            case.tenancy_ref, case.tenure = tenancy_ref, tenure
        session.flush()
        audit.append(
            session,
            at=now,
            actor=actor,
            action="case.evidence_added",
            entity_type="case",
            entity_id=case.id,
            before=before,
            after=_snapshot(case)
            | {
                "evidence": evidence.kind,
                "source": evidence.source,
                "aware_at": to_rfc3339(aware_at),
                "category": category,
                "started": [c.rule_duty for c in transition.started],
                "notices": list(transition.notices),
            },
        )
        _emit_awareness(session, case, evidence, opened=False, before=before, now=now)
        return case, False
    transition = lifecycle.open_case(
        hazard=hazard,
        category=category,  # type: ignore[arg-type]
        source=source,  # type: ignore[arg-type]
        aware_at=aware_at,
        rule_set=rule_set,
        calendar=engine.calendar,
        settings=engine.settings,
        tenure_reason=tenure_reason,
    )
    case = Case(
        id=case_id,
        home_id=home_id,
        hazard=hazard,
        category=category,
        source=source,
        aware_at=aware_at,
        rule_set=rule_set.key,
        status="open",
        stage="awaiting_investigation",
        opened_at=now,
        access_failures=0,
        alternative_accommodation_due=False,
        in_scope=True,
        accommodation="not_due",
        tenancy_ref=tenancy_ref,
        tenure=tenure,
    )
    session.add(case)
    session.flush()
    case.evidence.append(evidence)
    _write_back(session, case, transition.after, engine, actor=actor, now=now)
    session.flush()
    audit.append(
        session,
        at=now,
        actor=actor,
        action="case.opened",
        entity_type="case",
        entity_id=case.id,
        before=None,
        after=_snapshot(case)
        | {
            "home_id": home_id,
            "hazard": hazard,
            "aware_at": to_rfc3339(aware_at),
            "rule_set": rule_set.key,
            "tenure": tenure,
            "scope_reason": case.scope_reason,
            "notices": list(transition.notices),
        },
    )
    _emit_awareness(session, case, evidence, opened=True, before=None, now=now)
    return case, True


def _emit_awareness(
    session: Session,
    case: Case,
    evidence: Evidence,
    *,
    opened: bool,
    before: dict[str, Any] | None,
    now: datetime,
) -> None:
    """case.opened or case.updated for a report or finding, and finding.raised for a finding."""
    if not events.enabled(session):
        return
    detail: dict[str, Any] = {
        "step": "opened" if opened else "evidence_added",
        "source": evidence.source,
        "evidence": evidence.kind,
        "category_before": before["category"] if before else None,
        "category": case.category,
        "assigned_to": case.assigned_to,
    }
    report = _report_detail(evidence)
    if report is not None:
        detail["report"] = report
    _emit(session, "case.opened" if opened else "case.updated", case, at=now, detail=detail)
    if evidence.kind == "sensor_finding":
        _emit(
            session,
            "finding.raised",
            case,
            at=now,
            detail={
                "step": "finding",
                "rule": evidence.rule,
                "rule_version": evidence.rule_version,
                "sensor": evidence.sensor,
                "room": evidence.room,
                "category": case.category,
            },
        )


def record_report(
    session: Session,
    *,
    report: ReportIn,
    actor: str,
    now: datetime,
    engine: Engine,
    details: dict[str, Any] | None = None,
) -> tuple[Case, bool]:
    """A tenant's, staff member's or contractor's report: opens or joins the home's case.

    ``details`` joins the report's evidence: the channel it came by (phone, email, letter,
    in_person, web, visit), who reported, the acknowledgement's reference, photos in the file
    store, how the reporter asked to be contacted (the report forms of the pages)."""
    figures: dict[str, Any] = {
        **{key: value for key, value in (details or {}).items() if value not in (None, [], {})},
        "reported_at": to_rfc3339(report.reported_at),
        "emergency": report.emergency,
    }
    evidence = Evidence(
        kind="report",
        recorded_at=now,
        source=report.source,
        description=report.description,
        figures=figures,
    )
    return open_or_join_case(
        session,
        home_id=report.home_id,
        hazard=report.hazard,
        category="emergency" if report.emergency else "potential",
        source=report.source,
        aware_at=report.reported_at,
        evidence=evidence,
        actor=actor,
        now=now,
        engine=engine,
    )


def record_finding(
    session: Session, *, finding: FindingIn, now: datetime, engine: Engine
) -> tuple[Case, bool]:
    """A detector's finding: evidence for the home's case, or a new potential case (clock on detection)."""
    evidence = Evidence(
        kind="sensor_finding",
        recorded_at=now,
        source="sensor",
        description=finding.description,
        sensor=finding.sensor,
        room=finding.room,
        rule=finding.rule,
        rule_version=finding.rule_version,
        window_start=finding.window_start,
        window_end=finding.window_end,
        figures=finding.figures,
    )
    return open_or_join_case(
        session,
        home_id=finding.home_id,
        hazard=finding.hazard,
        category=finding.category,
        source="sensor",
        aware_at=finding.detected_at,
        evidence=evidence,
        actor="detector",
        now=now,
        engine=engine,
    )


# --- evidence and assignment ----------------------------------------------------------------------


def record_evidence(
    session: Session,
    *,
    case_id: int,
    kind: str,
    source: str,
    description: str | None = None,
    figures: dict[str, Any] | None = None,
    actor: str,
    now: datetime,
) -> Evidence:
    """A fact joins the case's evidence (with its audit entry) without changing the case's state."""
    case = _lock_case(session, case_id)
    figures = dict(figures or {})
    evidence = Evidence(
        kind=kind, recorded_at=now, source=source, description=description, figures=figures
    )
    case.evidence.append(evidence)
    session.flush()
    audit.append(
        session,
        at=now,
        actor=actor,
        action="case.evidence_added",
        entity_type="case",
        entity_id=case.id,
        before=None,
        after={"evidence": kind, "source": source, **figures},
    )
    _emit(
        session,
        "case.updated",
        case,
        at=now,
        detail={"step": "evidence_added", "evidence": kind, "source": source},
    )
    return evidence


def assign_case(
    session: Session, *, case_id: int, officer: str | None, actor: str, now: datetime
) -> Case:
    """Give the case to an officer (None: to nobody); the audit log records who, when, from whom."""
    case = _lock_case(session, case_id)
    before = {"assigned_to": case.assigned_to}
    case.assigned_to = officer
    session.flush()
    audit.append(
        session,
        at=now,
        actor=actor,
        action="case.assigned",
        entity_type="case",
        entity_id=case.id,
        before=before,
        after={"assigned_to": officer},
    )
    _emit(
        session, "case.updated", case, at=now, detail={"step": "assigned", "assigned_to": officer}
    )
    return case


# --- case events ----------------------------------------------------------------------------------


def _plan_of(plan: WorkPlanIn | None) -> WorkPlan | None:
    if plan is None:
        return None
    return WorkPlan(what=plan.what, begin_by=plan.begin_by, complete_by=plan.complete_by)


def record_event(
    session: Session, *, case_id: int, event: EventIn, actor: str, now: datetime, engine: Engine
) -> Case:
    """Apply one step of the case's life, or raise EventRefused saying why not (InvalidInput for
    a time in the future)."""
    _require_not_future(event.at, now, engine, "the event's time")
    case = _lock_case(session, case_id)
    before = _snapshot(case)
    state = case_state(case)
    rule_set = engine.rule_set(case.rule_set, case.aware_at)
    common = {"rule_set": rule_set, "calendar": engine.calendar, "settings": engine.settings}
    if event.at < case.aware_at and event.type not in ("closed", "closure_requested"):
        raise EventRefused("the event's time is before the landlord became aware of the hazard")
    transition: Transition
    if event.type == TRIAGE_CONFIRMED:
        transition = lifecycle.confirm_triage(state, event.at, **common)  # type: ignore[arg-type]
        case.triage_confirmed_at = event.at
    else:
        needs: tuple[str, ...] = ()
        if event.type == "investigation_concluded":
            needs = needs_of(registry.get_household(session, case.home_id))
        transition = lifecycle.apply_event(
            state,
            lifecycle.Event(
                type=event.type,  # type: ignore[arg-type]
                at=event.at,
                outcome=event.outcome,
                method=event.method,
                supplementary_work_needed=bool(event.supplementary_work_needed),
                note=event.note,
                reason=event.reason,
                investigation_type=event.investigation_type,
                investigator=event.investigator,
                investigator_role=event.investigator_role,
                findings=event.findings,
                safety_plan=_plan_of(event.safety_work),
                supplementary_plan=_plan_of(event.supplementary_work),
                needs_considered=needs,
                actor=actor,
            ),
            **common,  # type: ignore[arg-type]
        )
    _write_back(session, case, transition.after, engine, actor=actor, now=now)
    if event.type == "summary_sent":
        case.summary_sent_at = event.at
        case.summary_sent_method = (event.method or "unspecified").strip().lower()[:32]
    case.events.append(
        CaseEvent(
            type=event.type,
            at=event.at,
            recorded_at=now,
            actor=actor,
            note=event.note,
            details={
                key: value
                for key, value in {
                    "outcome": event.outcome,
                    "method": event.method,
                    "reason": event.reason,
                    "investigation_type": event.investigation_type,
                    "investigator": event.investigator,
                    "investigator_role": event.investigator_role,
                    "evidence": event.evidence,
                    "supplementary_work_needed": event.supplementary_work_needed,
                    "started": [c.rule_duty for c in transition.started] or None,
                    "ended": [
                        {"duty": c.rule_duty, "ended": c.ended, "status": c.status}
                        for c in (*transition.met, *transition.stopped)
                    ]
                    or None,
                    "notices": list(transition.notices) or None,
                }.items()
                if value is not None
            },
        )
    )
    session.flush()
    audit.append(
        session,
        at=now,
        actor=actor,
        action=f"case.{event.type}",
        entity_type="case",
        entity_id=case.id,
        before=before,
        after=_snapshot(case)
        | {
            "event_at": to_rfc3339(event.at),
            "note": event.note,
            "reason": event.reason,
            "started": [c.rule_duty for c in transition.started],
            "met": [c.rule_duty for c in transition.met],
            "stopped": [c.rule_duty for c in transition.stopped],
            "notices": list(transition.notices),
        },
    )
    _audit_withdrawn(session, case, transition, actor=actor, now=now, event_at=event.at)
    _emit_step(session, case, event, transition, before=before, now=now)
    return case


def _emit_step(
    session: Session,
    case: Case,
    event: EventIn,
    transition: Transition,
    *,
    before: dict[str, Any],
    now: datetime,
) -> None:
    """case.updated for the step, clock.met for each clock it met, summary.sent for the summary."""
    if not events.enabled(session):
        return
    detail: dict[str, Any] = {
        "step": event.type,
        "at": to_rfc3339(event.at),
        "category_before": before["category"],
        "category": case.category,
        "outcome": event.outcome,
        "method": event.method,
        "started": [c.rule_duty for c in transition.started],
        "met": [c.rule_duty for c in transition.met],
        "assigned_to": case.assigned_to,
    }
    _emit(session, "case.updated", case, at=now, detail=detail)
    for clock in transition.met:
        _emit(
            session,
            "clock.met",
            case,
            at=now,
            detail={
                "step": event.type,
                "clock": {
                    "kind": clock.kind,
                    "duty": clock.rule_duty,
                    "due_at": to_rfc3339(clock.due_at),
                    "met_at": to_rfc3339(clock.met_at) if clock.met_at else None,
                    "ended": clock.ended,
                },
            },
        )
    if event.type == "summary_sent":
        _emit(
            session,
            "summary.sent",
            case,
            at=now,
            detail={"step": "summary_sent", "at": to_rfc3339(event.at), "method": event.method},
        )


def _audit_withdrawn(
    session: Session,
    case: Case,
    transition: Transition,
    *,
    actor: str,
    now: datetime,
    event_at: datetime,
) -> None:
    """One audit entry per automatic breach withdrawn because the act was on time."""
    if not transition.withdrawn:
        return
    rows = {(c.kind, c.started_at, c.due_at): c for c in case.clocks}
    entries = []
    for clock in transition.withdrawn:
        row = rows[(clock.kind, clock.started_at, clock.due_at)]
        entries.append(
            {
                "at": now,
                "actor": actor,
                "action": "clock.breach_withdrawn",
                "entity_type": "clock",
                "entity_id": row.id,
                "before": {"status": "breached", "breached_at": to_rfc3339(clock.due_at)},
                "after": {
                    "case_id": case.id,
                    "kind": clock.kind,
                    "status": clock.status,
                    "met_at": to_rfc3339(event_at),
                    "due_at": to_rfc3339(clock.due_at),
                    "why": "the act was done by the deadline and recorded after the breach",
                },
            }
        )
    audit.append_many(session, entries)


def case_record(case: Case) -> dict[str, Any]:
    """The case's record beyond its row: investigations, the accommodation decision, closing."""
    state = case_state(case)
    return {
        "investigations": list(case.investigations),
        "tenancy_ref": case.tenancy_ref,
        "accommodation_due_reason": case.accommodation_due_reason,
        "accommodation_decision_due_at": lifecycle.accommodation_decision_due(state),
        "accommodation_accepted_at": case.accommodation_accepted_at,
        "household_moved_at": case.household_moved_at,
        "household_returned_at": case.household_returned_at,
        "safety_work_started_at": case.safety_work_started_at,
        "supplementary_completed_at": case.supplementary_completed_at,
        "closure_reason": case.closure_reason,
        "closure_requested_by": case.closure_requested_by,
        "closure_requested_at": case.closure_requested_at,
        "closure_request_reason": case.closure_request_reason,
        "closed_at": case.closed_at,
    }


def case_people(
    session: Session, case: Case, engine: Engine, *, personal: bool, needs: bool, now: datetime
) -> dict[str, Any]:
    """Who the case is about, for staff who work cases: the tenant and address (``personal``)
    and the household's needs that raise the risk (``needs``; never ethnicity or the detail)."""
    out: dict[str, Any] = {}
    if needs:
        out["household_needs"] = list(needs_of(registry.get_household(session, case.home_id)))
    if personal:
        tenancy = registry.get_tenancy(session, case.tenancy_ref) if case.tenancy_ref else None
        if tenancy is None:
            tenancy = registry.tenancy_on(session, case.home_id, engine.calendar.local_date(now))
        home = registry.get_home(session, case.home_id)
        out["address"] = home.address if home else None
        out["tenant"] = (
            {
                "tenancy_ref": tenancy.tenancy_ref,
                "name": tenancy.lead_tenant_name,
                "email": tenancy.email,
                "phone": tenancy.phone,
                "preferred_channel": tenancy.preferred_channel,
                "language": tenancy.language,
                "tenure": tenancy.tenure,
            }
            if tenancy
            else None
        )
    return out


def triage_due(case: Case, engine: Engine) -> datetime | None:
    """By when an officer must confirm a sensor case awaiting triage, if it is awaiting one."""
    if case.stage != "awaiting_triage":
        return None
    return triage_due_at(case.aware_at, engine.calendar, engine.settings)


def access_reasonable_steps(case: Case, engine: Engine) -> bool:
    """Whether the failed access attempts are the guidance's usual three, by three methods."""
    return lifecycle.access_reasonable_steps(case_state(case), engine.settings)


# --- breaches, all reasonable endeavours and excuses -------------------------------------------------------


def _clock_of(case: Case, kind: str, *, statuses: tuple[str, ...]) -> tuple[int, Clock]:
    for index in range(len(case.clocks) - 1, -1, -1):
        clock = case.clocks[index]
        if clock.kind == kind and clock.status in statuses:
            return index, clock
    wanted = " or ".join(statuses)
    raise EventRefused(f"the case has no {wanted} {kind} clock")


def breach_due_clocks(session: Session, *, now: datetime, actor: str, limit: int = 500) -> int:
    """Breach up to ``limit`` overdue clocks, each dated at its deadline and audited; returns how many.

    One statement claims the rows (``repository.claim_due_clocks``), one recomputes the cases'
    ``next_due_at``, and the audit entries go in as one chained bulk insert. A breach of a safety
    clock makes alternative accommodation due (``lifecycle.accommodation_after_breach``).
    """
    claimed = sorted(
        repository.claim_due_clocks(session, now=now, limit=limit), key=lambda r: (r.case_id, r.id)
    )
    if not claimed:
        return 0
    case_ids = sorted({row.case_id for row in claimed})
    accommodation = repository.accommodation_of(session, case_ids=case_ids)
    became_due: list[int] = []
    entries: list[dict[str, Any]] = []
    for row in claimed:
        before = accommodation[row.case_id]
        after, notices = lifecycle.accommodation_after_breach(row.kind, before)  # type: ignore[arg-type]
        if after != before:
            accommodation[row.case_id] = after
            became_due.append(row.case_id)
        entries.append(
            {
                "at": now,
                "actor": actor,
                "action": "clock.breached",
                "entity_type": "clock",
                "entity_id": row.id,
                "before": {"status": "running", "accommodation": before},
                "after": {
                    "case_id": row.case_id,
                    "kind": row.kind,
                    "status": "breached",
                    "due_at": to_rfc3339(row.due_at),
                    "breached_at": to_rfc3339(row.due_at),
                    "accommodation": after,
                    "notices": list(notices),
                },
            }
        )
    repository.refresh_after_breach(session, case_ids=case_ids, accommodation_due=became_due)
    audit.append_many(session, entries)
    if events.enabled(session):
        cases = {c.id: c for c in repository.cases_by_id(session, case_ids=case_ids)}
        for row in claimed:
            _emit(
                session,
                "clock.breached",
                cases[row.case_id],
                at=now,
                detail={
                    "step": "breached",
                    "clock": {
                        "id": row.id,
                        "kind": row.kind,
                        "due_at": to_rfc3339(row.due_at),
                        "breached_at": to_rfc3339(row.due_at),
                    },
                    "assigned_to": cases[row.case_id].assigned_to,
                },
            )
    return len(entries)


def record_reasonable_steps(
    session: Session, *, case_id: int, kind: str, steps: str, actor: str, now: datetime
) -> Clock:
    """An officer records all reasonable endeavours made against a breached clock (the breach stays)."""
    case = _lock_case(session, case_id)
    if not steps.strip():
        raise EventRefused("say what reasonable endeavours were made")
    _, clock = _clock_of(case, kind, statuses=("breached",))
    before = {"status": clock.status, "reasonable_steps": clock.reasonable_steps}
    clock.reasonable_steps = steps.strip()
    clock.reasonable_steps_by = actor
    clock.reasonable_steps_at = now
    session.flush()
    audit.append(
        session,
        at=now,
        actor=actor,
        action="clock.reasonable_endeavours_recorded",
        entity_type="clock",
        entity_id=clock.id,
        before=before,
        after={
            "case_id": case.id,
            "kind": kind,
            "status": clock.status,
            "reasonable_steps": clock.reasonable_steps,
        },
    )
    _emit(
        session,
        "case.updated",
        case,
        at=now,
        detail={"step": "reasonable_endeavours_recorded", "clock": {"kind": kind}},
    )
    return clock


def excuse_breach(
    session: Session, *, case_id: int, kind: str, actor: str, now: datetime, note: str | None = None
) -> Clock:
    """A compliance officer accepts the recorded reasonable endeavours: breached -> breached_excused."""
    case = _lock_case(session, case_id)
    index, clock = _clock_of(case, kind, statuses=("breached",))
    if not clock.reasonable_steps:
        raise EventRefused("no reasonable endeavours are recorded against this breach yet")
    if clock.reasonable_steps_by is not None and clock.reasonable_steps_by == actor:
        # Four eyes: whoever recorded the endeavours cannot also accept them (not even an admin).
        raise EventRefused(
            "you recorded the reasonable endeavours for this breach: someone else must accept them"
        )
    reason = clock.reasonable_steps + (
        f" — accepted: {note.strip()}" if note and note.strip() else ""
    )
    excused = lifecycle.excuse(case_state(case).clocks[index], at=now, reason=reason)
    before = {"status": clock.status}
    clock.status = excused.status
    clock.excused_at = excused.excused_at
    clock.excuse_reason = excused.excuse_reason
    clock.excused_by = actor
    session.flush()
    audit.append(
        session,
        at=now,
        actor=actor,
        action="clock.breach_excused",
        entity_type="clock",
        entity_id=clock.id,
        before=before,
        after={
            "case_id": case.id,
            "kind": kind,
            "status": clock.status,
            "breached_at": to_rfc3339(clock.breached_at) if clock.breached_at else None,
            "excuse_reason": clock.excuse_reason,
        },
    )
    _emit(
        session,
        "case.updated",
        case,
        at=now,
        detail={"step": "breach_excused", "clock": {"kind": kind}},
    )
    return clock


def safety_work_cannot_be_met(
    session: Session, *, case_id: int, reason: str, actor: str, now: datetime, engine: Engine
) -> Case:
    """Safety work cannot be done in time: the case shows the duty to offer alternative accommodation."""
    case = _lock_case(session, case_id)
    before = _snapshot(case)
    transition = lifecycle.safety_work_cannot_be_met(case_state(case), now, reason=reason)
    _write_back(session, case, transition.after, engine, actor=actor, now=now)
    session.flush()
    audit.append(
        session,
        at=now,
        actor=actor,
        action="case.safety_work_cannot_be_met",
        entity_type="case",
        entity_id=case.id,
        before=before,
        after=_snapshot(case) | {"reason": reason.strip()},
    )
    _emit(session, "case.updated", case, at=now, detail={"step": "safety_work_cannot_be_met"})
    return case


def fire_warnings(
    session: Session, *, warnings: list[tuple[ClockWarning, Clock]], now: datetime
) -> None:
    """Record that warnings before deadlines fired (the claim is the caller's), one entry each."""
    audit.append_many(
        session,
        [
            {
                "at": now,
                "actor": "scheduler",
                "action": "clock.warning",
                "entity_type": "clock",
                "entity_id": clock.id,
                "after": {
                    "case_id": clock.case_id,
                    "kind": clock.kind,
                    "label": warning.label,
                    "warn_at": to_rfc3339(warning.warn_at),
                    "due_at": to_rfc3339(clock.due_at),
                },
            }
            for warning, clock in warnings
        ],
    )
    if events.enabled(session) and warnings:
        ids = sorted({clock.case_id for _, clock in warnings})
        cases = {c.id: c for c in repository.cases_by_id(session, case_ids=ids)}
        for warning, clock in warnings:
            _emit(
                session,
                "clock.warning",
                cases[clock.case_id],
                at=now,
                detail={
                    "step": "warning",
                    "label": warning.label,
                    "clock": {
                        "id": clock.id,
                        "kind": clock.kind,
                        "duty": clock.duty or clock.kind,
                        "warn_at": to_rfc3339(warning.warn_at),
                        "due_at": to_rfc3339(clock.due_at),
                    },
                    "assigned_to": cases[clock.case_id].assigned_to,
                },
            )


# --- written summary and reports ------------------------------------------------------------------


_WORK_NAMES = {
    "emergency_action": "Make your home safe from the emergency hazard",
    "safety_work": "Safety work to remove or reduce the hazard",
    "supplementary_work": "Further work to stop the problem coming back",
}


def summary_facts(session: Session, case: Case, engine: Engine, *, now: datetime) -> SummaryFacts:
    """The written summary's facts from the case's latest investigation; refused before one
    concludes. Work items are the duties that investigation started or left running; a duty that
    fell away is never described as done."""
    if not case.investigations:
        raise EventRefused("no written summary yet: the investigation is not concluded")
    latest = case.investigations[-1]
    state = case_state(case)
    concluded = latest.concluded_at
    clocks = [
        c
        for c in state.clocks
        if c.kind in _WORK_NAMES
        and (c.started_at >= concluded or c.outstanding or (c.met_at or concluded) >= concluded)
        and c.ended != "ceased"
    ]
    work: list[WorkItem] = []
    emergency = [c for c in clocks if c.kind == "emergency_action"]
    if emergency:
        clock = emergency[-1]
        work.append(
            WorkItem(
                _WORK_NAMES["emergency_action"],
                clock.due_at,
                done_at=clock.met_at if clock.ended == "done" else None,
                hours=True,
            )
        )
    safety = [c for c in clocks if c.kind == "safety_work"]
    if safety:
        clock = safety[-1]
        plan = _plan(latest.safety_plan)
        work.append(
            WorkItem(
                _WORK_NAMES["safety_work"],
                clock.due_at,
                done_at=clock.met_at if clock.ended == "done" else None,
                begin_by=plan.begin_by if plan else None,
                plan=plan.what if plan else None,
                complete_by=plan.complete_by if plan else None,
            )
        )
    begin = [c for c in clocks if c.rule_duty == "supplementary_work"]
    steps = [c for c in clocks if c.rule_duty == "supplementary_steps"]
    if begin:
        plan = _plan(latest.supplementary_plan)
        started = begin[-1].met_at if begin[-1].ended == "done" else None
        work.append(
            WorkItem(
                _WORK_NAMES["supplementary_work"],
                begin[-1].due_at if started is None else None,
                done_at=case.supplementary_completed_at,
                begin_by=started or (plan.begin_by if plan else None),
                plan=plan.what if plan else None,
                complete_by=plan.complete_by if plan else None,
                steps_by=steps[-1].due_at if steps and steps[-1].outstanding else None,
            )
        )
    no_emergency = any(
        c.kind == "emergency_action" and c.ended == "ceased" and c.met_at == concluded
        for c in state.clocks
    )
    home = registry.get_home(session, case.home_id)
    tenancy = registry.get_tenancy(session, case.tenancy_ref) if case.tenancy_ref else None
    if tenancy is None:
        tenancy = registry.tenancy_on(session, case.home_id, engine.calendar.local_date(now))
    return SummaryFacts(
        case_id=case.id,
        home_id=case.home_id,
        hazard=case.hazard,
        outcome=latest.outcome,
        investigated_at=concluded,
        findings=(latest.findings or "").strip(),
        work=tuple(work),
        landlord=engine.landlord,
        timezone=engine.calendar.timezone,
        investigation_type=latest.type,
        method=latest.method,
        no_emergency_found=no_emergency,
        accommodation=case.accommodation,
        tenant_name=tenancy.lead_tenant_name if tenancy else None,
        address=home.address if home else None,
        postcode=home.postcode if home else None,
        letter_date=engine.calendar.local_date(now),
    )


def report_rows(session: Session, *, start: datetime, end: datetime) -> list[ClockRow]:
    """One row per clock per case that ran in [start, end)."""
    return [_row(clock) for clock in repository.clocks_in_period(session, start=start, end=end)]


def _row(clock: Clock) -> ClockRow:
    case = clock.case
    return ClockRow(
        case_id=case.id,
        home_id=case.home_id,
        hazard=case.hazard,
        category=case.category,
        rule_set=case.rule_set,
        kind=clock.kind,
        started_at=clock.started_at,
        due_at=clock.due_at,
        met_at=clock.met_at,
        status=clock.status,
        breached_at=clock.breached_at,
        reasonable_steps=clock.reasonable_steps,
        excused_at=clock.excused_at,
        excuse_reason=clock.excuse_reason,
        duty=clock.duty,
        ended=clock.ended,
        ended_reason=clock.ended_reason,
        investigation_type=clock.investigation_type,
    )


def summary(session: Session, *, start: datetime, end: datetime, now: datetime) -> dict[str, Any]:
    """The summary figures for clocks in [start, end) and every open case now."""
    rows = report_rows(session, start=start, end=end)
    open_cases = [
        (
            case.next_due_at,
            any(
                c.status != "met" and c.status != "running" and c.met_at is None
                for c in case.clocks
            ),
        )
        for case in repository.open_cases(session)
    ]
    figures = summary_figures(rows, open_cases, now=now)
    return {"from": to_rfc3339(start), "to": to_rfc3339(end)} | figures


# --- what the pages read: the queue, the next step, the steps the state allows ---------------------
#
# The pages parse, call one of these and render; the rules they show (which duty is most urgent,
# what records it, which steps the case's state allows) live here and in ``compliance.lifecycle``.


def duty_label(clock: Clock | ClockState) -> str:
    """A clock's duty in words: 'Send the written summary'."""
    rule = CLOCK_RULE_BY_DUTY.get(clock.duty or clock.kind)
    return rule.label if rule else clock.kind.replace("_", " ").capitalize()


def urgent_clock(case: Case) -> Clock | None:
    """The clock that makes the case urgent: its oldest breached duty not yet done, else its
    nearest running deadline (None when no duty is outstanding)."""
    breached = [c for c in case.clocks if c.status in BREACHED and c.met_at is None]
    if breached:
        return min(breached, key=lambda c: (c.due_at, c.id))
    running = [c for c in case.clocks if c.status == "running"]
    return min(running, key=lambda c: (c.due_at, c.id)) if running else None


def excuse_state(clock: Clock) -> str | None:
    """Where a breach stands on the defence of all reasonable endeavours (None: not breached)."""
    if clock.status == "breached_excused":
        return f"excused by {clock.excused_by or 'a compliance officer'}"
    if clock.status != "breached":
        return None
    if clock.reasonable_steps:
        return "endeavours recorded: awaiting a compliance officer"
    return "no endeavours recorded yet"


@dataclass(frozen=True)
class QueueRow:
    """One case in the hazard queue, with the duty that makes it urgent."""

    case: Case
    postcode: str | None
    address: str | None
    clock: Clock | None
    duty: str | None
    breached: bool  # the urgent duty was breached and is still not done
    excuse: str | None
    breaches: int  # every breach on the case, done since or not


@dataclass(frozen=True)
class QueueView:
    rows: list[QueueRow]
    total: int
    breached: int
    headline: dict[str, int]
    hazards: list[str]
    areas: list[str]


def area_of(postcode: str | None) -> str | None:
    """A postcode's outward code (its district), the area the queue filters by."""
    return postcode.split()[0].upper() if postcode and postcode.split() else None


def hazard_queue(
    session: Session,
    *,
    query: repository.QueueQuery,
    now: datetime,
    engine: Engine,
    limit: int = 100,
    offset: int = 0,
) -> QueueView:
    """The hazard queue in order of urgency (``repository.hazard_queue``) with its headline."""
    rows, total, breached = repository.hazard_queue(
        session, query=query, limit=limit, offset=offset
    )
    made = []
    for case, postcode, address in rows:
        clock = urgent_clock(case)
        made.append(
            QueueRow(
                case=case,
                postcode=postcode,
                address=address,
                clock=clock,
                duty=duty_label(clock) if clock else None,
                breached=clock is not None and clock.status in BREACHED,
                excuse=excuse_state(clock) if clock else None,
                breaches=sum(1 for c in case.clocks if c.status in BREACHED),
            )
        )
    hazards, postcodes = repository.queue_choices(session)
    return QueueView(
        rows=made,
        total=total,
        breached=breached,
        headline=repository.queue_headline(session, day_end=end_of_local_day(now, engine)),
        hazards=hazards,
        areas=sorted({a for a in (area_of(p) for p in postcodes) if a}),
    )


def end_of_local_day(now: datetime, engine: Engine) -> datetime:
    """The end of today in the organisation's time zone (the queue's 'due today')."""
    return engine.calendar.end_of_day(engine.calendar.local_date(now))


# Beyond a clock's own ``done_by`` events, the steps that move its duty along.
_ALSO_RECORD: dict[str, tuple[str, ...]] = {
    "emergency_action": ("investigation_concluded", "emergency_duty_ceased"),
    "investigate": ("investigation_booked", "access_failed"),
    "renewed_investigation": ("investigation_booked", "access_failed"),
    "written_summary": (),
    "safety_work": ("safety_work_started",),
    "supplementary_steps": (),
    "supplementary_work": (),
}


@dataclass(frozen=True)
class NextStep:
    """The case's next step for the person working it: the duty due next, what to record, and
    who is waiting."""

    title: str
    clock: Clock | None = None
    record: tuple[str, ...] = ()
    waiting: str = ""
    also: tuple[str, ...] = ()  # further points to act on (endeavours to record, a decision due)
    deadline: datetime | None = None


def next_step(case: Case, engine: Engine, *, household: str) -> NextStep:
    """What the case needs next. ``household`` names who is waiting ('Ms A Tenant', or 'the
    household' for a role that may not read names)."""
    state = case_state(case)
    if case.status == "closed":
        reason = (case.closure_reason or "no reason recorded").replace("_", " ")
        return NextStep(
            f"Closed: {reason}. Reopen the case if the hazard comes back.", record=("reopened",)
        )
    if case.stage == "awaiting_triage":
        return NextStep(
            "Confirm the sensor finding (triage): its clocks start when you confirm it.",
            record=(TRIAGE_CONFIRMED,),
            waiting=household,
            deadline=triage_due(case, engine),
        )
    also: list[str] = []
    decision = lifecycle.accommodation_decision_due(state)
    if decision is not None:
        also.append("alternative_accommodation_decision")
    clock = urgent_clock(case)
    if clock is not None and clock.status == "breached" and not clock.reasonable_steps:
        also.append("record_endeavours")
    if case.closure_requested_by:
        return NextStep(
            f"A second officer to approve closing the case "
            f"({(case.closure_request_reason or '').replace('_', ' ')}), requested by "
            f"{case.closure_requested_by}.",
            record=("closed",),
            waiting=f"{case.closure_requested_by} (who asked to close it)",
            also=tuple(also),
        )
    accommodation_steps = {
        "due": ("alternative_accommodation_offered",),
        "offered": ("alternative_accommodation_accepted", "alternative_accommodation_declined"),
        "accepted": ("household_moved",),
    }
    if clock is None:
        if case.accommodation == "moved" and state.made_safe:
            return NextStep(
                "The home is safe: record the household's return home.",
                record=("household_returned",),
                waiting=household,
            )
        if not case.in_scope and not case.investigations:
            return NextStep(
                "No statutory deadline runs (out of scope): investigate, or close the case with "
                "its reason.",
                record=("investigation_concluded", "closed"),
                waiting=household,
            )
        return NextStep(
            "No duty is outstanding: close the case with its reason.",
            record=("closed",),
            waiting=household,
        )
    rule = CLOCK_RULE_BY_DUTY.get(clock.duty or clock.kind)
    record = (*(rule.done_by if rule else ()), *_ALSO_RECORD.get(clock.duty or clock.kind, ()))
    if case.accommodation in accommodation_steps and clock.kind in lifecycle.SAFETY_KINDS:
        record = (*record, *accommodation_steps[case.accommodation])
    return NextStep(
        duty_label(clock),
        clock=clock,
        record=tuple(dict.fromkeys(record)),
        waiting=household,
        also=tuple(also),
        deadline=decision or clock.due_at,
    )


# What a trial of each step carries, so the lifecycle can say whether the case's state allows it
# (the forms then ask for the real values).
_TRIAL: dict[str, dict[str, Any]] = {
    "investigation_concluded": {"outcome": "no_hazard"},
    "emergency_duty_ceased": {"reason": "household_moved_out", "note": "trial"},
    "supplementary_steps_taken": {"note": "trial"},
    "further_investigation_opened": {"note": "trial"},
}


def possible_steps(case: Case, engine: Engine, *, at: datetime) -> list[str]:
    """The steps the case's state allows at ``at``, asked of the lifecycle itself (closing is
    always offered on an open case: its own page says what it needs)."""
    if case.status == "closed":
        return ["reopened"]
    if case.stage == "awaiting_triage":
        return [TRIAGE_CONFIRMED, "closed"]
    state = case_state(case)
    rule_set = engine.rule_set(case.rule_set, case.aware_at)
    at = max(at, case.aware_at)
    allowed = []
    for kind in EVENT_TYPES:
        if kind in ("closed", "closure_requested", "reopened"):
            continue
        trial = lifecycle.Event(type=kind, at=at, actor="trial", **_TRIAL.get(kind, {}))  # type: ignore[arg-type]
        try:
            lifecycle.apply_event(
                state, trial, rule_set=rule_set, calendar=engine.calendar, settings=engine.settings
            )
        except EventRefused:
            continue
        allowed.append(kind)
    return [*allowed, "closed"]


@dataclass(frozen=True)
class Closing:
    """What closing the case with a reason needs and does, for the confirmation page."""

    reason: str
    refused: str | None  # why the lifecycle refuses it, if it does
    outstanding: list[Clock]  # duties that would cease
    needs_second_person: bool
    request: tuple[str, str, datetime] | None  # (by, reason, at) of a closure request waiting


def closing(
    case: Case, engine: Engine, *, reason: str, actor: str, at: datetime, note: str | None = None
) -> Closing:
    """Whether the case can close now for ``reason`` by ``actor``: closed at once, or a closure
    request for a second person (duties outstanding), or refused and why."""
    state = case_state(case)
    rule_set = engine.rule_set(case.rule_set, case.aware_at)
    outstanding = [c for c in case.clocks if c.met_at is None]
    request = (
        (case.closure_requested_by, case.closure_request_reason or "", case.closure_requested_at)
        if case.closure_requested_by and case.closure_requested_at
        else None
    )
    needs_second = bool(outstanding)
    kind = "closed"
    if needs_second and (request is None or request[0] == actor or request[1] != reason):
        kind = "closure_requested"
    refused = None
    try:
        lifecycle.apply_event(
            state,
            lifecycle.Event(
                type=kind,  # type: ignore[arg-type]
                at=max(at, case.aware_at),
                reason=reason,
                note=note,
                actor=actor,
            ),
            rule_set=rule_set,
            calendar=engine.calendar,
            settings=engine.settings,
        )
    except EventRefused as exc:
        refused = exc.reason
    if needs_second and request is not None and request[0] == actor and request[1] == reason:
        refused = "you asked to close this case: another officer must approve it"
    return Closing(reason, refused, outstanding, needs_second, request)


def close_case(
    session: Session,
    *,
    case_id: int,
    reason: str,
    note: str | None,
    at: datetime,
    actor: str,
    now: datetime,
    engine: Engine,
) -> tuple[Case, str]:
    """Close the case for a reason, or, with duties outstanding, ask for a second person's
    approval (the first officer's ``closure_requested``; a colleague's ``closed``). Returns the
    case and the event recorded."""
    case = _lock_case(session, case_id)
    plan = closing(case, engine, reason=reason, actor=actor, at=at, note=note)
    if plan.refused:
        raise EventRefused(plan.refused)
    kind = "closed"
    if plan.needs_second_person and (plan.request is None or plan.request[1] != reason):
        kind = "closure_requested"
    event = EventIn(type=kind, at=at, reason=reason, note=note)  # type: ignore[arg-type]
    return (
        record_event(session, case_id=case_id, event=event, actor=actor, now=now, engine=engine),
        kind,
    )


# --- the written summary sent -----------------------------------------------------------------------

SUMMARY_METHODS: dict[str, str] = {
    "first_class_post": "first-class post",
    "in_person": "by hand, in person",
    "left_at_home": "left at the home",
    "email": "email",
}


class LetterChannel(Protocol):
    """Delivers a letter (email, SMS, post service): notify/ plugs one in through the
    composition root. Returns what it did, in words, for the case page."""

    def deliver(
        self, session: Session, *, case_id: int, facts: SummaryFacts, method: str, text: str
    ) -> str: ...


def send_written_summary(
    session: Session,
    *,
    case_id: int,
    method: str,
    at: datetime,
    actor: str,
    now: datetime,
    engine: Engine,
    channel: LetterChannel | None = None,
) -> tuple[Case, str]:
    """Record the written summary as sent (``summary_sent``, with how and when, and the letter's
    text and SHA-256 as its evidence), handing it to a delivery channel when one is plugged in.
    Returns the case and what happened, in words."""
    if method not in SUMMARY_METHODS:
        raise InvalidInput(f"how the summary was sent: one of {', '.join(SUMMARY_METHODS)}")
    case = _lock_case(session, case_id)
    facts = summary_facts(session, case, engine, now=at)
    text = render_text(facts)
    event = EventIn(
        type="summary_sent",
        at=at,
        method=method,
        evidence={
            "letter": "written_summary",
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "text": text,
        },
    )
    case = record_event(session, case_id=case_id, event=event, actor=actor, now=now, engine=engine)
    if channel is not None:
        said = channel.deliver(session, case_id=case_id, facts=facts, method=method, text=text)
    elif method == "email":
        said = (
            "Recorded as emailed. Homesafe did not send it: no mail server is configured, so "
            "send it from your own mailbox if you have not."
        )
    else:
        said = f"Recorded as sent ({SUMMARY_METHODS[method]})."
    return case, said


def letters_sent(case: Case) -> list[CaseEvent]:
    """The case's letters as sent (``summary_sent`` events), oldest first."""
    return [e for e in case.events if e.type == "summary_sent"]


# --- what the compliance officer and the public read ------------------------------------------------

AT_RISK = timedelta(hours=48)


def duties_at_risk(session: Session, *, now: datetime) -> tuple[list[Clock], list[Clock]]:
    """Open cases' duties not yet done: (breached, due within the next 48 hours), oldest first."""
    clocks = repository.clocks_outstanding_before(session, before=now + AT_RISK)
    return (
        [c for c in clocks if c.status in BREACHED],
        [c for c in clocks if c.status == "running"],
    )


@dataclass
class KindMonth:
    """Clocks of one kind whose deadline fell in one month."""

    kind: str
    month: str
    met_on_time: int = 0
    breached: int = 0
    excused: int = 0
    running: int = 0

    @property
    def decided(self) -> int:
        return self.met_on_time + self.breached + self.excused


def clocks_by_kind_and_month(session: Session, *, timezone: str) -> list[KindMonth]:
    """Clocks met on time, breached, excused and still running, by kind and month of deadline."""
    tz = ZoneInfo(timezone)
    cells: dict[tuple[str, str], KindMonth] = {}
    for kind, status, due, met in repository.clock_outcomes(session):
        month = due.astimezone(tz).strftime("%Y-%m")
        cell = cells.setdefault((kind, month), KindMonth(kind, month))
        if status == "met" and met is not None and met <= due:
            cell.met_on_time += 1
        elif status == "breached_excused":
            cell.excused += 1
        elif status in ("breached", "met"):
            cell.breached += 1
        else:
            cell.running += 1
    return sorted(cells.values(), key=lambda c: (c.month, c.kind))


@dataclass(frozen=True)
class Headline:
    """Aggregates for the public transparency page (no home, household or person)."""

    open_cases: int
    cases_opened_12m: int
    cases_closed_12m: int
    clocks_decided_12m: Counter[str]
    clocks_on_time_12m: Counter[str]
    tenant_reports_12m: int
    tenant_reports_made_safe_12m: int
    tenant_reports_closed_12m: int


def headline(session: Session, *, now: datetime) -> Headline:
    """The public figures over the last twelve months."""
    figures = repository.public_figures(session, since=now - timedelta(days=365))
    decided: Counter[str] = Counter()
    on_time: Counter[str] = Counter()
    for kind, status, due, met in figures["clocks"]:
        decided[kind] += 1
        if status == "met" and met is not None and met <= due:
            on_time[kind] += 1
    tenant = figures["tenant_cases"]
    return Headline(
        open_cases=figures["open"],
        cases_opened_12m=figures["opened"],
        cases_closed_12m=figures["closed"],
        clocks_decided_12m=decided,
        clocks_on_time_12m=on_time,
        tenant_reports_12m=len(tenant),
        tenant_reports_made_safe_12m=sum(
            1
            for status, stage, outcome in tenant
            if stage in ("made_safe", "closed") or outcome in ("not_significant", "no_hazard")
        ),
        tenant_reports_closed_12m=sum(1 for status, _, _ in tenant if status == "closed"),
    )
