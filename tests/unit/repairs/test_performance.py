"""Repair measures: the two-part journey, first-time fix, no access, RP02, KPIs and verification."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from repairs.performance import (
    BadCondition,
    JobFacts,
    KpiDefinition,
    clocks_met,
    contractor_performance,
    evaluate_kpi,
    rp02,
)
from repairs.verification import verdict

pytestmark = pytest.mark.unit

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def job(
    i: int,
    *,
    contractor="Acme",
    visits=("completed",),
    hours_done=20.0,
    target_h=24.0,
    emergency=True,
    verification="healthy",
    score=None,
    dispatched_h=4.0,
) -> JobFacts:
    completed = T0 + timedelta(hours=hours_done) if "completed" in visits else None
    return JobFacts(
        work_order_id=i,
        contractor=contractor,
        contractor_kind="contractor",
        kind="safety",
        priority="emergency" if emergency else "routine",
        emergency=emergency,
        hazard="damp_and_mould",
        status="completed" if completed else "no_access",
        reported_at=T0,
        target_at=T0 + timedelta(hours=target_h),
        dispatched_at=T0 + timedelta(hours=dispatched_h),
        completed_at=completed,
        visit_outcomes=tuple(visits),
        verification=verification if completed else "not_started",
        satisfaction_score=score,
    )


def test_journey_in_two_parts():
    j = job(1, hours_done=30.0, dispatched_h=6.0)
    assert j.hours_to_dispatch == 6.0
    assert j.hours_dispatch_to_complete == 24.0


def test_contractor_performance():
    jobs = [
        job(1, score=5),
        job(2, visits=("no_access", "completed"), score=3, verification="recurred"),
        job(3, visits=("follow_on", "completed"), hours_done=30.0),
        job(4, visits=("no_access",)),
        job(5, contractor="Other"),
    ]
    acme = contractor_performance(jobs)[0]
    assert acme.contractor == "Acme"
    assert (acme.jobs, acme.completed) == (4, 3)
    assert (acme.first_time_fix.numerator, acme.first_time_fix.denominator) == (1, 3)
    assert (acme.no_access.numerator, acme.no_access.denominator) == (2, 6)
    assert (acme.within_target.numerator, acme.within_target.denominator) == (2, 3)
    assert (acme.recurrence.numerator, acme.recurrence.denominator) == (1, 3)
    assert acme.satisfaction_mean == 4.0
    assert acme.median_hours_to_dispatch == 4.0
    assert acme.median_hours_dispatch_to_complete == 16.0


def test_rp02_splits_emergency_and_non_emergency():
    jobs = [
        job(1),
        job(2, hours_done=30.0),
        job(3, emergency=False, target_h=672.0, hours_done=700.0),
    ]
    result = rp02(jobs)
    assert (result["emergency"].numerator, result["emergency"].denominator) == (1, 2)
    assert (result["non_emergency"].numerator, result["non_emergency"].denominator) == (0, 1)
    assert rp02(jobs, start=T0 + timedelta(hours=25))["emergency"].denominator == 1


def test_awaabs_law_clocks_met_over_ended_clocks():
    shares = clocks_met(
        [
            ("investigate", "met"),
            ("investigate", "breached"),
            ("investigate", "running"),
            ("safety_work", "breached_excused"),
        ]
    )
    assert (shares["investigate"].numerator, shares["investigate"].denominator) == (1, 2)
    assert shares["safety_work"].rate == 0.0


def test_resident_defined_kpi():
    jobs = [
        job(1, score=5),
        job(2, score=2),
        job(3, score=4, emergency=False),
        job(4, visits=("no_access",)),
    ]
    kpi = KpiDefinition(
        "satisfied with emergency repairs",
        {"satisfaction_score": {"ge": 4}},
        {"completed": True},
        {"priority": ["emergency"]},
    )
    share = evaluate_kpi(kpi, jobs)
    assert (share.numerator, share.denominator) == (1, 2)


def test_kpi_with_an_unknown_field_is_refused():
    with pytest.raises(BadCondition):
        evaluate_kpi(KpiDefinition("x", {"home_id": "H1"}, {}, {}), [job(1)])


def test_verification_verdicts():
    done, until = T0, T0 + timedelta(days=28)
    assert (
        verdict(
            completed_at=done, verify_until=until, findings_at=[], now=T0 + timedelta(days=3)
        ).state
        == "watching"
    )
    assert (
        verdict(completed_at=done, verify_until=until, findings_at=[], now=until).state == "healthy"
    )
    back = verdict(
        completed_at=done,
        verify_until=until,
        findings_at=[T0 - timedelta(days=1), T0 + timedelta(days=9)],
        now=until,
    )
    assert (back.state, back.at) == ("recurred", T0 + timedelta(days=9))
    late = verdict(
        completed_at=done,
        verify_until=until,
        findings_at=[T0 + timedelta(days=40)],
        now=T0 + timedelta(days=41),
    )
    assert late.state == "healthy"
