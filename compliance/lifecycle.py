"""The life of an Awaab's Law case as pure data and functions: no database, no wall clock.

``open_case`` turns a first awareness into a case and its clocks; ``new_awareness`` judges a later
report or sensor finding on an open case; ``apply_event`` applies one step (docs/api.md, "Case
events") and returns a ``Transition`` (the state after it and which clocks started, were done,
ceased, or had their automatic breach withdrawn), or raises ``EventRefused`` with a reason.
``breach`` / ``excuse`` are the scheduler's and the compliance officer's steps on one clock.

The readings of the law made here are in docs/law.md; the main ones:

- **The act's time decides.** A clock is met when the act that does (or ends) its duty happened
  by ``due_at``, whenever it is recorded: a timely act recorded after the scheduler's breach
  withdraws the breach (``Transition.withdrawn``; the audit log keeps both steps); a late act
  never makes a clock met, even when recorded before the sweep.
- **Done or ceased.** A clock that ends carries ``ended``: ``done`` (the duty was carried out) or
  ``ceased`` (it fell away: no emergency hazard found, household moved, third-party consent
  refused, all work finished before the summary was due, the case closed for a stated reason).
  Letters say "done" only for ``done``.
- **Every awareness is judged when it happens.** A later report or finding is judged by the rule
  set and tenure in force at its time: an out-of-scope case comes into scope; a potential
  emergency starts its own 24 hours unless a 24-hour duty is already outstanding; new information
  after an investigation has concluded starts a *further* investigation (its own 10 working days).
- **Emergencies** run the 24-hour duty (investigate and make safe); the 5-working-day safety
  work is for significant hazards. An emergency found by a later investigation runs 24 hours from
  the finding.
- **Investigations** are recorded with their type (emergency, standard, renewed, further),
  method, who investigated and their role. A renewed investigation (in person, after a remote
  one, at the tenant's request) has its own clock from the request.
- **Closing** needs a reason; over an outstanding duty it also needs a second person, who
  approves a colleague's ``closure_requested``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from compliance.calendar import WorkingDayCalendar
from compliance.clocks import due_at
from compliance.enums import (
    CEASE_REASONS,
    CLOSURE_REASONS,
    EVENT_TYPES,
    INVESTIGATION_METHODS,
    INVESTIGATION_TYPES,
    OUTCOMES,
    Accommodation,
    CaseStatus,
    Category,
    ClockStatus,
    ClosureReason,
    Ended,
    EventType,
    InvestigationMethod,
    InvestigationType,
    Outcome,
    Source,
)
from compliance.rules import (
    HAZARD_BY_KEY,
    OVERCROWDING,
    ComplianceSettings,
    RuleSet,
)

HAZARD_FOUND: tuple[str, ...] = ("emergency", "significant")
SAFETY_KINDS: tuple[str, ...] = ("emergency_action", "safety_work")
WORK_KINDS: tuple[str, ...] = ("emergency_action", "safety_work", "supplementary_work")


class EventRefused(Exception):
    """The case's state does not allow the step; ``reason`` says why, for the person who sent it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ClockState:
    """One statutory clock of a case: its duty, deadline, how it ended, its breach and excuse."""

    kind: str
    started_at: datetime
    due_at: datetime
    met_at: datetime | None = None
    status: ClockStatus = "running"
    breached_at: datetime | None = None
    excused_at: datetime | None = None
    excuse_reason: str | None = None
    duty: str | None = None  # None: the kind's own duty
    ended: Ended | None = None
    ended_reason: str | None = None
    investigation_type: InvestigationType | None = None

    @property
    def rule_duty(self) -> str:
        """The duty (the rule table's key) this clock times."""
        return self.duty or self.kind

    @property
    def outstanding(self) -> bool:
        """Not yet done nor ceased: running, or breached and still not done."""
        return self.met_at is None


@dataclass(frozen=True)
class AccessAttempt:
    """A failed attempt to get into the home, and how it was arranged (phone, letter, visit...)."""

    at: datetime
    method: str


@dataclass(frozen=True)
class WorkPlan:
    """What the landlord will do for one piece of work, and its target dates, for the letter."""

    what: str
    begin_by: date | None = None
    complete_by: date | None = None


@dataclass(frozen=True)
class Investigation:
    """A concluded investigation: its type, how and by whom, what it found and decided."""

    number: int
    type: InvestigationType
    concluded_at: datetime
    outcome: Outcome
    method: InvestigationMethod | None = None
    investigator: str | None = None
    investigator_role: str | None = None
    findings: str | None = None  # for the tenant's letter; the officer's note stays internal
    supplementary_work_needed: bool = False
    safety_plan: WorkPlan | None = None
    supplementary_plan: WorkPlan | None = None
    needs_considered: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClosureRequest:
    """An officer's request to close a case over an outstanding duty, awaiting a second person."""

    by: str
    at: datetime
    reason: ClosureReason


@dataclass(frozen=True)
class CaseState:
    """Everything the rules need to know about a case."""

    hazard: str
    category: Category
    source: Source
    aware_at: datetime
    rule_set_key: str
    in_scope: bool = True
    scope_reason: str | None = None
    status: CaseStatus = "open"
    stage: str = "awaiting_investigation"
    outcome: Outcome | None = None
    clocks: tuple[ClockState, ...] = ()
    investigations: tuple[Investigation, ...] = ()
    access_attempts: tuple[AccessAttempt, ...] = ()
    investigation_booked_at: datetime | None = None
    safety_work_started_at: datetime | None = None
    supplementary_completed_at: datetime | None = None
    accommodation: Accommodation = "not_due"
    accommodation_due_reason: str | None = None
    accommodation_offered_at: datetime | None = None
    accommodation_accepted_at: datetime | None = None
    accommodation_declined_at: datetime | None = None
    household_moved_at: datetime | None = None
    household_returned_at: datetime | None = None
    closure_request: ClosureRequest | None = None
    closure_reason: ClosureReason | None = None
    closed_at: datetime | None = None

    def clock(self, kind: str) -> ClockState | None:
        """The latest clock of this kind, if any."""
        for clock in reversed(self.clocks):
            if clock.kind == kind:
                return clock
        return None

    def outstanding(self, *kinds: str) -> list[ClockState]:
        """Clocks of these kinds (every kind if none given) whose duty is not yet done nor ceased."""
        return [c for c in self.clocks if c.outstanding and (not kinds or c.kind in kinds)]

    @property
    def made_safe(self) -> bool:
        """No emergency or safety-work duty is outstanding."""
        return not self.outstanding(*SAFETY_KINDS)

    @property
    def last_conclusion(self) -> datetime | None:
        return self.investigations[-1].concluded_at if self.investigations else None

    @property
    def investigation_pending(self) -> bool:
        """An investigation is due: an investigate clock, or a 24-hour duty that began after the
        last conclusion (the 24 hours cover investigating as well as making safe)."""
        last = self.last_conclusion
        return any(
            c.kind == "investigate"
            or (c.kind == "emergency_action" and (last is None or c.started_at > last))
            for c in self.outstanding()
        )

    def investigation_due_at(self, at: datetime) -> bool:
        """Whether an investigation was due at ``at``: pending now, or within a 24-hour duty done
        later than ``at`` (the home made safe after the investigation, recorded first)."""
        if self.investigation_pending:
            return True
        last = self.last_conclusion
        return any(
            c.kind == "emergency_action"
            and c.ended == "done"
            and (last is None or c.started_at > last)
            and c.started_at <= at <= (c.met_at or at)
            for c in self.clocks
        )


@dataclass(frozen=True)
class Event:
    """One step of a case's life as the API receives it."""

    type: EventType
    at: datetime
    outcome: Outcome | None = None
    method: str | None = None
    supplementary_work_needed: bool = False
    note: str | None = None
    reason: str | None = None
    investigation_type: str | None = None
    investigator: str | None = None
    investigator_role: str | None = None
    findings: str | None = None
    safety_plan: WorkPlan | None = None
    supplementary_plan: WorkPlan | None = None
    needs_considered: tuple[str, ...] = ()
    actor: str = ""


@dataclass(frozen=True)
class Transition:
    """What a step did: the state after it and the clocks it started, ended and corrected."""

    before: CaseState | None
    after: CaseState
    started: tuple[ClockState, ...] = ()
    met: tuple[ClockState, ...] = ()  # duties this step did (on time or late)
    stopped: tuple[ClockState, ...] = ()  # duties that ceased to apply with this step
    withdrawn: tuple[ClockState, ...] = ()  # automatic breaches withdrawn: the act was on time
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
    withdrawn: list[ClockState] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def start(
        self, duty: str, at: datetime, *, investigation_type: InvestigationType | None = None
    ) -> ClockState:
        rule = self.rule_set.clock(duty)
        clock = ClockState(
            kind=rule.kind,
            started_at=at,
            due_at=due_at(duty, at, self.rule_set, self.calendar, self.settings),
            duty=None if duty == rule.kind else duty,
            investigation_type=investigation_type,
        )
        self.case = replace(self.case, clocks=(*self.case.clocks, clock))
        self.started.append(clock)
        return clock

    def finish(
        self,
        which: Callable[[ClockState], bool],
        at: datetime,
        *,
        ended: Ended = "done",
        reason: str | None = None,
    ) -> list[ClockState]:
        """End every outstanding clock ``which`` selects at ``at``: met when ``at`` is by its
        deadline (withdrawing an automatic breach), breached when later."""
        clocks = list(self.case.clocks)
        finished: list[ClockState] = []
        for index, clock in enumerate(clocks):
            if not (clock.outstanding and which(clock)):
                continue
            done, withdrawn = end_clock(clock, at, ended=ended, reason=reason)
            clocks[index] = done
            finished.append(done)
            (self.stopped if ended == "ceased" else self.met).append(done)
            if withdrawn:
                self.withdrawn.append(done)
        self.case = replace(self.case, clocks=tuple(clocks))
        self._withdraw_accommodation_duty()
        return finished

    def done(self, before: CaseState | None) -> Transition:
        self.case = replace(self.case, stage=derive_stage(self.case))
        return Transition(
            before=before,
            after=self.case,
            started=tuple(self.started),
            met=tuple(self.met),
            stopped=tuple(self.stopped),
            withdrawn=tuple(self.withdrawn),
            notices=tuple(self.notices),
        )

    def _withdraw_accommodation_duty(self) -> None:
        """A safety duty raised by a breach that turned out not to be one is no duty at all."""
        if not any(c.kind in SAFETY_KINDS for c in self.withdrawn):
            return
        still_breached = any(
            c.kind in SAFETY_KINDS and c.status in ("breached", "breached_excused")
            for c in self.case.clocks
        )
        if (
            "alternative_accommodation_not_due" not in self.notices
            and self.case.accommodation == "due"
            and self.case.accommodation_due_reason == "breach"
            and not still_breached
        ):
            self.case = replace(self.case, accommodation="not_due", accommodation_due_reason=None)
            self.notices.append("alternative_accommodation_not_due")


def end_clock(
    clock: ClockState, at: datetime, *, ended: Ended = "done", reason: str | None = None
) -> tuple[ClockState, bool]:
    """The clock ended at ``at``, judged by the act's time; and whether a breach was withdrawn."""
    if at <= clock.due_at:
        withdrawn = clock.status in ("breached", "breached_excused")
        return (
            replace(
                clock,
                met_at=at,
                status="met",
                breached_at=None,
                excused_at=None,
                excuse_reason=None,
                ended=ended,
                ended_reason=reason,
            ),
            withdrawn,
        )
    status: ClockStatus = "breached_excused" if clock.status == "breached_excused" else "breached"
    return (
        replace(
            clock,
            met_at=at,
            status=status,
            breached_at=clock.due_at,
            ended=ended,
            ended_reason=reason,
        ),
        False,
    )


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise EventRefused("times must carry an offset")


def _words(key: str) -> str:
    hazard = HAZARD_BY_KEY.get(key)
    return hazard.name_2005.lower() if hazard else key.replace("_", " ")


def scope_reason(hazard: str, category: str, rule_set: RuleSet) -> str | None:
    """Why an awareness of this hazard in this category has no clocks under the rule set."""
    if rule_set.covers(hazard, category):
        return None
    if hazard == OVERCROWDING:
        return "overcrowding is never in scope of Awaab's Law"
    if not rule_set.emergency_hazards:
        return "the landlord became aware before Awaab's Law came into force (27 October 2025)"
    return (
        f"{_words(hazard)} is not a significant hazard under {rule_set.key.replace('_', ' ')} "
        f"(in force from {rule_set.effective_from:%d %B %Y}); it is in scope as an emergency"
    )


def derive_stage(case: CaseState) -> str:
    """Where the case stands, for people: from its clocks and records, never stored separately."""
    if case.status == "closed":
        return "closed"
    if case.stage == "awaiting_triage":
        return "awaiting_triage"
    if not case.in_scope and not case.clocks:
        return "out_of_scope"
    if case.investigation_pending or (not case.in_scope and not case.investigations):
        since = case.last_conclusion
        attempts = [a.at for a in case.access_attempts if since is None or a.at > since]
        booked = case.investigation_booked_at
        booked = booked if booked is not None and (since is None or booked > since) else None
        if attempts and (booked is None or max(attempts) >= booked):
            return "access_failed"
        return "investigation_booked" if booked is not None else "awaiting_investigation"
    if not case.made_safe:
        return "safety_work_started" if case.safety_work_started_at else "safety_work_due"
    if case.outcome in HAZARD_FOUND:
        return "made_safe"
    return "no_work_due"


# --- awareness ------------------------------------------------------------------------------------


def open_case(
    *,
    hazard: str,
    category: Category,
    source: Source,
    aware_at: datetime,
    rule_set: RuleSet,
    calendar: WorkingDayCalendar,
    settings: ComplianceSettings,
    tenure_reason: str | None = None,
) -> Transition:
    """A first awareness: the case and its first clocks (emergency: 24 h, and investigate where the
    hazard is also a significant one under the rule set), or none when out of scope."""
    _require_aware(aware_at)
    if category not in ("emergency", "significant", "potential"):
        raise EventRefused(f"unknown category {category!r}")
    reason = tenure_reason or scope_reason(hazard, category, rule_set)
    case = CaseState(
        hazard=hazard,
        category=category,
        source=source,
        aware_at=aware_at,
        rule_set_key=rule_set.key,
        in_scope=reason is None,
        scope_reason=reason,
    )
    step = _Step(case, rule_set, calendar, settings)
    if reason is not None:
        step.notices.append("out_of_scope")
        return step.done(None)
    if source == "sensor" and settings.awareness_from_sensors == "on_triage":
        step.case = replace(step.case, stage="awaiting_triage")
        step.notices.append("triage_due")
        return step.done(None)
    _start_opening_clocks(step, aware_at, category)
    return step.done(None)


def _start_opening_clocks(step: _Step, at: datetime, category: str) -> None:
    """Emergency: the 24-hour duty; and the 10-working-day investigation wherever the rule set
    makes the hazard a significant one too (an emergency electrical hazard in phase 1 has only
    the 24-hour duty; an emergency damp-and-mould hazard has both)."""
    if category == "emergency" and step.settings.emergency_clock_start == "awareness":
        step.start("emergency_action", at, investigation_type="emergency")
    if step.rule_set.covers(step.case.hazard, "significant"):
        step.start("investigate", at, investigation_type="standard")


def _work_outstanding(case: CaseState) -> bool:
    return bool(case.outstanding(*WORK_KINDS))


def new_awareness(
    case: CaseState,
    *,
    category: Category,
    source: Source,
    at: datetime,
    rule_set: RuleSet,
    calendar: WorkingDayCalendar,
    settings: ComplianceSettings,
    tenure_reason: str | None = None,
) -> Transition:
    """A later report or sensor finding on the open case, judged by the rule set and tenure in
    force at ``at``: scope, a new 24-hour duty, or a further investigation, as the law asks."""
    _require_aware(at)
    if case.status != "open":
        raise EventRefused("a new awareness joins an open case only")
    step = _Step(case, rule_set, calendar, settings)
    if case.stage == "awaiting_triage":
        if category == "emergency":
            step.case = replace(step.case, category="emergency")
        return step.done(case)
    if not case.in_scope:
        reason = tenure_reason or scope_reason(case.hazard, category, rule_set)
        if reason is not None:
            step.case = replace(step.case, scope_reason=reason)
            step.notices.append("out_of_scope")
            return step.done(case)
        step.case = replace(
            step.case,
            in_scope=True,
            scope_reason=None,
            rule_set_key=rule_set.key,
            category=category,
        )
        step.notices.append("came_into_scope")
        _start_opening_clocks(step, at, category)
        return step.done(case)
    if tenure_reason is not None:
        step.notices.append("tenure_not_relevant")
        return step.done(case)
    if category == "emergency":
        if not step.case.outstanding("emergency_action"):
            if settings.emergency_clock_start == "awareness":
                step.start("emergency_action", at, investigation_type="emergency")
                step.notices.append("emergency_duty_started")
        step.case = replace(step.case, category="emergency")
    concluded_before = bool(case.investigations)
    investigate_due = bool(step.case.outstanding("investigate"))
    if not investigate_due and rule_set.covers(case.hazard, "significant"):
        if concluded_before:
            new_information = (
                source != "sensor"
                or settings.sensor_new_information == "always"
                or not _work_outstanding(case)
            )
            if new_information:
                step.start("investigate", at, investigation_type="further")
                step.notices.append("further_investigation_due")
        elif case.rule_set_key != rule_set.key:
            # Not yet a significant hazard when the case opened (emergency only); now it is.
            step.start("investigate", at, investigation_type="standard")
            step.case = replace(step.case, rule_set_key=rule_set.key)
    return step.done(case)


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
    _start_opening_clocks(step, at, case.category)
    return step.done(case)


# --- the case's steps -----------------------------------------------------------------------------


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
    step = _Step(case, rule_set, calendar, settings)
    if event.type == "reopened":
        _reopened(step, event)
        return step.done(case)
    if case.status != "open":
        raise EventRefused(f"the case is {case.status}; reopen it first")
    if case.stage == "awaiting_triage" and event.type not in ("closed", "closure_requested"):
        raise EventRefused("the sensor finding awaits an officer's triage")
    _HANDLERS[event.type](step, event)
    return step.done(case)


def _pending(step: _Step, at: datetime | None = None) -> None:
    case = step.case
    due = case.investigation_due_at(at) if at is not None else case.investigation_pending
    if not (due or (not case.in_scope and not case.investigations)):
        raise EventRefused(
            "no investigation is due: it has concluded (a new report, a renewed request or a "
            "further investigation starts another)"
        )


def _investigation_booked(step: _Step, event: Event) -> None:
    _pending(step)
    step.case = replace(step.case, investigation_booked_at=event.at)


def _access_failed(step: _Step, event: Event) -> None:
    _pending(step)
    attempt = AccessAttempt(at=event.at, method=(event.method or "unspecified").strip().lower())
    step.case = replace(step.case, access_attempts=(*step.case.access_attempts, attempt))
    if access_reasonable_steps(step.case, step.settings):
        step.notices.append("access_reasonable_steps_recorded")


def _investigation_type(case: CaseState, event: Event) -> InvestigationType:
    """The type asked for, or the one the due investigation clock carries."""
    if event.investigation_type is not None:
        if event.investigation_type not in INVESTIGATION_TYPES:
            raise EventRefused(
                f"unknown investigation type {event.investigation_type!r}; one of "
                f"{', '.join(INVESTIGATION_TYPES)}"
            )
        return event.investigation_type  # type: ignore[return-value]
    last = case.last_conclusion
    for clock in case.clocks:
        if (
            clock.kind == "emergency_action"
            and (last is None or clock.started_at > last)
            and clock.started_at <= event.at
            and (clock.outstanding or (clock.met_at is not None and clock.met_at >= event.at))
        ):
            return "emergency"
    for clock in reversed(case.outstanding("investigate")):
        if clock.investigation_type is not None:
            return clock.investigation_type
    return "further" if case.investigations else "standard"


def _method(event: Event) -> InvestigationMethod | None:
    if event.method is None:
        return None
    method = event.method.strip().lower().replace(" ", "_").replace("-", "_")
    if method not in INVESTIGATION_METHODS:
        raise EventRefused(
            f"investigation method {event.method!r}: one of {', '.join(INVESTIGATION_METHODS)}"
        )
    return method  # type: ignore[return-value]


def _investigation_concluded(step: _Step, event: Event) -> None:
    outcome = event.outcome
    if outcome is None:
        raise EventRefused("investigation_concluded needs an outcome")
    if outcome not in OUTCOMES:
        raise EventRefused(f"unknown outcome {outcome!r}; one of {', '.join(OUTCOMES)}")
    if event.supplementary_work_needed and outcome not in HAZARD_FOUND:
        raise EventRefused("supplementary work follows an emergency or significant finding")
    if event.investigation_type != "further":  # a further investigation may come at any time
        _pending(step, event.at)
    kind = _investigation_type(step.case, event)
    record = Investigation(
        number=len(step.case.investigations) + 1,
        type=kind,
        concluded_at=event.at,
        outcome=outcome,
        method=_method(event),
        investigator=event.investigator,
        investigator_role=event.investigator_role,
        findings=event.findings,
        supplementary_work_needed=event.supplementary_work_needed,
        safety_plan=event.safety_plan,
        supplementary_plan=event.supplementary_plan,
        needs_considered=event.needs_considered,
    )
    step.case = replace(
        step.case, investigations=(*step.case.investigations, record), outcome=outcome
    )
    hazard = step.case.hazard
    if not step.case.in_scope:
        if outcome in HAZARD_FOUND and step.rule_set.covers(hazard, outcome):
            found: Category = "emergency" if outcome == "emergency" else "significant"
            step.case = replace(step.case, in_scope=True, scope_reason=None, category=found)
        else:
            # Out of scope and the finding does not bring it in: no statutory clocks.
            step.notices.append("out_of_scope")
            return
    step.finish(lambda c: c.kind == "investigate", event.at)
    if outcome == "emergency":
        if not step.case.outstanding("emergency_action"):
            step.start("emergency_action", event.at, investigation_type=kind)
    else:
        step.finish(
            lambda c: c.kind == "emergency_action",
            event.at,
            ended="ceased",
            reason=f"the investigation found {'no hazard' if outcome == 'no_hazard' else 'no emergency hazard'}",
        )
    step.start("written_summary", event.at)
    if outcome in HAZARD_FOUND:
        step.case = replace(step.case, category=outcome)  # type: ignore[arg-type]
        if not step.rule_set.covers(hazard, outcome):
            step.notices.append("finding_outside_rule_set")
        else:
            if outcome == "significant" and not step.case.outstanding("safety_work"):
                step.start("safety_work", event.at)
                step.case = replace(step.case, safety_work_started_at=None)
            if event.supplementary_work_needed:
                step.start("supplementary_work", event.at)
                step.start("supplementary_steps", event.at)


def _renewed_investigation_requested(step: _Step, event: Event) -> None:
    last = step.case.investigations[-1] if step.case.investigations else None
    if last is None or last.method != "remote":
        raise EventRefused("a renewed investigation follows a remote one")
    if step.case.outstanding("investigate"):
        raise EventRefused("an investigation is already due")
    step.start("renewed_investigation", event.at, investigation_type="renewed")


def _further_investigation_opened(step: _Step, event: Event) -> None:
    if not step.case.investigations:
        raise EventRefused("the first investigation has not concluded yet")
    if step.case.outstanding("investigate"):
        raise EventRefused("an investigation is already due")
    if not (event.note and event.note.strip()):
        raise EventRefused("say in the note what calls for a further investigation")
    step.start("investigate", event.at, investigation_type="further")


def _summary_sent(step: _Step, event: Event) -> None:
    if step.case.clock("written_summary") is None:
        raise EventRefused("no written summary is due: the investigation is not concluded")
    if not step.finish(lambda c: c.kind == "written_summary", event.at):
        raise EventRefused("the written summary was already sent or is no longer needed")


def _require_safety_duty(step: _Step) -> None:
    if not step.case.outstanding(*SAFETY_KINDS):
        if step.case.outcome not in HAZARD_FOUND and step.case.clock("emergency_action") is None:
            raise EventRefused("no safety work is due: no emergency or significant hazard found")
        raise EventRefused("no safety work is due: the home is already made safe")


def _safety_work_started(step: _Step, event: Event) -> None:
    _require_safety_duty(step)
    step.case = replace(step.case, safety_work_started_at=event.at)


def _safety_work_completed(step: _Step, event: Event) -> None:
    _require_safety_duty(step)
    step.finish(lambda c: c.kind in SAFETY_KINDS, event.at)
    if not _work_outstanding(step.case):
        step.finish(
            lambda c: c.kind == "written_summary" and event.at <= c.due_at,
            event.at,
            ended="ceased",
            reason="all work was finished before the written summary was due",
        )
    if step.case.accommodation in ("due", "offered"):
        step.case = replace(step.case, accommodation="ended")


def _supplementary_steps_taken(step: _Step, event: Event) -> None:
    if not (event.note and event.note.strip()):
        raise EventRefused("say which steps were taken (survey booked, contractor instructed...)")
    if not step.finish(lambda c: c.rule_duty == "supplementary_steps", event.at):
        raise EventRefused("no steps to begin supplementary work are due")


def _supplementary_work_started(step: _Step, event: Event) -> None:
    if step.case.clock("supplementary_work") is None:
        raise EventRefused("no supplementary work is due")
    if not step.finish(lambda c: c.kind == "supplementary_work", event.at):
        raise EventRefused("supplementary work has already started")


def _supplementary_work_completed(step: _Step, event: Event) -> None:
    begin = [c for c in step.case.clocks if c.rule_duty == "supplementary_work"]
    if not begin or begin[-1].outstanding:
        raise EventRefused("supplementary work has not started")
    if (
        step.case.supplementary_completed_at is not None
        and step.case.supplementary_completed_at >= begin[-1].started_at
    ):
        raise EventRefused("supplementary work is already recorded as completed")
    step.case = replace(step.case, supplementary_completed_at=event.at)


def _accommodation_offered(step: _Step, event: Event) -> None:
    if not step.case.outstanding(*SAFETY_KINDS):
        raise EventRefused(
            "alternative accommodation follows an emergency or significant hazard not yet made safe"
        )
    if step.case.accommodation in ("offered", "accepted", "moved"):
        raise EventRefused(f"alternative accommodation is already {step.case.accommodation}")
    step.case = replace(step.case, accommodation="offered", accommodation_offered_at=event.at)


def _accommodation_accepted(step: _Step, event: Event) -> None:
    if step.case.accommodation != "offered":
        raise EventRefused("no alternative accommodation offer is open to accept")
    step.case = replace(step.case, accommodation="accepted", accommodation_accepted_at=event.at)


def _accommodation_declined(step: _Step, event: Event) -> None:
    if step.case.accommodation != "offered":
        raise EventRefused("no alternative accommodation offer is open to decline")
    step.case = replace(step.case, accommodation="declined", accommodation_declined_at=event.at)


def _household_moved(step: _Step, event: Event) -> None:
    if step.case.accommodation != "accepted":
        raise EventRefused("the household moves once it has accepted alternative accommodation")
    step.case = replace(step.case, accommodation="moved", household_moved_at=event.at)
    step.finish(
        lambda c: c.kind == "emergency_action" and event.at <= c.due_at,
        event.at,
        ended="ceased",
        reason="the household moved into alternative accommodation",
    )


def _household_returned(step: _Step, event: Event) -> None:
    if step.case.accommodation != "moved":
        raise EventRefused("the household has not moved into alternative accommodation")
    step.case = replace(step.case, accommodation="returned", household_returned_at=event.at)


def _emergency_duty_ceased(step: _Step, event: Event) -> None:
    if event.reason not in CEASE_REASONS:
        raise EventRefused(f"say why the 24-hour duty ceased: one of {', '.join(CEASE_REASONS)}")
    if not (event.note and event.note.strip()):
        raise EventRefused("record the evidence in the note (who, when, what was tried)")
    words = {
        "household_moved_out": "the household moved out of the home",
        "third_party_consent_refused": (
            "a third party's consent was needed and could not be had despite all reasonable "
            "endeavours"
        ),
    }[event.reason]
    if not step.finish(
        lambda c: c.kind == "emergency_action", event.at, ended="ceased", reason=words
    ):
        raise EventRefused("no 24-hour duty is outstanding")


def _derived_closure_reason(case: CaseState) -> ClosureReason:
    if not case.in_scope:
        return "out_of_scope"
    if case.outcome in ("not_significant", "no_hazard"):
        return "no_hazard_found"
    if case.outcome in HAZARD_FOUND and not case.outstanding():
        return "work_complete_verified"
    raise EventRefused(f"say why the case closes: reason, one of {', '.join(CLOSURE_REASONS)}")


def _closure_reason(case: CaseState, event: Event) -> ClosureReason:
    if event.reason is None:
        return _derived_closure_reason(case)
    if event.reason not in CLOSURE_REASONS:
        raise EventRefused(f"closing reason {event.reason!r}: one of {', '.join(CLOSURE_REASONS)}")
    reason: ClosureReason = event.reason  # type: ignore[assignment]
    if reason == "work_complete_verified" and (
        case.outcome not in HAZARD_FOUND or case.outstanding(*WORK_KINDS)
    ):
        raise EventRefused(
            "the work is not complete: a hazard was not found, or work is outstanding"
        )
    if reason == "no_hazard_found" and case.outcome not in ("not_significant", "no_hazard"):
        raise EventRefused("no investigation has found the hazard absent or not significant")
    if reason == "out_of_scope" and case.in_scope:
        raise EventRefused("the case is in scope of Awaab's Law")
    if reason == "duplicate" and not (event.note and event.note.strip()):
        raise EventRefused("name the case this one duplicates in the note")
    return reason


def _closure_requested(step: _Step, event: Event) -> None:
    reason = _closure_reason(step.case, event)
    if not step.case.outstanding():
        raise EventRefused("nothing is outstanding: the case can be closed without a second person")
    step.case = replace(step.case, closure_request=ClosureRequest(event.actor, event.at, reason))


def _closed(step: _Step, event: Event) -> None:
    reason = _closure_reason(step.case, event)
    outstanding = step.case.outstanding()
    if outstanding:
        request = step.case.closure_request
        kinds = ", ".join(sorted({c.kind for c in outstanding}))
        if request is None or request.reason != reason:
            raise EventRefused(
                f"duties are outstanding ({kinds}): closing needs a second person — ask a "
                "colleague to approve a closure request with the same reason"
            )
        if not event.actor or request.by == event.actor:
            raise EventRefused("the closure request must be approved by someone else")
        step.finish(lambda _c: True, event.at, ended="ceased", reason=f"case closed: {reason}")
    step.case = replace(
        step.case, status="closed", closed_at=event.at, closure_reason=reason, closure_request=None
    )


def _reopened(step: _Step, event: Event) -> None:
    if step.case.status != "closed":
        raise EventRefused("only a closed case can be reopened")
    step.case = replace(
        step.case,
        status="open",
        closed_at=None,
        closure_reason=None,
        stage="awaiting_investigation",
        investigation_booked_at=None,
    )
    if step.case.in_scope and step.rule_set.covers(step.case.hazard, "significant"):
        step.start("investigate", event.at, investigation_type="further")


_HANDLERS: dict[str, Callable[[_Step, Event], None]] = {
    "investigation_booked": _investigation_booked,
    "access_failed": _access_failed,
    "investigation_concluded": _investigation_concluded,
    "renewed_investigation_requested": _renewed_investigation_requested,
    "further_investigation_opened": _further_investigation_opened,
    "summary_sent": _summary_sent,
    "safety_work_started": _safety_work_started,
    "safety_work_completed": _safety_work_completed,
    "supplementary_steps_taken": _supplementary_steps_taken,
    "supplementary_work_started": _supplementary_work_started,
    "supplementary_work_completed": _supplementary_work_completed,
    "alternative_accommodation_offered": _accommodation_offered,
    "alternative_accommodation_accepted": _accommodation_accepted,
    "alternative_accommodation_declined": _accommodation_declined,
    "household_moved": _household_moved,
    "household_returned": _household_returned,
    "emergency_duty_ceased": _emergency_duty_ceased,
    "closure_requested": _closure_requested,
    "closed": _closed,
}


def access_reasonable_steps(case: CaseState, settings: ComplianceSettings) -> bool:
    """At least three failed access attempts by three different methods (guidance's usual steps)."""
    attempts = case.access_attempts
    methods = {a.method for a in attempts if a.method != "unspecified"}
    needed = settings.access_attempts_for_reasonable_steps
    return len(attempts) >= needed and len(methods) >= needed


# --- the scheduler's and the compliance officer's steps on a clock -------------------------------


def breach(clock: ClockState, at: datetime) -> ClockState:
    """The scheduler's breach, noticed at ``at``; the breach is dated at the deadline itself."""
    _require_aware(at)
    if clock.status != "running":
        raise EventRefused(f"the {clock.kind} clock is {clock.status}, not running")
    if at <= clock.due_at:
        raise EventRefused(f"the {clock.kind} clock is not yet due")
    return replace(clock, status="breached", breached_at=clock.due_at)


def excuse(clock: ClockState, *, at: datetime, reason: str) -> ClockState:
    """A compliance officer accepts the recorded endeavours: breached -> breached_excused."""
    _require_aware(at)
    if clock.status != "breached":
        raise EventRefused(f"only a breached clock can be excused; this one is {clock.status}")
    if not reason.strip():
        raise EventRefused("an excuse needs the reasonable endeavours it rests on")
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
            after = replace(
                case,
                clocks=tuple(clocks),
                accommodation=accommodation,
                accommodation_due_reason=(
                    "breach"
                    if accommodation != case.accommodation
                    else case.accommodation_due_reason
                ),
            )
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
    """Safety work cannot be done in time: the decision on alternative accommodation is due now,
    before the deadline, not only after a breach."""
    _require_aware(at)
    if case.status != "open" or case.made_safe:
        raise EventRefused("no safety work is outstanding")
    if not reason.strip():
        raise EventRefused("say why the safety work cannot be done in time")
    if case.accommodation not in ("not_due", "ended", "returned"):
        return Transition(before=case, after=case)
    after = replace(case, accommodation="due", accommodation_due_reason="cannot_be_met")
    return Transition(before=case, after=after, notices=("alternative_accommodation_due",))


def accommodation_decision_due(case: CaseState) -> datetime | None:
    """By when the officer must decide on alternative accommodation: the nearest outstanding
    safety deadline, once the duty is due and no offer has been made."""
    if case.accommodation != "due":
        return None
    deadlines = [c.due_at for c in case.outstanding(*SAFETY_KINDS)]
    return min(deadlines) if deadlines else None
