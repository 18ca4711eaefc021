"""Compliance use cases: open or join a case, record its events, breach what is overdue.

Services take keyword-only arguments, append to the audit log, and never commit: the request or
job that calls them owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from compliance import audit, repository
from compliance.calendar import WorkingDayCalendar
from compliance.clocks import due_at
from compliance.models import Case, CaseEvent, Clock, Evidence
from compliance.rules import ComplianceSettings, OutOfScope, RuleSet, rule_set_for
from compliance.schemas import EventIn, FindingIn, ReportIn
from registry.clock import to_rfc3339
from registry.models import Home


class CaseNotFound(LookupError):
    """No case with that id."""


class HomeNotFound(LookupError):
    """No home with that id in the registry."""


class EventRefused(Exception):
    """The case's state does not allow the event; the reason is for the person who sent it."""


@dataclass(frozen=True)
class Engine:
    """The calendar and settings every compliance function needs, built once by the composition root."""

    calendar: WorkingDayCalendar
    settings: ComplianceSettings = field(default_factory=ComplianceSettings)


def _snapshot(case: Case) -> dict[str, Any]:
    return {
        "status": case.status,
        "stage": case.stage,
        "category": case.category,
        "outcome": case.outcome,
        "clocks": [
            {
                "kind": c.kind,
                "status": c.status,
                "due_at": to_rfc3339(c.due_at),
                "met_at": to_rfc3339(c.met_at) if c.met_at else None,
            }
            for c in case.clocks
        ],
    }


def _rule_set(aware_at: datetime, engine: Engine) -> RuleSet | None:
    """The rule set in force at awareness, or None before Awaab's Law (no statutory clocks)."""
    try:
        return rule_set_for(aware_at, engine.calendar.timezone)
    except OutOfScope:
        return None


def _start_clock(
    session: Session, case: Case, kind: str, started_at: datetime, engine: Engine
) -> Clock | None:
    rule_set = _rule_set(case.aware_at, engine)
    if rule_set is None:
        return None
    clock = Clock(
        kind=kind,
        started_at=started_at,
        due_at=due_at(kind, started_at, rule_set, engine.calendar, engine.settings),
        status="running",
    )
    case.clocks.append(clock)
    session.flush()
    return clock


def _meet(case: Case, kind: str, at: datetime) -> Clock | None:
    for clock in case.clocks:
        if clock.kind == kind and clock.status == "running":
            clock.status = "met"
            clock.met_at = at
            return clock
    return None


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
) -> tuple[Case, bool]:
    """Join the home's open case for this hazard as evidence, or open one with its clocks."""
    if session.get(Home, home_id) is None:
        raise HomeNotFound(f"home {home_id!r} is not in the registry")
    case = repository.open_case_for(session, home_id=home_id, hazard=hazard)
    if case is not None:
        before = _snapshot(case)
        case.evidence.append(evidence)
        if category == "emergency" and case.category != "emergency" and case.outcome is None:
            case.category = "emergency"
            _start_clock(session, case, "emergency_action", aware_at, engine)
        session.flush()
        audit.append(
            session,
            at=now,
            actor=actor,
            action="case.evidence_added",
            entity_type="case",
            entity_id=case.id,
            before=before,
            after=_snapshot(case) | {"evidence": evidence.kind, "source": evidence.source},
        )
        return case, False
    rule_set = _rule_set(aware_at, engine)
    case = Case(
        home_id=home_id,
        hazard=hazard,
        category=category,
        source=source,
        aware_at=aware_at,
        rule_set=rule_set.key if rule_set else "out_of_scope",
        status="open",
        stage="awaiting_investigation",
        opened_at=now,
        access_failures=0,
        alternative_accommodation_due=False,
    )
    session.add(case)
    session.flush()
    case.evidence.append(evidence)
    if rule_set is not None and rule_set.covers(hazard, category):
        if category == "emergency":
            _start_clock(session, case, "emergency_action", aware_at, engine)
        _start_clock(session, case, "investigate", aware_at, engine)
    audit.append(
        session,
        at=now,
        actor=actor,
        action="case.opened",
        entity_type="case",
        entity_id=case.id,
        before=None,
        after=_snapshot(case)
        | {"home_id": home_id, "hazard": hazard, "aware_at": to_rfc3339(aware_at)},
    )
    return case, True


def record_report(
    session: Session, *, report: ReportIn, actor: str, now: datetime, engine: Engine
) -> tuple[Case, bool]:
    """A tenant's, staff member's or contractor's report: opens or joins the home's case."""
    evidence = Evidence(
        kind="report",
        recorded_at=now,
        source=report.source,
        description=report.description,
        figures={"reported_at": to_rfc3339(report.reported_at), "emergency": report.emergency},
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


def record_event(
    session: Session, *, case_id: int, event: EventIn, actor: str, now: datetime, engine: Engine
) -> Case:
    """Apply one step of the case's life, or raise EventRefused saying why not."""
    case = repository.get_case(session, case_id)
    if case is None:
        raise CaseNotFound(f"no case {case_id}")
    before = _snapshot(case)
    _apply(session, case, event, engine)
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
                    "evidence": event.evidence,
                    "supplementary_work_needed": event.supplementary_work_needed,
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
        after=_snapshot(case) | {"event_at": to_rfc3339(event.at), "note": event.note},
    )
    return case


def _apply(session: Session, case: Case, event: EventIn, engine: Engine) -> None:
    kind = event.type
    if kind == "reopened":
        if case.status != "closed":
            raise EventRefused("only a closed case can be reopened")
        case.status, case.closed_at = "open", None
        return
    if case.status != "open":
        raise EventRefused(f"the case is {case.status}; reopen it first")
    concluded = case.outcome is not None
    if kind == "investigation_booked":
        if concluded:
            raise EventRefused("the investigation is already concluded")
        case.stage = "investigation_booked"
    elif kind == "access_failed":
        if concluded:
            raise EventRefused("the investigation is already concluded")
        case.access_failures += 1
    elif kind == "investigation_concluded":
        if concluded:
            raise EventRefused("the investigation is already concluded")
        if event.outcome is None:
            raise EventRefused("investigation_concluded needs an outcome")
        case.outcome = event.outcome
        _meet(case, "investigate", event.at)
        if event.outcome != "emergency":
            _meet(case, "emergency_action", event.at)
        if event.outcome in ("emergency", "significant"):
            case.category = event.outcome
            case.stage = "safety_work_due"
            _start_clock(session, case, "written_summary", event.at, engine)
            _start_clock(session, case, "safety_work", event.at, engine)
            if event.supplementary_work_needed:
                _start_clock(session, case, "supplementary_work", event.at, engine)
        else:
            case.stage = "no_significant_hazard"
            _start_clock(session, case, "written_summary", event.at, engine)
    elif kind == "summary_sent":
        if _meet(case, "written_summary", event.at) is None:
            raise EventRefused("no written summary is due")
    elif kind == "safety_work_started":
        if not any(c.kind == "safety_work" and c.status != "met" for c in case.clocks):
            raise EventRefused("no safety work is due")
        case.stage = "safety_work_started"
    elif kind == "safety_work_completed":
        if _meet(case, "safety_work", event.at) is None and case.category != "emergency":
            raise EventRefused("no safety work is due")
        _meet(case, "emergency_action", event.at)
        case.stage = "made_safe"
    elif kind == "supplementary_work_started":
        if _meet(case, "supplementary_work", event.at) is None:
            raise EventRefused("no supplementary work is due")
    elif kind in ("alternative_accommodation_offered", "alternative_accommodation_declined"):
        if not concluded:
            raise EventRefused("alternative accommodation follows an investigation")
        if kind == "alternative_accommodation_offered":
            case.alternative_accommodation_due = False
    elif kind == "closed":
        case.status, case.closed_at = "closed", event.at
        case.stage = "closed"


def breach_clock(session: Session, *, clock: Clock, actor: str, now: datetime) -> None:
    """Record a breach at the deadline's own time, whenever the sweep notices it."""
    before = {"status": clock.status}
    clock.status = "breached"
    clock.breached_at = clock.due_at
    if clock.kind == "safety_work":
        clock.case.alternative_accommodation_due = True
    audit.append(
        session,
        at=now,
        actor=actor,
        action="clock.breached",
        entity_type="clock",
        entity_id=clock.id,
        before=before,
        after={
            "case_id": clock.case_id,
            "kind": clock.kind,
            "status": "breached",
            "breached_at": to_rfc3339(clock.due_at),
        },
    )
