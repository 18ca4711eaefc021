"""Later awareness, the act's time, and the HHSRS mapping: the pure rules behind office practice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from compliance.calendar import WorkingDayCalendar
from compliance.lifecycle import (
    CaseState,
    ClockState,
    Event,
    Transition,
    apply_event,
    breach_case_clock,
    end_clock,
    excuse,
    new_awareness,
    open_case,
)
from compliance.rules import (
    HAZARDS,
    HAZARDS_2026,
    PHASE_1,
    PHASE_2,
    ComplianceSettings,
    RuleSet,
    hhsrs_reference,
    tenure_scope,
)

pytestmark = pytest.mark.unit

CAL = WorkingDayCalendar()
SETTINGS = ComplianceSettings()
AWARE = datetime(2026, 1, 6, 10, tzinfo=UTC)  # Tuesday; investigate due end of Tue 20 Jan


def at(hours: float) -> datetime:
    return AWARE + timedelta(hours=hours)


def opened(category: str = "potential", *, hazard: str = "damp_and_mould", **kw: Any) -> CaseState:
    return open_case(
        hazard=hazard,
        category=category,  # type: ignore[arg-type]
        source=kw.pop("source", "tenant"),
        aware_at=kw.pop("aware_at", AWARE),
        rule_set=kw.pop("rule_set", PHASE_1),
        calendar=CAL,
        settings=kw.pop("settings", SETTINGS),
        **kw,
    ).after


def step(case: CaseState, type_: str, when: datetime, **fields: Any) -> CaseState:
    return apply_event(
        case,
        Event(type=type_, at=when, **fields),  # type: ignore[arg-type]
        rule_set=PHASE_1,
        calendar=CAL,
        settings=SETTINGS,
    ).after


def aware(
    case: CaseState,
    when: datetime,
    category: str = "potential",
    *,
    source: str = "tenant",
    rule_set: RuleSet = PHASE_1,
    settings: ComplianceSettings = SETTINGS,
    tenure_reason: str | None = None,
) -> Transition:
    return new_awareness(
        case,
        category=category,  # type: ignore[arg-type]
        source=source,  # type: ignore[arg-type]
        at=when,
        rule_set=rule_set,
        calendar=CAL,
        settings=settings,
        tenure_reason=tenure_reason,
    )


# --- the act's time decides ------------------------------------------------------------------------

CLOCK = ClockState(kind="investigate", started_at=AWARE, due_at=at(100))


def test_an_act_by_the_deadline_meets_the_clock() -> None:
    done, withdrawn = end_clock(CLOCK, at(100))
    assert (done.status, done.met_at, done.ended, withdrawn) == ("met", at(100), "done", False)


def test_an_act_after_the_deadline_is_a_breach_whenever_it_is_recorded() -> None:
    done, withdrawn = end_clock(CLOCK, at(101))
    assert (done.status, done.breached_at, done.met_at, withdrawn) == (
        "breached",
        at(100),
        at(101),
        False,
    )


@pytest.mark.parametrize("excused", [False, True])
def test_a_timely_act_recorded_after_the_breach_withdraws_it(excused: bool) -> None:
    breached = ClockState(
        kind="investigate", started_at=AWARE, due_at=at(100), status="breached", breached_at=at(100)
    )
    if excused:
        breached = excuse(breached, at=at(120), reason="access refused")
    done, withdrawn = end_clock(breached, at(99))
    assert (done.status, done.breached_at, done.excused_at, withdrawn) == ("met", None, None, True)


def test_a_late_act_keeps_an_excused_breach_excused() -> None:
    breached = excuse(
        ClockState(
            kind="investigate",
            started_at=AWARE,
            due_at=at(100),
            status="breached",
            breached_at=at(100),
        ),
        at=at(120),
        reason="access refused",
    )
    done, withdrawn = end_clock(breached, at(130))
    assert (done.status, done.met_at, withdrawn) == ("breached_excused", at(130), False)


def test_a_duty_that_ceases_is_not_done() -> None:
    done, _ = end_clock(CLOCK, at(5), ended="ceased", reason="household moved out")
    assert (done.status, done.ended, done.ended_reason) == ("met", "ceased", "household moved out")


def test_withdrawing_a_safety_breach_withdraws_the_accommodation_it_raised() -> None:
    case = opened("emergency", hazard="electrical")
    case = breach_case_clock(case, "emergency_action", at(25)).after
    assert (case.accommodation, case.accommodation_due_reason) == ("due", "breach")
    made_safe = apply_event(
        case,
        Event(type="safety_work_completed", at=at(20)),
        rule_set=PHASE_1,
        calendar=CAL,
        settings=SETTINGS,
    )
    assert [c.kind for c in made_safe.withdrawn] == ["emergency_action"]
    assert made_safe.after.accommodation == "not_due"
    assert "alternative_accommodation_not_due" in made_safe.notices


def test_an_accommodation_decision_taken_before_the_deadline_stays() -> None:
    case = step(opened(), "investigation_concluded", at(48), outcome="significant")
    case = step(case, "alternative_accommodation_offered", at(50))
    assert case.accommodation == "offered"


# --- later awareness ------------------------------------------------------------------------------


def test_an_emergency_while_the_24_hours_run_adds_no_clock() -> None:
    case = opened("emergency")
    assert aware(case, at(3), "emergency").started == ()


def test_an_emergency_after_the_investigation_starts_new_24_hours() -> None:
    case = step(opened(), "investigation_concluded", at(48), outcome="significant")
    started = aware(case, at(60), "emergency").started
    assert [(c.kind, c.started_at) for c in started] == [
        ("emergency_action", at(60)),  # due 24 hours later ...
        ("investigate", at(60)),  # ... and, new information, a further investigation
    ]
    assert started[0].due_at == at(84)


def test_a_report_after_the_investigation_starts_a_further_investigation() -> None:
    case = step(opened(), "investigation_concluded", at(48), outcome="significant")
    transition = aware(case, at(60))
    assert [(c.kind, c.investigation_type) for c in transition.started] == [
        ("investigate", "further")
    ]
    assert transition.after.stage == "awaiting_investigation"
    # ... once: a second report while it is due joins it.
    assert aware(transition.after, at(61)).started == ()


@pytest.mark.parametrize(
    ("setting", "work_done", "further"),
    [
        ("after_work", False, False),  # the known hazard, its work still outstanding
        ("after_work", True, True),  # the hazard came back after the work
        ("always", False, True),
    ],
)
def test_a_sensor_finding_after_the_investigation(
    setting: str, work_done: bool, further: bool
) -> None:
    settings = ComplianceSettings(sensor_new_information=setting)  # type: ignore[arg-type]
    case = step(opened(), "investigation_concluded", at(48), outcome="significant")
    if work_done:
        case = step(case, "safety_work_completed", at(70))
    started = aware(case, at(80), source="sensor", settings=settings).started
    assert bool(started) is further


def test_an_out_of_scope_case_comes_into_scope_with_a_later_awareness() -> None:
    case = opened(hazard="excess_cold")
    assert (case.in_scope, case.clocks, case.stage) == (False, (), "out_of_scope")
    assert "not a significant hazard under phase 1" in (case.scope_reason or "")
    still = aware(case, at(2))
    assert still.after.in_scope is False
    later = aware(case, datetime(2026, 11, 30, 9, tzinfo=UTC), rule_set=PHASE_2)
    assert later.after.in_scope is True
    assert later.after.rule_set_key == "phase_2"
    assert later.after.scope_reason is None
    assert [c.kind for c in later.started] == ["investigate"]
    assert later.after.aware_at == AWARE  # the first awareness stays on record


def test_escalating_out_of_scope_excess_cold_in_phase_1_starts_only_the_24_hours() -> None:
    transition = aware(opened(hazard="excess_cold"), at(3), "emergency")
    assert [c.kind for c in transition.started] == ["emergency_action"]


def test_an_emergency_only_hazard_gets_its_investigation_when_phase_2_makes_it_significant() -> (
    None
):
    case = opened("emergency", hazard="electrical")
    assert [c.kind for c in case.clocks] == ["emergency_action"]
    later = aware(case, datetime(2026, 12, 1, 9, tzinfo=UTC), rule_set=PHASE_2)
    assert [c.kind for c in later.started] == ["investigate"]


def test_tenure_keeps_a_case_out_of_scope() -> None:
    reason = tenure_scope("shared_ownership", SETTINGS)
    assert reason is not None
    assert "not a relevant social housing lease" in reason
    case = opened(tenure_reason=reason)
    assert (case.in_scope, case.clocks, case.scope_reason) == (False, (), reason)
    assert aware(case, at(5), tenure_reason=reason).started == ()
    assert tenure_scope("social_rent", SETTINGS) is None
    assert tenure_scope(None, SETTINGS) is None
    assert tenure_scope(None, ComplianceSettings(clocks_without_tenancy=False)) is not None


def test_a_renewed_investigation_runs_from_the_request() -> None:
    case = step(
        opened(), "investigation_concluded", at(48), outcome="not_significant", method="remote"
    )
    renewed = step(case, "renewed_investigation_requested", at(72))
    clock = renewed.clocks[-1]
    assert (clock.kind, clock.rule_duty, clock.investigation_type) == (
        "investigate",
        "renewed_investigation",
        "renewed",
    )
    assert clock.started_at == at(72)
    done = step(
        renewed, "investigation_concluded", at(96), outcome="significant", method="in person"
    )
    assert [(i.type, i.method) for i in done.investigations] == [
        ("standard", "remote"),
        ("renewed", "in_person"),
    ]


def test_the_investigation_records_what_it_took_into_account() -> None:
    case = step(
        opened(),
        "investigation_concluded",
        at(48),
        outcome="significant",
        investigator="A. Surveyor",
        investigator_role="damp and mould surveyor",
        needs_considered=("child_under_5",),
    )
    (record,) = case.investigations
    assert (record.type, record.investigator, record.needs_considered) == (
        "standard",
        "A. Surveyor",
        ("child_under_5",),
    )


def test_an_investigation_recorded_after_the_make_safe_it_preceded_is_accepted() -> None:
    case = opened("emergency", hazard="electrical")  # phase 1: the 24 hours only
    made_safe = step(case, "safety_work_completed", at(5))
    concluded = step(made_safe, "investigation_concluded", at(4), outcome="emergency")
    assert concluded.investigations[-1].type == "emergency"


# --- the HHSRS numbering --------------------------------------------------------------------------


def test_every_hazard_maps_to_the_2005_number_and_a_2026_hazard() -> None:
    assert [h.number_2005 for h in HAZARDS] == list(range(1, 30))
    assert len(HAZARDS_2026) == 21
    assert {h.name_2026 for h in HAZARDS if h.key in ("fire", "explosions")} == {
        "Fire and explosions"
    }
    assert {
        h.name_2026
        for h in HAZARDS
        if h.key in ("domestic_hygiene", "personal_hygiene", "food_safety")
    } == {"Domestic hygiene"}


def test_the_scheme_in_force_names_the_hazard() -> None:
    before = hhsrs_reference("falls_level", date(2026, 6, 22))
    after = hhsrs_reference("falls_level", date(2026, 6, 23))
    assert (before.scheme, before.number, before.name) == (
        "HHSRS 2005",
        20,
        "Falling on level surfaces etc",
    )
    assert (after.scheme, after.number, after.name) == ("HHSRS 2026", None, "Falls on the level")
