"""The case state machine: every transition and every refusal."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from compliance.calendar import WorkingDayCalendar
from compliance.lifecycle import (
    EVENT_TYPES,
    CaseState,
    ClockState,
    Event,
    EventRefused,
    Transition,
    apply_event,
    breach,
    breach_case_clock,
    confirm_triage,
    excuse,
    new_awareness,
    open_case,
    safety_work_cannot_be_met,
)
from compliance.rules import PHASE_1, PHASE_2, ComplianceSettings, RuleSet

pytestmark = pytest.mark.unit

CAL = WorkingDayCalendar()
SETTINGS = ComplianceSettings()
# Tuesday 6 January 2026, 10:00 GMT (= UTC). Working days: Wed 7 = 1, Thu 8 = 2, Fri 9 = 3,
# Mon 12 = 4, Tue 13 = 5, ..., Tue 20 = 10.
AWARE = datetime(2026, 1, 6, 10, tzinfo=UTC)


def at(hours: float) -> datetime:
    return AWARE + timedelta(hours=hours)


def end_of(day: int) -> datetime:
    return datetime(2026, 1, day, 23, 59, 59, tzinfo=UTC)


def opened(
    category: str = "potential",
    *,
    hazard: str = "damp_and_mould",
    source: str = "tenant",
    rule_set: RuleSet = PHASE_1,
    settings: ComplianceSettings = SETTINGS,
) -> CaseState:
    return open_case(
        hazard=hazard,
        category=category,  # type: ignore[arg-type]
        source=source,  # type: ignore[arg-type]
        aware_at=AWARE,
        rule_set=rule_set,
        calendar=CAL,
        settings=settings,
    ).after


def step(case: CaseState, type_: str, when: datetime, **fields: Any) -> Transition:
    return apply_event(
        case,
        Event(type=type_, at=when, **fields),  # type: ignore[arg-type]
        rule_set=PHASE_1,
        calendar=CAL,
        settings=SETTINGS,
    )


def run(case: CaseState, *events: tuple[Any, ...]) -> CaseState:
    for type_, hours, *rest in events:
        case = step(case, type_, at(hours), **(rest[0] if rest else {})).after
    return case


def statuses(case: CaseState) -> dict[str, str]:
    return {c.kind: c.status for c in case.clocks}


SIGNIFICANT = ("investigation_concluded", 48, {"outcome": "significant"})
EMERGENCY = ("investigation_concluded", 2, {"outcome": "emergency"})


# --- opening --------------------------------------------------------------------------------------


def test_potential_case_opens_with_the_investigate_clock() -> None:
    case = opened()
    assert case.status == "open"
    assert case.stage == "awaiting_investigation"
    assert [(c.kind, c.started_at, c.due_at, c.status) for c in case.clocks] == [
        ("investigate", AWARE, end_of(20), "running")
    ]


def test_emergency_case_opens_with_24_hours_and_investigate() -> None:
    case = opened("emergency")
    assert [(c.kind, c.due_at) for c in case.clocks] == [
        ("emergency_action", datetime(2026, 1, 7, 10, tzinfo=UTC)),
        ("investigate", end_of(20)),
    ]


def test_identification_setting_starts_the_24_hours_at_the_emergency_finding() -> None:
    settings = ComplianceSettings(emergency_clock_start="identification")
    case = opened("emergency", settings=settings)
    assert [c.kind for c in case.clocks] == ["investigate"]
    concluded = apply_event(
        case,
        Event("investigation_concluded", at(5), outcome="emergency"),
        rule_set=PHASE_1,
        calendar=CAL,
        settings=settings,
    )
    emergency = concluded.after.clock("emergency_action")
    assert emergency is not None
    assert (emergency.started_at, emergency.due_at) == (at(5), at(29))


@pytest.mark.parametrize(
    ("hazard", "category", "rule_set", "in_scope"),
    [
        ("damp_and_mould", "potential", PHASE_1, True),
        ("excess_cold", "potential", PHASE_1, False),  # significant excess cold comes in phase 2
        ("excess_cold", "emergency", PHASE_1, True),  # every emergency hazard is in phase 1
        ("excess_cold", "potential", PHASE_2, True),
        ("noise", "significant", PHASE_2, False),
        ("crowding_and_space", "emergency", PHASE_2, False),  # overcrowding never
    ],
)
def test_scope_by_rule_set(hazard: str, category: str, rule_set: RuleSet, in_scope: bool) -> None:
    transition = open_case(
        hazard=hazard,
        category=category,  # type: ignore[arg-type]
        source="tenant",
        aware_at=AWARE,
        rule_set=rule_set,
        calendar=CAL,
        settings=SETTINGS,
    )
    assert transition.after.in_scope is in_scope
    assert bool(transition.after.clocks) is in_scope
    assert ("out_of_scope" in transition.notices) is not in_scope


def test_sensor_case_on_triage_waits_for_an_officer() -> None:
    settings = ComplianceSettings(awareness_from_sensors="on_triage")
    case = opened(source="sensor", settings=settings)
    assert case.stage == "awaiting_triage"
    assert case.clocks == ()
    with pytest.raises(EventRefused, match="triage"):
        step(case, "investigation_booked", at(1))
    confirmed = confirm_triage(case, at(3), rule_set=PHASE_1, calendar=CAL, settings=settings)
    assert [(c.kind, c.started_at) for c in confirmed.started] == [("investigate", at(3))]
    with pytest.raises(EventRefused, match="not awaiting triage"):
        confirm_triage(confirmed.after, at(4), rule_set=PHASE_1, calendar=CAL, settings=settings)


def test_sensor_case_on_detection_starts_at_detection() -> None:
    case = opened(source="sensor")
    assert [(c.kind, c.started_at) for c in case.clocks] == [("investigate", AWARE)]


def aware(case: CaseState, when: datetime, category: str = "emergency", **kw: Any) -> Transition:
    return new_awareness(
        case,
        category=category,  # type: ignore[arg-type]
        source=kw.pop("source", "tenant"),
        at=when,
        rule_set=kw.pop("rule_set", PHASE_1),
        calendar=CAL,
        settings=kw.pop("settings", SETTINGS),
        **kw,
    )


def test_escalation_starts_the_24_hours() -> None:
    transition = aware(opened(), at(3))
    assert transition.after.category == "emergency"
    assert [(c.kind, c.due_at) for c in transition.started] == [("emergency_action", at(27))]
    # A second emergency report while the 24 hours run joins them: the earlier deadline stands.
    again = aware(transition.after, at(4))
    assert again.started == ()


# --- every transition -----------------------------------------------------------------------------

TRANSITIONS: list[tuple[str, str, tuple[tuple[Any, ...], ...], tuple[Any, ...], dict[str, Any]]] = [
    # (name, category, events before, the event, expected)
    (
        "book",
        "potential",
        (),
        ("investigation_booked", 1),
        {"stage": "investigation_booked", "started": [], "met": []},
    ),
    (
        "access fails",
        "potential",
        (),
        ("access_failed", 1, {"method": "phone"}),
        {"stage": "access_failed", "started": [], "met": []},
    ),
    (
        "significant finding",
        "potential",
        (),
        SIGNIFICANT,
        {
            "stage": "safety_work_due",
            "started": ["written_summary", "safety_work"],
            "met": ["investigate"],
        },
    ),
    (
        "significant finding with supplementary work",
        "potential",
        (),
        (
            "investigation_concluded",
            48,
            {"outcome": "significant", "supplementary_work_needed": True},
        ),
        {
            "started": [
                "written_summary",
                "safety_work",
                "supplementary_work",  # begun within 12 weeks
                "supplementary_work",  # steps to begin it by working day 5
            ],
            "met": ["investigate"],
        },
    ),
    (
        "no hazard",
        "potential",
        (),
        ("investigation_concluded", 48, {"outcome": "no_hazard"}),
        {"stage": "no_work_due", "started": ["written_summary"], "met": ["investigate"]},
    ),
    (
        "not significant",
        "potential",
        (),
        ("investigation_concluded", 48, {"outcome": "not_significant"}),
        {"stage": "no_work_due", "started": ["written_summary"], "met": ["investigate"]},
    ),
    (
        "emergency confirmed",
        "emergency",
        (),
        EMERGENCY,
        {
            "stage": "safety_work_due",  # the 24 hours cover making safe: no 5 working days
            "started": ["written_summary"],
            "met": ["investigate"],
            "stopped": [],
        },
    ),
    (
        "no emergency found stops the 24 hours",
        "emergency",
        (),
        ("investigation_concluded", 2, {"outcome": "significant"}),
        {
            "started": ["written_summary", "safety_work"],
            "met": ["investigate"],
            "stopped": ["emergency_action"],
        },
    ),
    (
        "emergency made safe before the investigation ends",
        "emergency",
        (),
        ("safety_work_completed", 6),
        {"stage": "awaiting_investigation", "met": ["emergency_action"]},
    ),
    (
        "summary sent",
        "potential",
        (SIGNIFICANT,),
        ("summary_sent", 50),
        {"met": ["written_summary"]},
    ),
    (
        "safety work started",
        "potential",
        (SIGNIFICANT,),
        ("safety_work_started", 50),
        {"stage": "safety_work_started", "met": []},
    ),
    (
        "safety work done within 3 days: no summary needed",
        "potential",
        (SIGNIFICANT,),
        ("safety_work_completed", 60),
        {"stage": "made_safe", "met": ["safety_work"], "stopped": ["written_summary"]},
    ),
    (
        "emergency made safe after the finding",
        "emergency",
        (EMERGENCY,),
        ("safety_work_completed", 6),
        {
            "stage": "made_safe",
            "met": ["emergency_action"],
            "stopped": ["written_summary"],
        },
    ),
    (
        "supplementary work started",
        "potential",
        (
            (
                "investigation_concluded",
                48,
                {"outcome": "significant", "supplementary_work_needed": True},
            ),
        ),
        ("supplementary_work_started", 100),
        {"met": ["supplementary_work", "supplementary_work"]},  # begun, and so steps taken
    ),
    (
        "supplementary steps taken",
        "potential",
        (
            (
                "investigation_concluded",
                48,
                {"outcome": "significant", "supplementary_work_needed": True},
            ),
        ),
        ("supplementary_steps_taken", 60, {"note": "damp survey booked"}),
        {"met": ["supplementary_work"]},
    ),
    (
        "supplementary work completed",
        "potential",
        (
            (
                "investigation_concluded",
                48,
                {"outcome": "significant", "supplementary_work_needed": True},
            ),
            ("supplementary_work_started", 100),
        ),
        ("supplementary_work_completed", 200),
        {"met": [], "started": []},
    ),
    (
        "renewed investigation asked for after a remote one",
        "potential",
        (("investigation_concluded", 48, {"outcome": "not_significant", "method": "remote"}),),
        ("renewed_investigation_requested", 60),
        {"stage": "awaiting_investigation", "started": ["investigate"]},
    ),
    (
        "further investigation opened",
        "emergency",
        (EMERGENCY, ("safety_work_completed", 6)),
        ("further_investigation_opened", 30, {"note": "check the wall behind the made-safe leak"}),
        {"stage": "awaiting_investigation", "started": ["investigate"]},
    ),
    (
        "accommodation offered",
        "potential",
        (SIGNIFICANT,),
        ("alternative_accommodation_offered", 50),
        {"accommodation": "offered"},
    ),
    (
        "accommodation declined",
        "potential",
        (SIGNIFICANT, ("alternative_accommodation_offered", 50)),
        ("alternative_accommodation_declined", 51),
        {"accommodation": "declined"},
    ),
    (
        "accommodation accepted",
        "potential",
        (SIGNIFICANT, ("alternative_accommodation_offered", 50)),
        ("alternative_accommodation_accepted", 51),
        {"accommodation": "accepted"},
    ),
    (
        "household moved before the 24 hours end: the duty ceases",
        "emergency",
        (
            EMERGENCY,
            ("alternative_accommodation_offered", 3),
            ("alternative_accommodation_accepted", 4),
        ),
        ("household_moved", 5),
        {"accommodation": "moved", "stopped": ["emergency_action"]},
    ),
    (
        "household back home",
        "emergency",
        (
            EMERGENCY,
            ("alternative_accommodation_offered", 3),
            ("alternative_accommodation_accepted", 4),
            ("household_moved", 5),
        ),
        ("household_returned", 50),
        {"accommodation": "returned", "stopped": []},
    ),
    (
        "third party's consent refused: the 24-hour duty ceases",
        "emergency",
        (),
        (
            "emergency_duty_ceased",
            5,
            {"reason": "third_party_consent_refused", "note": "freeholder refused, letters 1-3"},
        ),
        {"stopped": ["emergency_action"], "status": "open"},
    ),
    (
        "closed when all is done",
        "potential",
        (("investigation_concluded", 48, {"outcome": "no_hazard"}), ("summary_sent", 49)),
        ("closed", 50),
        {"status": "closed", "stage": "closed", "stopped": []},
    ),
    (
        "closure requested over running clocks",
        "emergency",
        (),
        ("closure_requested", 2, {"reason": "tenancy_ended", "actor": "officer-a"}),
        {"status": "open", "stopped": []},
    ),
    (
        "closed by a second person stops what runs",
        "emergency",
        (("closure_requested", 2, {"reason": "tenancy_ended", "actor": "officer-a"}),),
        ("closed", 3, {"reason": "tenancy_ended", "actor": "officer-b"}),
        {"status": "closed", "stopped": ["emergency_action", "investigate"]},
    ),
    (
        "reopened",
        "potential",
        (
            ("investigation_concluded", 48, {"outcome": "no_hazard"}),
            ("summary_sent", 49),
            ("closed", 50),
        ),
        ("reopened", 300),
        {"status": "open", "stage": "awaiting_investigation", "started": ["investigate"]},
    ),
]


@pytest.mark.parametrize(
    ("category", "before", "event", "expected"),
    [t[1:] for t in TRANSITIONS],
    ids=[t[0] for t in TRANSITIONS],
)
def test_transition(
    category: str,
    before: tuple[tuple[Any, ...], ...],
    event: tuple[Any, ...],
    expected: dict[str, Any],
) -> None:
    case = run(opened(category), *before)
    type_, hours, *rest = event
    transition = step(case, type_, at(hours), **(rest[0] if rest else {}))
    assert transition.before == case
    after = transition.after
    for key in ("stage", "status", "accommodation"):
        if key in expected:
            assert getattr(after, key) == expected[key]
    for key in ("started", "met", "stopped"):
        if key in expected:
            assert [c.kind for c in getattr(transition, key)] == expected[key]
    for clock in (*transition.met, *transition.stopped):
        assert clock.met_at == at(hours)
        assert clock.status == "met"
    for clock in transition.started:
        assert clock.started_at == at(hours)
        assert clock.status == "running"


def test_every_event_type_has_a_transition_test() -> None:
    tested = {t[3][0] for t in TRANSITIONS}
    assert tested == set(EVENT_TYPES)


# --- every refusal --------------------------------------------------------------------------------

REFUSALS: list[tuple[str, str, tuple[tuple[Any, ...], ...], tuple[Any, ...], str]] = [
    (
        "book after conclusion",
        "potential",
        (SIGNIFICANT,),
        ("investigation_booked", 50),
        "no investigation is due",
    ),
    (
        "access after conclusion",
        "potential",
        (SIGNIFICANT,),
        ("access_failed", 50),
        "no investigation is due",
    ),
    ("conclude twice", "potential", (SIGNIFICANT,), SIGNIFICANT, "no investigation is due"),
    (
        "unknown investigation method",
        "potential",
        (),
        ("investigation_concluded", 5, {"outcome": "no_hazard", "method": "by telepathy"}),
        "investigation method",
    ),
    (
        "renewed after an in-person investigation",
        "potential",
        (("investigation_concluded", 5, {"outcome": "no_hazard", "method": "in_person"}),),
        ("renewed_investigation_requested", 6),
        "follows a remote one",
    ),
    (
        "further investigation without saying why",
        "potential",
        (SIGNIFICANT,),
        ("further_investigation_opened", 50),
        "say in the note",
    ),
    (
        "conclude without outcome",
        "potential",
        (),
        ("investigation_concluded", 5),
        "needs an outcome",
    ),
    (
        "conclude with unknown outcome",
        "potential",
        (),
        ("investigation_concluded", 5, {"outcome": "dreadful"}),
        "unknown outcome",
    ),
    (
        "supplementary without a hazard",
        "potential",
        (),
        ("investigation_concluded", 5, {"outcome": "no_hazard", "supplementary_work_needed": True}),
        "supplementary work follows",
    ),
    ("summary before conclusion", "potential", (), ("summary_sent", 5), "not concluded"),
    (
        "summary twice",
        "potential",
        (SIGNIFICANT, ("summary_sent", 50)),
        ("summary_sent", 51),
        "already sent",
    ),
    (
        "safety work with no hazard",
        "potential",
        (("investigation_concluded", 5, {"outcome": "no_hazard"}),),
        ("safety_work_started", 6),
        "no safety work is due",
    ),
    (
        "safety work before any finding",
        "potential",
        (),
        ("safety_work_completed", 6),
        "no safety work is due",
    ),
    (
        "safety work twice",
        "potential",
        (SIGNIFICANT, ("safety_work_completed", 60)),
        ("safety_work_completed", 61),
        "already made safe",
    ),
    (
        "supplementary not needed",
        "potential",
        (SIGNIFICANT,),
        ("supplementary_work_started", 60),
        "no supplementary work is due",
    ),
    (
        "supplementary twice",
        "potential",
        (
            (
                "investigation_concluded",
                5,
                {"outcome": "significant", "supplementary_work_needed": True},
            ),
            ("supplementary_work_started", 60),
        ),
        ("supplementary_work_started", 61),
        "already started",
    ),
    (
        "supplementary steps without saying which",
        "potential",
        (
            (
                "investigation_concluded",
                5,
                {"outcome": "significant", "supplementary_work_needed": True},
            ),
        ),
        ("supplementary_steps_taken", 6),
        "say which steps",
    ),
    (
        "supplementary completed before it started",
        "potential",
        (
            (
                "investigation_concluded",
                5,
                {"outcome": "significant", "supplementary_work_needed": True},
            ),
        ),
        ("supplementary_work_completed", 6),
        "has not started",
    ),
    (
        "accommodation with no hazard",
        "potential",
        (),
        ("alternative_accommodation_offered", 5),
        "follows an emergency or significant",
    ),
    (
        "accommodation after made safe",
        "potential",
        (SIGNIFICANT, ("safety_work_completed", 60)),
        ("alternative_accommodation_offered", 61),
        "not yet made safe",
    ),
    (
        "accommodation offered twice",
        "potential",
        (SIGNIFICANT, ("alternative_accommodation_offered", 50)),
        ("alternative_accommodation_offered", 51),
        "already offered",
    ),
    (
        "decline with no offer",
        "potential",
        (SIGNIFICANT,),
        ("alternative_accommodation_declined", 50),
        "no alternative accommodation offer",
    ),
    (
        "accept with no offer",
        "potential",
        (SIGNIFICANT,),
        ("alternative_accommodation_accepted", 50),
        "no alternative accommodation offer",
    ),
    (
        "move before accepting",
        "potential",
        (SIGNIFICANT, ("alternative_accommodation_offered", 50)),
        ("household_moved", 51),
        "once it has accepted",
    ),
    (
        "return before moving",
        "potential",
        (SIGNIFICANT,),
        ("household_returned", 50),
        "has not moved",
    ),
    (
        "24-hour duty ceased without a reason",
        "emergency",
        (),
        ("emergency_duty_ceased", 5, {"note": "x"}),
        "say why the 24-hour duty ceased",
    ),
    (
        "24-hour duty ceased without evidence",
        "emergency",
        (),
        ("emergency_duty_ceased", 5, {"reason": "third_party_consent_refused"}),
        "record the evidence",
    ),
    (
        "close with clocks running and no reason",
        "potential",
        (),
        ("closed", 5),
        "say why the case closes",
    ),
    (
        "close over a running clock alone",
        "potential",
        (),
        ("closed", 5, {"reason": "tenancy_ended", "actor": "officer-a"}),
        "needs a second person",
    ),
    (
        "approve one's own closure request",
        "potential",
        (("closure_requested", 4, {"reason": "tenancy_ended", "actor": "officer-a"}),),
        ("closed", 5, {"reason": "tenancy_ended", "actor": "officer-a"}),
        "approved by someone else",
    ),
    (
        "closure request when nothing is outstanding",
        "potential",
        (("investigation_concluded", 5, {"outcome": "no_hazard"}), ("summary_sent", 6)),
        ("closure_requested", 7, {"reason": "no_hazard_found"}),
        "nothing is outstanding",
    ),
    (
        "work complete while work is outstanding",
        "potential",
        (SIGNIFICANT, ("summary_sent", 50)),
        ("closed", 51, {"reason": "work_complete_verified"}),
        "the work is not complete",
    ),
    (
        "close twice",
        "potential",
        (
            ("investigation_concluded", 5, {"outcome": "no_hazard"}),
            ("summary_sent", 6),
            ("closed", 7),
        ),
        ("closed", 8),
        "the case is closed",
    ),
    (
        "event on a closed case",
        "potential",
        (
            ("investigation_concluded", 5, {"outcome": "no_hazard"}),
            ("summary_sent", 6),
            ("closed", 7),
        ),
        ("investigation_booked", 8),
        "reopen it first",
    ),
    ("reopen an open case", "potential", (), ("reopened", 5), "only a closed case"),
]


@pytest.mark.parametrize(
    ("category", "before", "event", "reason"),
    [r[1:] for r in REFUSALS],
    ids=[r[0] for r in REFUSALS],
)
def test_refusal(
    category: str, before: tuple[tuple[Any, ...], ...], event: tuple[Any, ...], reason: str
) -> None:
    case = run(opened(category), *before)
    type_, hours, *rest = event
    with pytest.raises(EventRefused) as refused:
        step(case, type_, at(hours), **(rest[0] if rest else {}))
    assert reason in refused.value.reason


def test_every_event_type_has_a_refusal_test() -> None:
    assert {r[3][0] for r in REFUSALS} == set(EVENT_TYPES)


def test_naive_event_time_is_refused() -> None:
    with pytest.raises(EventRefused, match="offset"):
        step(opened(), "investigation_booked", datetime(2026, 1, 6, 11))  # noqa: DTZ001


# --- clock rules in detail ------------------------------------------------------------------------


def test_the_due_times_after_a_significant_finding() -> None:
    # Concluded Thu 8 Jan 10:00: summary by end of Tue 13 (Fri 9, Mon 12, Tue 13);
    # safety work by end of Thu 15 (Fri 9, Mon 12, Tue 13, Wed 14, Thu 15); supplementary work
    # begun by the end of 2 April 2026 (8 Jan + 84 days), 23:59:59 BST.
    case = run(
        opened(),
        (
            "investigation_concluded",
            48,
            {"outcome": "significant", "supplementary_work_needed": True},
        ),
    )
    due = {c.rule_duty: c.due_at for c in case.clocks}
    assert due["written_summary"] == end_of(13)
    assert due["safety_work"] == end_of(15)
    assert due["supplementary_work"] == datetime(2026, 4, 2, 22, 59, 59, tzinfo=UTC)
    assert due["supplementary_steps"] == end_of(15)  # steps by the end of working day 5


def test_summary_still_needed_when_work_finishes_after_three_days() -> None:
    case = run(opened(), SIGNIFICANT)
    late = step(case, "safety_work_completed", end_of(13) + timedelta(seconds=1))
    assert [c.kind for c in late.stopped] == []
    assert statuses(late.after)["written_summary"] == "running"


def test_summary_still_needed_when_supplementary_work_remains() -> None:
    case = run(
        opened(),
        (
            "investigation_concluded",
            48,
            {"outcome": "significant", "supplementary_work_needed": True},
        ),
    )
    done = step(case, "safety_work_completed", at(60))
    assert statuses(done.after)["written_summary"] == "running"


@pytest.mark.parametrize(
    ("methods", "recorded"),
    [
        (["phone", "letter", "visit"], True),
        (["phone", "Phone", "phone"], False),  # same method three times
        (["phone", "letter"], False),
        (["phone", None, "letter"], False),  # an attempt with no method does not count as one
        (["phone", "letter", "email", "visit"], True),
    ],
)
def test_access_attempts_by_different_methods(methods: list[str | None], recorded: bool) -> None:
    case = opened()
    notices: tuple[str, ...] = ()
    for hour, method in enumerate(methods, start=1):
        transition = step(case, "access_failed", at(hour), method=method)
        case, notices = transition.after, transition.notices
    assert len(case.access_attempts) == len(methods)
    assert ("access_reasonable_steps_recorded" in notices) is recorded


def test_finding_outside_the_rule_set_starts_no_safety_clock() -> None:
    # Phase 1: an emergency report of excess cold is in scope; a significant (not emergency)
    # finding is not, until phase 2.
    case = opened("emergency", hazard="excess_cold")
    transition = step(case, "investigation_concluded", at(2), outcome="significant")
    assert [c.kind for c in transition.started] == ["written_summary"]
    assert [c.kind for c in transition.stopped] == ["emergency_action"]
    assert "finding_outside_rule_set" in transition.notices


# --- breach, excuse and alternative accommodation ------------------------------------------------


def test_breach_is_dated_at_the_deadline_and_excuse_keeps_it() -> None:
    clock = opened().clocks[0]
    with pytest.raises(EventRefused, match="not yet due"):
        breach(clock, clock.due_at)
    breached = breach(clock, clock.due_at + timedelta(minutes=3))
    assert (breached.status, breached.breached_at, breached.met_at) == (
        "breached",
        end_of(20),
        None,
    )
    with pytest.raises(EventRefused, match="breached, not running"):
        breach(breached, end_of(21))
    with pytest.raises(EventRefused, match="reasonable endeavours"):
        excuse(breached, at=end_of(22), reason="  ")
    excused = excuse(breached, at=end_of(22), reason="three access attempts refused")
    assert excused.status == "breached_excused"
    assert excused.breached_at == end_of(20)
    assert excused.excused_at == end_of(22)
    with pytest.raises(EventRefused, match="only a breached clock"):
        excuse(clock, at=end_of(22), reason="x")
    with pytest.raises(EventRefused, match="only a breached clock"):
        excuse(excused, at=end_of(22), reason="x")


def test_late_investigation_keeps_the_breach_and_records_when_done() -> None:
    case = opened()
    case = breach_case_clock(case, "investigate", end_of(21)).after
    late = step(case, "investigation_concluded", end_of(22), outcome="no_hazard")
    investigate = late.after.clock("investigate")
    assert investigate is not None
    assert (investigate.status, investigate.met_at, investigate.breached_at) == (
        "breached",
        end_of(22),
        end_of(20),
    )


def test_safety_breach_makes_alternative_accommodation_due() -> None:
    case = run(opened(), SIGNIFICANT)
    breached = breach_case_clock(case, "safety_work", end_of(16))
    assert breached.after.accommodation == "due"
    assert breached.notices == ("alternative_accommodation_due",)
    offered = step(breached.after, "alternative_accommodation_offered", end_of(16))
    assert offered.after.accommodation == "offered"
    done = step(offered.after, "safety_work_completed", end_of(19))
    assert done.after.accommodation == "ended"
    assert done.after.clock("safety_work") == replace(
        breached.after.clock("safety_work"),
        met_at=end_of(19),  # type: ignore[arg-type]
        ended="done",
    )


def test_emergency_breach_makes_alternative_accommodation_due() -> None:
    breached = breach_case_clock(opened("emergency"), "emergency_action", at(25))
    assert breached.after.accommodation == "due"


def test_investigate_breach_does_not_make_accommodation_due() -> None:
    breached = breach_case_clock(opened(), "investigate", end_of(21))
    assert breached.after.accommodation == "not_due"
    with pytest.raises(EventRefused, match="no running investigate"):
        breach_case_clock(breached.after, "investigate", end_of(22))


def test_safety_work_that_cannot_be_met_makes_accommodation_due() -> None:
    case = run(opened(), SIGNIFICANT)
    with pytest.raises(EventRefused, match="say why"):
        safety_work_cannot_be_met(case, at(50), reason="")
    due = safety_work_cannot_be_met(case, at(50), reason="specialist roofer unavailable")
    assert due.after.accommodation == "due"
    with pytest.raises(EventRefused, match="no safety work is outstanding"):
        safety_work_cannot_be_met(run(case, ("safety_work_completed", 60)), at(61), reason="x")


def test_clock_state_fields_match_the_contract() -> None:
    clock = opened().clocks[0]
    assert isinstance(clock, ClockState)
    for name in ("kind", "started_at", "due_at", "met_at", "status"):
        assert hasattr(clock, name)
