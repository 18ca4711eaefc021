"""Due times and warnings of every Awaab's Law clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compliance.calendar import WorkingDayCalendar
from compliance.clocks import due_at, triage_due_at, warning_times
from compliance.rules import CLOCK_RULES, PHASE_1, PHASE_2, ComplianceSettings

pytestmark = pytest.mark.unit
LONDON = ZoneInfo("Europe/London")
CAL = WorkingDayCalendar()
SETTINGS = ComplianceSettings()


def z(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kind", "started_at", "due"),
    [
        # 24 elapsed hours, through a weekend and the October clock change:
        # 12:00 BST Sat 24 Oct = 11:00Z; +24 h = 11:00Z Sun = 11:00 GMT.
        ("emergency_action", z(2026, 10, 24, 11), z(2026, 10, 25, 11)),
        ("emergency_action", z(2025, 12, 24, 18), z(2025, 12, 25, 18)),  # through Christmas Day
        # Investigate: Sat 24 Oct 2026 is day 0; Mon 26 = 1 ... Fri 6 Nov = 10.
        ("investigate", z(2026, 10, 24, 11), z(2026, 11, 6, 23, 59, 59)),
        # Written summary from Tue 23 Dec 2025: Wed 24 = 1, Mon 29 = 2, Tue 30 = 3.
        ("written_summary", z(2025, 12, 23, 15), z(2025, 12, 30, 23, 59, 59)),
        # Safety work from Tue 23 Dec 2025: ... Wed 31 = 4, Fri 2 Jan = 5.
        ("safety_work", z(2025, 12, 23, 15), z(2026, 1, 2, 23, 59, 59)),
        # Safety work from Thu 2 Apr 2026 (BST): Tue 7 = 1 ... Mon 13 = 5; 23:59:59 BST = 22:59:59Z.
        ("safety_work", z(2026, 4, 2, 9), z(2026, 4, 13, 22, 59, 59)),
        # Supplementary: Sat 24 Oct 2026 + 84 days = Sat 16 Jan 2027, end of day GMT.
        ("supplementary_work", z(2026, 10, 24, 11), z(2027, 1, 16, 23, 59, 59)),
        # Steps to begin it: end of working day 5 (Mon 26 Oct = 1 ... Fri 30 Oct = 5).
        ("supplementary_steps", z(2026, 10, 24, 11), z(2026, 10, 30, 23, 59, 59)),
    ],
)
def test_due_at(kind: str, started_at: datetime, due: datetime) -> None:
    assert due_at(kind, started_at, PHASE_1, CAL, SETTINGS) == due


@pytest.mark.parametrize(
    ("started_at", "due"),
    [
        # A start carrying the zone (as every page form gives): 24 elapsed hours, not 25.
        (datetime(2026, 10, 24, 12, tzinfo=LONDON), z(2026, 10, 25, 11)),
        # ... and not 23 across the spring change: 12:00 GMT Sat 28 Mar = 13:00 BST Sunday.
        (datetime(2026, 3, 28, 12, tzinfo=LONDON), z(2026, 3, 29, 12)),
    ],
)
def test_24_hours_are_elapsed_whatever_zone_the_start_carries(
    started_at: datetime, due: datetime
) -> None:
    assert due_at("emergency_action", started_at, PHASE_1, CAL, SETTINGS) == due


def test_supplementary_days_are_a_setting() -> None:
    settings = ComplianceSettings(supplementary_work_days=90)
    assert due_at("supplementary_work", z(2026, 10, 24, 11), PHASE_2, CAL, settings) == z(
        2027, 1, 22, 23, 59, 59
    )


def test_side_deadlines() -> None:
    # Renewed investigation asked for on Fri 18 Dec 2026: Mon 21 = 1 ... Thu 24 = 4, Tue 29 = 5,
    # Wed 30 = 6, Thu 31 = 7, Mon 4 Jan = 8, Tue 5 = 9, Wed 6 = 10.
    renewed = due_at("renewed_investigation", z(2026, 12, 18, 10), PHASE_1, CAL, SETTINGS)
    assert renewed == z(2027, 1, 6, 23, 59, 59)
    shorter = ComplianceSettings(reinvestigation_working_days=5)
    assert due_at("renewed_investigation", z(2026, 12, 18, 10), PHASE_1, CAL, shorter) == z(
        2026, 12, 29, 23, 59, 59
    )
    # Triage of a sensor finding on Fri 3 Apr 2026 (Good Friday): day 1 is Tue 7 Apr.
    assert triage_due_at(z(2026, 4, 3, 10), CAL, SETTINGS) == z(2026, 4, 7, 22, 59, 59)


def test_warnings_of_a_working_day_clock() -> None:
    started = z(2025, 12, 23, 15)
    due = due_at("safety_work", started, PHASE_1, CAL, SETTINGS)  # end of Fri 2 Jan
    # Two working days left (Wed 31 Dec, Fri 2 Jan) from 00:00 on Wed 31 Dec; and 4 h before.
    assert warning_times(started, due, CAL, SETTINGS) == [
        (z(2025, 12, 31, 0, 0), "2_working_days_left"),
        (z(2026, 1, 2, 19, 59, 59), "4_hours_left"),
    ]


def test_warnings_of_the_24_hour_clock() -> None:
    started = z(2026, 10, 24, 11)
    due = due_at("emergency_action", started, PHASE_1, CAL, SETTINGS)
    assert warning_times(started, due, CAL, SETTINGS) == [(z(2026, 10, 25, 7), "4_hours_left")]


def test_warnings_of_supplementary_work() -> None:
    started = z(2026, 10, 24, 11)
    due = due_at("supplementary_work", started, PHASE_1, CAL, SETTINGS)
    assert [at for at, _ in warning_times(started, due, CAL, SETTINGS)] == [
        z(2027, 1, 14, 0, 0),  # due Sat 16 Jan: Thu 14 and Fri 15 are the last working days
        z(2027, 1, 16, 19, 59, 59),
    ]


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        due_at("investigate", datetime(2026, 1, 5, 9), PHASE_1, CAL, SETTINGS)  # noqa: DTZ001


@given(
    st.sampled_from([rule.duty for rule in CLOCK_RULES]),
    st.datetimes(
        min_value=datetime(2025, 10, 27),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=datetime(2030, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)
def test_due_is_after_start_and_warnings_inside(kind: str, started_at: datetime) -> None:
    due = due_at(kind, started_at, PHASE_1, CAL, SETTINGS)
    assert due > started_at
    assert due.utcoffset() == timedelta(0)
    warnings = [at for at, _ in warning_times(started_at, due, CAL, SETTINGS)]
    assert warnings == sorted(warnings)
    assert all(started_at < w < due for w in warnings)
    if kind != "emergency_action":
        local = due.astimezone(LONDON)
        assert (local.hour, local.minute, local.second) == (23, 59, 59)
