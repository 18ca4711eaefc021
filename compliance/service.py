"""Compliance use cases: open or join a case, record its events, breach, warn and excuse.

Every state change loads the case's rows into ``compliance.lifecycle.CaseState``, applies the pure
rule (which refuses with ``lifecycle.EventRefused``), writes the ``Transition`` back (new clocks
get their warning rows) and appends one audit entry: who, what, when, before and after.
Services take keyword-only arguments and never commit: the request or job owns the transaction.
On PostgreSQL each step locks the case row first, so the API and the schedulers serialise per case.

Extension beyond the contract's events (the contract's names stay exactly as they are):
``triage_confirmed`` — with ``awareness_from_sensors = on_triage``, a sensor case opens
``awaiting_triage`` with no clocks; an officer posts ``{"type": "triage_confirmed", "at": ...}``
and the clocks start at ``at`` (confirmation due within ``triage_working_days``; ``triage_due_at``
is shown on the case).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from compliance import audit, lifecycle, repository
from compliance.calendar import WorkingDayCalendar
from compliance.clocks import supplementary_steps_due_at, triage_due_at, working_days_left_from
from compliance.lifecycle import AccessAttempt, CaseState, ClockState, EventRefused, Transition
from compliance.models import Case, CaseEvent, Clock, ClockWarning, Evidence
from compliance.reporting import ClockRow, summary_figures
from compliance.rules import RULE_SETS, ComplianceSettings, OutOfScope, RuleSet, rule_set_for
from compliance.schemas import EventIn, FindingIn, ReportIn
from compliance.summary import SummaryFacts, WorkItem
from registry.clock import to_rfc3339
from registry.models import Home

__all__ = [
    "OUT_OF_SCOPE",
    "TRIAGE_CONFIRMED",
    "CaseNotFound",
    "Engine",
    "EventRefused",
    "HomeNotFound",
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


@dataclass(frozen=True)
class Engine:
    """The calendar and settings every compliance function needs, built once by the composition root."""

    calendar: WorkingDayCalendar
    settings: ComplianceSettings = field(default_factory=ComplianceSettings)
    rule_sets: tuple[RuleSet, ...] = RULE_SETS

    def rule_set(self, key: str, aware_at: datetime) -> RuleSet:
        """The case's rule set by its stored key (the one in force at awareness)."""
        for rule_set in self.rule_sets:
            if rule_set.key == key:
                return rule_set
        if key == OUT_OF_SCOPE.key:
            return OUT_OF_SCOPE
        return rule_set_for(aware_at, self.calendar.timezone, self.rule_sets)


# --- rows <-> lifecycle state ---------------------------------------------------------------------


def case_state(case: Case) -> CaseState:
    """The pure lifecycle's view of a case row and its clock rows."""
    return CaseState(
        hazard=case.hazard,
        category=case.category,  # type: ignore[arg-type]
        source=case.source,  # type: ignore[arg-type]
        aware_at=case.aware_at,
        rule_set_key=case.rule_set,
        in_scope=case.in_scope,
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
            )
            for c in case.clocks
        ),
        access_attempts=tuple(
            AccessAttempt(at=datetime.fromisoformat(a["at"]), method=a["method"])
            for a in case.access_attempts or ()
        ),
        investigation_booked_at=case.investigation_booked_at,
        accommodation=case.accommodation,  # type: ignore[arg-type]
        accommodation_offered_at=case.accommodation_offered_at,
        accommodation_declined_at=case.accommodation_declined_at,
        closed_at=case.closed_at,
    )


def _write_back(session: Session, case: Case, after: CaseState, engine: Engine) -> None:
    """Copy the state after a transition onto the rows; new clocks get rows and warning rows."""
    case.category = after.category
    case.in_scope = after.in_scope
    case.status = after.status
    case.stage = after.stage
    case.outcome = after.outcome
    case.closed_at = after.closed_at
    case.investigation_booked_at = after.investigation_booked_at
    case.access_attempts = [
        {"at": to_rfc3339(a.at), "method": a.method} for a in after.access_attempts
    ]
    case.access_failures = len(after.access_attempts)
    case.accommodation = after.accommodation
    case.alternative_accommodation_due = after.accommodation == "due"
    case.accommodation_offered_at = after.accommodation_offered_at
    case.accommodation_declined_at = after.accommodation_declined_at
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
    running = [c.due_at for c in after.clocks if c.status == "running"]
    case.next_due_at = min(running) if running else None
    if new_rows:
        session.flush()
        rule_set = engine.rule_set(case.rule_set, case.aware_at)
        for row in new_rows:
            for warn_at, label in warnings_for(
                row.kind, row.started_at, row.due_at, rule_set, engine
            ):
                session.add(ClockWarning(clock_id=row.id, warn_at=warn_at, label=label))


def warnings_for(
    kind: str, started_at: datetime, due: datetime, rule_set: RuleSet, engine: Engine
) -> list[tuple[datetime, str]]:
    """The warning instants of a clock with a label each (see ``compliance.clocks.warning_times``)."""
    settings, calendar = engine.settings, engine.calendar
    candidates = [
        (
            working_days_left_from(due, settings.warning_working_days, calendar),
            f"{settings.warning_working_days}_working_days_left",
        ),
        (due - timedelta(hours=settings.warning_hours), f"{settings.warning_hours}_hours_left"),
    ]
    if kind == "supplementary_work":
        candidates.append(
            (supplementary_steps_due_at(started_at, rule_set, calendar), "supplementary_steps_due")
        )
    chosen: dict[datetime, str] = {}
    for at, label in candidates:
        if started_at < at < due and at not in chosen:
            chosen[at] = label
    return sorted(chosen.items())


def _snapshot(case: Case) -> dict[str, Any]:
    return {
        "status": case.status,
        "stage": case.stage,
        "category": case.category,
        "outcome": case.outcome,
        "in_scope": case.in_scope,
        "accommodation": case.accommodation,
        "access_attempts": len(case.access_attempts or ()),
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


def _rule_set_at(aware_at: datetime, engine: Engine) -> RuleSet:
    try:
        return rule_set_for(aware_at, engine.calendar.timezone, engine.rule_sets)
    except OutOfScope:
        return OUT_OF_SCOPE


# --- opening and joining --------------------------------------------------------------------------


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
    if session.get_bind().dialect.name == "postgresql":
        # One open case per home and hazard even when two reports arrive at once.
        session.get(Home, home_id, with_for_update=True)
    found = repository.open_case_for(session, home_id=home_id, hazard=hazard)
    if found is not None:
        case = _lock_case(session, found.id)
        before = _snapshot(case)
        case.evidence.append(evidence)
        state = case_state(case)
        if category == "emergency" and state.category != "emergency" and state.outcome is None:
            rule_set = engine.rule_set(case.rule_set, case.aware_at)
            transition = lifecycle.escalate_to_emergency(
                state,
                aware_at,
                rule_set=rule_set,
                calendar=engine.calendar,
                settings=engine.settings,
            )
            _write_back(session, case, transition.after, engine)
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
    rule_set = _rule_set_at(aware_at, engine)
    transition = lifecycle.open_case(
        hazard=hazard,
        category=category,  # type: ignore[arg-type]
        source=source,  # type: ignore[arg-type]
        aware_at=aware_at,
        rule_set=rule_set,
        calendar=engine.calendar,
        settings=engine.settings,
    )
    case = Case(
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
    )
    session.add(case)
    session.flush()
    case.evidence.append(evidence)
    _write_back(session, case, transition.after, engine)
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
            "notices": list(transition.notices),
        },
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
    return case


# --- case events ----------------------------------------------------------------------------------


def record_event(
    session: Session, *, case_id: int, event: EventIn, actor: str, now: datetime, engine: Engine
) -> Case:
    """Apply one step of the case's life, or raise EventRefused saying why not."""
    case = _lock_case(session, case_id)
    before = _snapshot(case)
    state = case_state(case)
    rule_set = engine.rule_set(case.rule_set, case.aware_at)
    common = {"rule_set": rule_set, "calendar": engine.calendar, "settings": engine.settings}
    if event.at > now + timedelta(minutes=5):
        raise EventRefused("the event's time is in the future")
    if event.at < case.aware_at and event.type != "closed":
        raise EventRefused("the event's time is before the landlord became aware of the hazard")
    transition: Transition
    if event.type == TRIAGE_CONFIRMED:
        transition = lifecycle.confirm_triage(state, event.at, **common)  # type: ignore[arg-type]
        case.triage_confirmed_at = event.at
    else:
        transition = lifecycle.apply_event(
            state,
            lifecycle.Event(
                type=event.type,  # type: ignore[arg-type]
                at=event.at,
                outcome=event.outcome,
                method=event.method,
                supplementary_work_needed=bool(event.supplementary_work_needed),
                note=event.note,
            ),
            **common,  # type: ignore[arg-type]
        )
    _write_back(session, case, transition.after, engine)
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
                    "evidence": event.evidence,
                    "supplementary_work_needed": event.supplementary_work_needed,
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
            "started": [c.kind for c in transition.started],
            "met": [c.kind for c in transition.met],
            "stopped": [c.kind for c in transition.stopped],
            "notices": list(transition.notices),
        },
    )
    return case


def triage_due(case: Case, engine: Engine) -> datetime | None:
    """By when an officer must confirm a sensor case awaiting triage, if it is awaiting one."""
    if case.stage != "awaiting_triage":
        return None
    return triage_due_at(case.aware_at, engine.calendar, engine.settings)


def access_reasonable_steps(case: Case, engine: Engine) -> bool:
    """Whether the failed access attempts make the guidance's usual reasonable steps."""
    return lifecycle.access_reasonable_steps(case_state(case), engine.settings)


# --- breaches, reasonable steps and excuses -------------------------------------------------------


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
    return len(entries)


def record_reasonable_steps(
    session: Session, *, case_id: int, kind: str, steps: str, actor: str, now: datetime
) -> Clock:
    """An officer records the reasonable steps taken against a breached clock (the breach stays)."""
    case = _lock_case(session, case_id)
    if not steps.strip():
        raise EventRefused("say what reasonable steps were taken")
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
        action="clock.reasonable_steps_recorded",
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
    return clock


def excuse_breach(
    session: Session, *, case_id: int, kind: str, actor: str, now: datetime, note: str | None = None
) -> Clock:
    """A compliance officer accepts the recorded reasonable steps: breached -> breached_excused."""
    case = _lock_case(session, case_id)
    index, clock = _clock_of(case, kind, statuses=("breached",))
    if not clock.reasonable_steps:
        raise EventRefused("no reasonable steps are recorded against this breach yet")
    if clock.reasonable_steps_by is not None and clock.reasonable_steps_by == actor:
        # Four eyes: whoever recorded the steps cannot also accept them (not even an admin).
        raise EventRefused(
            "you recorded the reasonable steps for this breach: someone else must accept them"
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
    return clock


def safety_work_cannot_be_met(
    session: Session, *, case_id: int, reason: str, actor: str, now: datetime, engine: Engine
) -> Case:
    """Safety work cannot be done in time: the case shows the duty to offer alternative accommodation."""
    case = _lock_case(session, case_id)
    before = _snapshot(case)
    transition = lifecycle.safety_work_cannot_be_met(case_state(case), now, reason=reason)
    _write_back(session, case, transition.after, engine)
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


# --- written summary and reports ------------------------------------------------------------------


def summary_facts(case: Case, engine: Engine) -> SummaryFacts:
    """The written summary's facts from the case's investigation; refused before it concludes."""
    if case.outcome is None:
        raise EventRefused("no written summary yet: the investigation is not concluded")
    concluded = [e for e in case.events if e.type == "investigation_concluded"]
    event = concluded[-1] if concluded else None
    work_names = {
        "emergency_action": "Make your home safe from the emergency hazard",
        "safety_work": "Safety work to remove or reduce the hazard",
        "supplementary_work": "Further work to stop the problem coming back (to begin)",
    }
    work = tuple(
        WorkItem(what=work_names[c.kind], due_at=c.due_at, done_at=c.met_at)
        for c in case.clocks
        if c.kind in work_names and (event is None or c.started_at >= event.at or c.met_at)
    )
    return SummaryFacts(
        case_id=case.id,
        home_id=case.home_id,
        hazard=case.hazard,
        outcome=case.outcome,
        investigated_at=event.at if event else case.aware_at,
        findings=(event.note or "") if event else "",
        work=work,
        timezone=engine.calendar.timezone,
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
