"""Which clocks a new awareness starts, by category and by the rule set in force."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from compliance.calendar import WorkingDayCalendar
from compliance.lifecycle import open_case
from compliance.rules import ComplianceSettings, rule_set_for
from compliance.schemas import ReportIn

pytestmark = pytest.mark.unit

CALENDAR = WorkingDayCalendar()
PHASE_1_DAY = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)  # a Tuesday, phase 1
PHASE_2_DAY = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # a Tuesday, phase 2


def _kinds(hazard: str, category: str, aware_at: datetime) -> list[str]:
    transition = open_case(
        hazard=hazard,
        category=category,
        source="tenant",
        aware_at=aware_at,
        rule_set=rule_set_for(aware_at, "Europe/London"),
        calendar=CALENDAR,
        settings=ComplianceSettings(),
    )
    return [clock.kind for clock in transition.after.clocks]


@pytest.mark.parametrize(
    ("hazard", "category", "aware_at", "kinds"),
    [
        # Phase 1: every emergency hazard has the 24-hour duty; only damp and mould is significant.
        ("electrical", "emergency", PHASE_1_DAY, ["emergency_action"]),
        ("damp_and_mould", "emergency", PHASE_1_DAY, ["emergency_action", "investigate"]),
        ("damp_and_mould", "potential", PHASE_1_DAY, ["investigate"]),
        ("excess_cold", "potential", PHASE_1_DAY, []),
        # Phase 2 (from 2026-11-30) adds electrical and excess cold as significant hazards.
        ("electrical", "emergency", PHASE_2_DAY, ["emergency_action", "investigate"]),
        ("excess_cold", "potential", PHASE_2_DAY, ["investigate"]),
        # Overcrowding is never in scope.
        ("crowding_and_space", "emergency", PHASE_2_DAY, []),
    ],
)
def test_opening_clocks_follow_the_rule_set_in_force(hazard, category, aware_at, kinds):
    assert _kinds(hazard, category, aware_at) == kinds


def test_a_report_must_name_an_hhsrs_hazard():
    base = {"home_id": "H1", "source": "tenant", "reported_at": "2026-11-24T10:00:00Z"}
    assert ReportIn(hazard="damp_and_mould", **base).hazard == "damp_and_mould"
    with pytest.raises(ValidationError, match="not an HHSRS hazard key"):
        ReportIn(hazard="unicorns", **base)
