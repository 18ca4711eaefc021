"""The panel's deep dives: the cell rule withholds small groups so that no two deep dives (nested
periods, areas, hazards or outcomes) differ by a small number, and journeys carry no identifiers."""

from __future__ import annotations

import itertools
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pytest

from equity.residents.scrutiny import (
    MIN_CELL,
    OUTCOME_KEYS,
    CaseJourney,
    CaseSet,
    ClockFacts,
    JobJourney,
    area_of,
    deep_dive,
    publishable,
    quarter_of,
    quarters_between,
)

NOW = datetime(2026, 1, 10, tzinfo=UTC)
QUARTER_START = {
    "2025-Q1": datetime(2025, 1, 6, tzinfo=UTC),
    "2025-Q2": datetime(2025, 4, 7, tzinfo=UTC),
    "2025-Q3": datetime(2025, 7, 7, tzinfo=UTC),
}


def case(
    i: int, *, quarter: str, hazard: str, area: str, breached: bool = False, days: int = 10
) -> CaseJourney:
    aware = QUARTER_START[quarter] + timedelta(hours=i)
    return CaseJourney(
        case_id=i,
        hazard=hazard,
        area=area,
        quarter=quarter,
        category="significant",
        aware_at=aware,
        closed_at=aware + timedelta(days=days),
        steps=(("investigation_concluded", aware + timedelta(days=2)),),
        clocks=(
            ClockFacts(
                "investigate",
                aware,
                aware + timedelta(days=10),
                None if breached else aware + timedelta(days=2),
                "breached" if breached else "met",
            ),
        ),
        jobs=(
            JobJourney(
                "routine",
                aware,
                aware + timedelta(days=3),
                aware + timedelta(days=days - 1),
                aware + timedelta(days=20),
                ("completed",),
                False,
            ),
        ),
        ratings=(4,),
    )


def estate() -> list[CaseJourney]:
    """Cells of (quarter, hazard, area): most of 6 or more; two small ones (2 cases; 3 cases)."""
    cases: list[CaseJourney] = []
    counter = itertools.count(1)
    plan = [
        ("2025-Q1", "damp_and_mould", "M1", 8, 0),
        ("2025-Q1", "damp_and_mould", "M2", 6, 6),  # all breached: the no part is empty
        ("2025-Q2", "damp_and_mould", "M1", 2, 0),  # small: withheld everywhere
        ("2025-Q2", "damp_and_mould", "M2", 7, 1),  # 1 breached: withheld for "breached"
        ("2025-Q2", "excess_cold", "M1", 3, 0),  # small
        ("2025-Q3", "excess_cold", "M1", 9, 5),
    ]
    for quarter, hazard, area, n, breached in plan:
        for k in range(n):
            cases.append(
                case(
                    next(counter), quarter=quarter, hazard=hazard, area=area, breached=k < breached
                )
            )
    return cases


HAZARDS = (None, "damp_and_mould", "excess_cold")
AREAS = (None, "M1", "M2")
QUARTERS = ("2025-Q1", "2025-Q2", "2025-Q3")


def every_case_set() -> list[CaseSet]:
    spans = [(a, b) for a in QUARTERS for b in QUARTERS if a <= b]
    return [
        CaseSet(h, a, first, last, o)
        for h in HAZARDS
        for a in AREAS
        for first, last in spans
        for o in OUTCOME_KEYS
    ]


def test_a_small_cell_is_never_shown_and_says_only_that_some_were_withheld():
    dive = deep_dive(
        estate(), CaseSet("damp_and_mould", "M1", "2025-Q2", "2025-Q2", "any"), now=NOW
    )
    assert dive.cases == 0
    assert dive.withheld
    assert dive.journeys == ()


def test_two_overlapping_periods_do_not_reveal_the_small_quarter():
    first = deep_dive(
        estate(), CaseSet("damp_and_mould", "M1", "2025-Q1", "2025-Q1", "any"), now=NOW
    )
    both = deep_dive(
        estate(), CaseSet("damp_and_mould", "M1", "2025-Q1", "2025-Q2", "any"), now=NOW
    )
    # Q2 holds 2 cases of damp in M1: subtracting the two deep dives must not find them.
    assert first.cases == 8
    assert both.cases == 8
    assert both.withheld
    assert not first.withheld


def test_an_outcome_split_with_a_small_part_is_withheld_for_that_outcome():
    breached = deep_dive(
        estate(), CaseSet("damp_and_mould", "M2", "2025-Q2", "2025-Q2", "breached"), now=NOW
    )
    every = deep_dive(
        estate(), CaseSet("damp_and_mould", "M2", "2025-Q2", "2025-Q2", "any"), now=NOW
    )
    assert breached.cases == 0
    assert breached.withheld
    assert every.cases == 7  # the whole cell is big; its one breach is not shown


@pytest.mark.parametrize("outcome", OUTCOME_KEYS)
def test_no_two_nested_deep_dives_differ_by_a_small_number(outcome: str):
    """Every pair of case sets where one lies inside the other (periods, areas, hazards; the
    outcome's cases inside every case): the difference of their counts is 0 or at least MIN_CELL,
    and so is the difference of their satisfaction sample sizes."""
    cases = estate()
    sets = [s for s in every_case_set() if s.outcome in (outcome, "any")]
    results = {s: deep_dive(cases, s, now=NOW) for s in sets}

    def inside(a: CaseSet, b: CaseSet) -> bool:
        return (
            (b.hazard is None or a.hazard == b.hazard)
            and (b.area is None or a.area == b.area)
            and a.quarter_from >= b.quarter_from
            and a.quarter_to <= b.quarter_to
            and (a.outcome == b.outcome or b.outcome == "any")
        )

    pairs = 0
    for a, b in itertools.permutations(sets, 2):
        if inside(a, b):
            pairs += 1
            gap = results[b].cases - results[a].cases
            assert gap == 0 or gap >= MIN_CELL, (a, b, gap)
            answers = results[b].responses - results[a].responses
            assert answers == 0 or answers >= MIN_CELL, (a, b, answers)
    assert pairs > 100


def test_every_published_count_is_zero_or_at_least_the_cell_size():
    for case_set in every_case_set():
        shown, _ = publishable(estate(), case_set, now=NOW)
        assert len(shown) == 0 or len(shown) >= MIN_CELL


def test_journeys_carry_no_case_number_no_dates_and_count_days():
    dive = deep_dive(estate(), CaseSet(None, None, "2025-Q1", "2025-Q3", "any"), now=NOW)
    assert dive.journeys
    text = repr([asdict(j) for j in dive.journeys])
    assert "case_id" not in text
    assert "2025-0" not in text
    assert "datetime" not in text
    first = dive.journeys[0]
    assert first.label == "Case A"
    assert [(s.day, s.what) for s in first.steps] == [
        (0, "landlord aware"),
        (2, "investigation concluded"),
        (3, "operative dispatched"),
        (first.days_open - 1, "repair completed"),
    ]
    assert first.jobs[0]["days_to_dispatch"] == 3.0


def test_areas_are_postcode_districts_and_quarters_are_local():
    assert area_of("m1 1ae") == "M1"
    assert area_of("LS29AB") == "LS2"
    assert area_of(None) == "not recorded"
    assert quarter_of(datetime(2025, 3, 31, 23, 30, tzinfo=UTC), "Europe/London") == "2025-Q2"
    assert quarters_between("2024-Q4", "2025-Q2") == ["2024-Q4", "2025-Q1", "2025-Q2"]
