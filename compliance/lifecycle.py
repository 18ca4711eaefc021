"""The life of an Awaab's Law case as pure data and functions: no database, no wall clock.

``open_case`` turns an awareness into a case and its clocks; ``apply_event`` applies one event of
docs/api.md (case events) and returns a ``Transition`` (the new state and which clocks started, were
met or stopped), or raises ``EventRefused`` with a reason (the API answers 409 with it).
``breach`` / ``excuse`` are the scheduler's and the compliance officer's steps on one clock;
``breach_case_clock`` also raises the duty to offer alternative accommodation.

Readings of the rule book (docs/law.md) made here, each easy to change:

- A clock that is met late keeps ``status == "breached"`` and gains ``met_at``: the report shows
  both the breach and when the duty was finally done. ``excuse`` never erases ``breached_at``.
- "Stopped" clocks are duties that fell away rather than being done: the emergency clock when the
  investigation finds no emergency hazard; the written summary when all work was finished within
  its three working days; any clock still running when a case is closed with a stated reason
  (household moved out, third-party consent refused...). They end ``met`` at that time.
- Safety work is due after an emergency or significant finding only if the rule set covers that
  hazard in that category (phase 1: significant damp and mould only).
- A case whose hazard the rule set does not cover (overcrowding, or a potential hazard outside the
  phase's significant list) opens with no clocks and ``in_scope=False``.
- ``emergency_clock_start == "identification"`` (*unconfirmed* reading): the 24-hour clock starts at
  an emergency finding, not at awareness. Under either setting, an emergency finding on a case
  without an emergency clock starts one at the finding.
- ``awareness_from_sensors == "on_triage"`` (*unsettled*): a sensor case opens ``awaiting_triage``
  with no clocks; ``confirm_triage`` starts them at the officer's confirmation (due within
  ``triage_working_days``, see ``compliance.clocks.triage_due_at``).
- Reopening a closed case starts a new ``investigate`` clock from the reopening.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal, get_args

from compliance.calendar import WorkingDayCalendar
from compliance.clocks import due_at
from compliance.rules import ComplianceSettings, RuleSet

Category = Literal["emergency", "significant", "potential"]
Source = Literal["sensor", "tenant", "staff", "contractor"]
Outcome = Literal["emergency", "significant", "not_significant", "no_hazard"]
ClockStatus = Literal["running", "met", "breached", "breached_excused"]
CaseStatus = Literal["open", "closed"]
Accommodation = Literal["not_due", "due", "offered", "declined", "ended"]
EventType = Literal[
    "investigation_booked",
    "access_failed",
    "investigation_concluded",
    "summary_sent",
    "safety_work_started",
    "safety_work_completed",
    "supplementary_work_started",
    "alternative_accommodation_offered",
    "alternative_accommodation_declined",
    "closed",
    "reopened",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
OUTCOMES: tuple[str, ...] = ("emergency", "significant", "not_significant", "no_hazard")
HAZARD_FOUND: tuple[str, ...] = ("emergency", "significant")
SAFETY_KINDS: tuple[str, ...] = ("emergency_action", "safety_work")


class EventRefused(Exception):
    """The case's state does not allow the step; ``reason`` says why, for the person who sent it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ClockState:
    """One statutory clock of a case (docs/api.md), plus its breach and excuse record."""

    kind: str
    started_at: datetime
    due_at: datetime
    met_at: datetime | None = None
    status: ClockStatus = "running"
    breached_at: datetime | None = None
    excused_at: datetime | None = None
    excuse_reason: str | None = None

    @property
    def outstanding(self) -> bool:
        """Running, or breached and still not done."""
        return self.status == "running" or (self.status != "met" and self.met_at is None)


@dataclass(frozen=True)
class AccessAttempt:
    """A failed attempt to get into the home, and how it was arranged (phone, letter, visit...)."""

    at: datetime
    method: str


@dataclass(frozen=True)
class CaseState:
    """Everything the rules need to know about a case."""

    hazard: str
    category: Category
    source: Source
    aware_at: datetime
    rule_set_key: str
    in_scope: bool = True
    status: CaseStatus = "open"
    stage: str = "awaiting_investigation"
    outcome: Outcome | None = None
    clocks: tuple[ClockState, ...] = ()
    access_attempts: tuple[AccessAttempt, ...] = ()
    investigation_booked_at: datetime | None = None
    accommodation: Accommodation = "not_due"
    accommodation_offered_at: datetime | None = None
    accommodation_declined_at: datetime | None = None
    closed_at: datetime | None = None

    def clock(self, kind: str) -> ClockState | None:
        """The latest clock of this kind, if any."""
        for clock in reversed(self.clocks):
            if clock.kind == kind:
                return clock
        return None

    @property
    def made_safe(self) -> bool:
        """No emergency or safety-work duty is outstanding."""
        return not any(c.kind in SAFETY_KINDS and c.outstanding for c in self.clocks)


@dataclass(frozen=True)
class Event:
    """One step of a case's life as the API receives it."""

    type: EventType
    at: datetime
    outcome: Outcome | None = None
    method: str | None = None
    supplementary_work_needed: bool = False
    note: str | None = None


@dataclass(frozen=True)
class Transition:
    """What a step did: the state after it and the clocks it started, met and stopped."""

    before: CaseState | None
    after: CaseState
    started: tuple[ClockState, ...] = ()
    met: tuple[ClockState, ...] = ()
    stopped: tuple[ClockState, ...] = ()
    notices: tuple[str, ...] = field(default=())


@dataclass
class _Step:
    """A transition being built."""

    case: CaseState
    rule_set: RuleSet
    calendar: WorkingDayCalendar
    settings: ComplianceSettings
    started: list[ClockState] = field(default_factory=list)
    met: list[ClockState] = field(default_factory=list)
    stopped: list[ClockState] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def start(self, kind: str, at: datetime) -> None:
        clock = ClockState(
            kind=kind,
            started_at=at,
            due_at=due_at(kind, at, self.rule_set, self.calendar, self.settings),
        )
        self.case = replace(self.case, clocks=(*self.case.clocks, clock))
        self.started.append(clock)

    def close_clock(self, kind: str, at: datetime, *, stopped: bool = False) -> ClockState | None:
        """Mark the latest outstanding clock of the kind done at ``at``; None if there is none."""
        clocks = list(self.case.clocks)
        for index in range(len(clocks) - 1, -1, -1):
            clock = clocks[index]
            if clock.kind == kind and clock.outstanding:
                status: ClockStatus = "met" if clock.status == "running" else clock.status
                done = replace(clock, met_at=at, status=status)
                clocks[index] = done
                self.case = replace(self.case, clocks=tuple(clocks))
                (self.stopped if stopped else self.met).append(done)
                return done
        return None

    def done(self, before: CaseState | None) -> Transition:
        return Transition(
            before=before,
            after=self.case,
            started=tuple(self.started),
            met=tuple(self.met),
            stopped=tuple(self.stopped),
            notices=tuple(self.notices),
        )


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise EventRefused("times must carry an offset")


def open_case(
    *,
    hazard: str,
    category: Category,
    source: Source,
    aware_at: datetime,
    rule_set: RuleSet,
    calendar: WorkingDayCalendar,
    settings: ComplianceSettings,
) -> Transition:
    """A new awareness: the case and its first clocks (emergency: 24 h and investigate)."""
    _require_aware(aware_at)
    if category not in ("emergency", "significant", "potential"):
        raise EventRefused(f"unknown category {category!r}")
    in_scope = rule_set.covers(hazard, category)
    case = CaseState(
        hazard=hazard,
        category=category,
        source=source,
        aware_at=aware_at,
        rule_set_key=rule_set.key,
        in_scope=in_scope,
    )
    step = _Step(case, rule_set, calendar, settings)
    if not in_scope:
        step.notices.append("out_of_scope")
        return step.done(None)
    if source == "sensor" and settings.awareness_from_sensors == "on_triage":
        step.case = replace(step.case, stage="awaiting_triage")
        step.notices.append("triage_due")
        return step.done(None)
    _start_opening_clocks(step, aware_at)
    return step.done(None)


def _start_opening_clocks(step: _Step, at: datetime) -> None:
    """Emergency: the 24-hour clock; and the 10-working-day investigation wherever the rule set
    makes the hazard a significant one too (an emergency electrical hazard in phase 1 has only
    the 24-hour duty; an emergency damp-and-mould hazard has both)."""
    if step.case.category == "emergency" and step.settings.emergency_clock_start == "awareness":
        step.start("emergency_action", at)
    if step.case.category != "emergency" or step.rule_set.covers(step.case.hazard, "significant"):
        step.start("investigate", at)


def confirm_triage(
    case: CaseState,
    at: datetime,
    *,
    rule_set: RuleSet,
    calendar: WorkingDayCalendar,
    settings: ComplianceSettings,
) -> Transition:
    """An officer confirms a sensor finding (on_triage setting): the clocks start now."""
    _require_aware(at)
    if case.stage != "awaiting_triage" or case.status != "open":
        raise EventRefused("the case is not awaiting triage")
    step = _Step(replace(case, stage="awaiting_investigation"), rule_set, calendar, settings)
    _start_opening_clocks(step, at)
    return step.done(case)


def escalate_to_emergency(
    case: CaseState,
    at: datetime,
    *,
    rule_set: RuleSet,
    calendar: WorkingDayCalendar,
    settings: ComplianceSettings,
) -> Transition:
    """A report of an emergency joins an open case not yet investigated: the 24-hour clock starts."""
    _require_aware(at)
    if case.status != "open" or case.outcome is not None:
        raise EventRefused("only an open case not yet investigated can be escalated")
    if case.category == "emergency":
        raise EventRefused("the case is already an emergency")
    step = _Step(replace(case, category="emergency"), rule_set, calendar, settings)
    if not case.in_scope and rule_set.covers(case.hazard, "emergency"):
        step.case = replace(step.case, in_scope=True)
        step.start("investigate", at)
    if step.case.in_scope and settings.emergency_clock_start == "awareness":
        if case.stage != "awaiting_triage":
            step.start("emergency_action", at)
    return step.done(case)


def apply_event(
    case: CaseState,
    event: Event,
    *,
    rule_set: RuleSet,
    calendar: WorkingDayCalendar,
    settings: ComplianceSettings,
) -> Transition:
    """Apply one case event, or raise EventRefused saying why the case's state does not allow it."""
    _require_aware(event.at)
    if event.type not in EVENT_TYPES:
        raise EventRefused(f"unknown event type {event.type!r}")
    if event.type == "reopened":
        if case.status != "closed":
            raise EventRefused("only a closed case can be reopened")
        step = _Step(case, rule_set, calendar, settings)
        step.case = replace(
            case,
            status="open",
            closed_at=None,
            stage="awaiting_investigation",
            outcome=None,
            access_attempts=(),
            investigation_booked_at=None,
        )
        step.start("investigate", event.at)
        return step.done(case)
    if case.status != "open":
        raise EventRefused(f"the case is {case.status}; reopen it first")
    if case.stage == "awaiting_triage" and event.type != "closed":
        raise EventRefused("the sensor finding awaits an officer's triage")
    step = _Step(case, rule_set, calendar, settings)
    _HANDLERS[event.type](step, event)
    return step.done(case)


def _before_conclusion(step: _Step, _event: Event) -> None:
    if step.case.outcome is not None:
        raise EventRefused("the investigation is already concluded")


def _investigation_booked(step: _Step, event: Event) -> None:
    _before_conclusion(step, event)
    step.case = replace(step.case, stage="investigation_booked", investigation_booked_at=event.at)


def _access_failed(step: _Step, event: Event) -> None:
    _before_conclusion(step, event)
    attempt = AccessAttempt(at=event.at, method=(event.method or "unspecified").strip().lower())
    step.case = replace(
        step.case, stage="access_failed", access_attempts=(*step.case.access_attempts, attempt)
    )
    if access_reasonable_steps(step.case, step.settings):
        step.notices.append("access_reasonable_steps_recorded")


def _investigation_concluded(step: _Step, event: Event) -> None:
    _before_conclusion(step, event)
    outcome = event.outcome
    if outcome is None:
        raise EventRefused("investigation_concluded needs an outcome")
    if outcome not in OUTCOMES:
        raise EventRefused(f"unknown outcome {outcome!r}; one of {', '.join(OUTCOMES)}")
    if event.supplementary_work_needed and outcome not in HAZARD_FOUND:
        raise EventRefused("supplementary work follows an emergency or significant finding")
    hazard = step.case.hazard
    if not step.case.in_scope:
        if outcome in HAZARD_FOUND and step.rule_set.covers(hazard, outcome):
            step.case = replace(step.case, in_scope=True, category=outcome)
        else:
            # Out of scope and the finding does not bring it in: no statutory clocks.
            step.case = replace(step.case, outcome=outcome, stage="no_work_due")
            step.notices.append("out_of_scope")
            return
    step.case = replace(step.case, outcome=outcome)
    step.close_clock("investigate", event.at)
    if outcome == "emergency":
        if step.case.clock("emergency_action") is None:
            step.start("emergency_action", event.at)
    else:
        step.close_clock("emergency_action", event.at, stopped=True)
    step.start("written_summary", event.at)
    if outcome == "emergency" or outcome == "significant":
        step.case = replace(step.case, category=outcome)
        if step.rule_set.covers(hazard, outcome):
            step.start("safety_work", event.at)
            if event.supplementary_work_needed:
                step.start("supplementary_work", event.at)
        else:
            step.notices.append("finding_outside_rule_set")
    step.case = replace(
        step.case, stage="safety_work_due" if not step.case.made_safe else "no_work_due"
    )


def _summary_sent(step: _Step, event: Event) -> None:
    summary = step.case.clock("written_summary")
    if summary is None:
        raise EventRefused("no written summary is due: the investigation is not concluded")
    if step.close_clock("written_summary", event.at) is None:
        raise EventRefused("the written summary was already sent or is no longer needed")


def _require_safety_duty(step: _Step) -> None:
    if step.case.outcome not in HAZARD_FOUND and step.case.clock("emergency_action") is None:
        raise EventRefused("no safety work is due: no emergency or significant hazard found")
    if step.case.made_safe:
        raise EventRefused("no safety work is due: the home is already made safe")


def _safety_work_started(step: _Step, _event: Event) -> None:
    _require_safety_duty(step)
    step.case = replace(step.case, stage="safety_work_started")


def _safety_work_completed(step: _Step, event: Event) -> None:
    _require_safety_duty(step)
    for kind in SAFETY_KINDS:
        step.close_clock(kind, event.at)
    summary = step.case.clock("written_summary")
    if (
        summary is not None
        and summary.status == "running"
        and event.at <= summary.due_at
        and step.case.clock("supplementary_work") is None
    ):
        step.close_clock("written_summary", event.at, stopped=True)
    accommodation: Accommodation = step.case.accommodation
    if accommodation in ("due", "offered"):
        accommodation = "ended"
    step.case = replace(step.case, stage="made_safe", accommodation=accommodation)


def _supplementary_work_started(step: _Step, event: Event) -> None:
    if step.case.clock("supplementary_work") is None:
        raise EventRefused("no supplementary work is due")
    if step.close_clock("supplementary_work", event.at) is None:
        raise EventRefused("supplementary work has already started")


def _accommodation_offered(step: _Step, event: Event) -> None:
    if step.case.outcome not in HAZARD_FOUND and step.case.clock("emergency_action") is None:
        raise EventRefused("alternative accommodation follows an emergency or significant hazard")
    if step.case.made_safe:
        raise EventRefused("the home is already made safe")
    if step.case.accommodation == "offered":
        raise EventRefused("alternative accommodation is already offered")
    step.case = replace(step.case, accommodation="offered", accommodation_offered_at=event.at)


def _accommodation_declined(step: _Step, event: Event) -> None:
    if step.case.accommodation != "offered":
        raise EventRefused("no alternative accommodation offer is open to decline")
    step.case = replace(step.case, accommodation="declined", accommodation_declined_at=event.at)


def _closed(step: _Step, event: Event) -> None:
    running = [c.kind for c in step.case.clocks if c.status == "running"]
    if running and not (event.note and event.note.strip()):
        raise EventRefused(
            f"clocks still running ({', '.join(running)}): meet them, or give in the note why "
            "the duty fell away"
        )
    for kind in running:
        step.close_clock(kind, event.at, stopped=True)
    step.case = replace(step.case, status="closed", stage="closed", closed_at=event.at)


_HANDLERS = {
    "investigation_booked": _investigation_booked,
    "access_failed": _access_failed,
    "investigation_concluded": _investigation_concluded,
    "summary_sent": _summary_sent,
    "safety_work_started": _safety_work_started,
    "safety_work_completed": _safety_work_completed,
    "supplementary_work_started": _supplementary_work_started,
    "alternative_accommodation_offered": _accommodation_offered,
    "alternative_accommodation_declined": _accommodation_declined,
    "closed": _closed,
}


def access_reasonable_steps(case: CaseState, settings: ComplianceSettings) -> bool:
    """At least three failed access attempts by three different methods (guidance's usual steps)."""
    attempts = case.access_attempts
    methods = {a.method for a in attempts if a.method != "unspecified"}
    needed = settings.access_attempts_for_reasonable_steps
    return len(attempts) >= needed and len(methods) >= needed


def breach(clock: ClockState, at: datetime) -> ClockState:
    """The scheduler's breach, noticed at ``at``; the breach is dated at the deadline itself."""
    _require_aware(at)
    if clock.status != "running":
        raise EventRefused(f"the {clock.kind} clock is {clock.status}, not running")
    if at <= clock.due_at:
        raise EventRefused(f"the {clock.kind} clock is not yet due")
    return replace(clock, status="breached", breached_at=clock.due_at)


def excuse(clock: ClockState, *, at: datetime, reason: str) -> ClockState:
    """A compliance officer accepts the recorded reasonable steps: breached -> breached_excused."""
    _require_aware(at)
    if clock.status != "breached":
        raise EventRefused(f"only a breached clock can be excused; this one is {clock.status}")
    if not reason.strip():
        raise EventRefused("an excuse needs the reasonable steps it rests on")
    return replace(clock, status="breached_excused", excused_at=at, excuse_reason=reason.strip())


def breach_case_clock(
    case: CaseState, kind: str, at: datetime, *, index: int | None = None
) -> Transition:
    """Breach the case's running clock of this kind (or the one at ``index``); a safety breach
    makes accommodation due."""
    clocks = list(case.clocks)
    indexes = [index] if index is not None else range(len(clocks) - 1, -1, -1)
    for index in indexes:
        if clocks[index].kind == kind and clocks[index].status == "running":
            clocks[index] = breach(clocks[index], at)
            accommodation, notices = accommodation_after_breach(kind, case.accommodation)
            after = replace(case, clocks=tuple(clocks), accommodation=accommodation)
            return Transition(before=case, after=after, notices=notices)
    raise EventRefused(f"no running {kind} clock")


def accommodation_after_breach(
    kind: str, accommodation: Accommodation
) -> tuple[Accommodation, tuple[str, ...]]:
    """The accommodation duty after a breach of this kind of clock, with the notices it raises."""
    if kind in SAFETY_KINDS and accommodation in ("not_due", "ended"):
        return "due", ("alternative_accommodation_due",)
    return accommodation, ()


def safety_work_cannot_be_met(case: CaseState, at: datetime, *, reason: str) -> Transition:
    """Safety work cannot be done in time: the duty to offer alternative accommodation shows now."""
    _require_aware(at)
    if case.status != "open" or case.made_safe:
        raise EventRefused("no safety work is outstanding")
    if not reason.strip():
        raise EventRefused("say why the safety work cannot be done in time")
    if case.accommodation in ("due", "offered"):
        return Transition(before=case, after=case)
    after = replace(case, accommodation="due")
    return Transition(before=case, after=after, notices=("alternative_accommodation_due",))
