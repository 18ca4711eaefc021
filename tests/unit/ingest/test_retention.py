"""Which hours are final, which are rolled up next, and where the raw retention cuts (pure)."""

from __future__ import annotations

import pytest

from ingest.retention import (
    DAY_S,
    HOUR_S,
    LATE_LIMIT_S,
    MAX_DAYS_PER_RUN,
    final_before,
    hourly_split,
    next_window,
    raw_cutoff,
    validate_raw_days,
)

pytestmark = pytest.mark.unit

NOW = 1_800_000_000 + 1234  # some instant, not on an hour


def test_an_hour_is_final_36_days_after_it_ends_because_readings_may_come_35_days_late():
    final = final_before(NOW)
    assert final % HOUR_S == 0
    assert NOW - LATE_LIMIT_S - HOUR_S < final <= NOW - LATE_LIMIT_S
    assert LATE_LIMIT_S > 35 * DAY_S


def test_the_next_window_starts_at_the_watermark_and_stops_at_the_final_hours():
    watermark = final_before(NOW) - 5 * HOUR_S
    assert next_window(watermark, None, NOW) == (watermark, final_before(NOW))
    assert next_window(final_before(NOW), None, NOW) is None  # up to date


def test_a_first_run_starts_at_the_earliest_reading_and_does_a_month_at_most():
    earliest = NOW - 400 * DAY_S + 17
    start, end = next_window(None, earliest, NOW)
    assert start == earliest - earliest % HOUR_S
    assert end - start == MAX_DAYS_PER_RUN * DAY_S
    assert next_window(None, None, NOW) is None  # no readings at all


def test_raw_cutoff_is_off_for_zero_and_whole_hours_otherwise():
    assert raw_cutoff(NOW, 0) is None
    cutoff = raw_cutoff(NOW, 397)
    assert cutoff is not None
    assert cutoff % HOUR_S == 0
    assert NOW - 397 * DAY_S - HOUR_S < cutoff <= NOW - 397 * DAY_S


def test_a_period_across_the_cutoff_is_served_hourly_before_it_and_raw_after():
    cutoff = raw_cutoff(NOW, 397)
    assert cutoff is not None
    start, end = cutoff - 10 * HOUR_S + 600, cutoff + 5 * HOUR_S
    hourly, raw = hourly_split(start, end, now_s=NOW, raw_days=397)
    assert hourly == (cutoff - 10 * HOUR_S, cutoff)  # the whole first hour, as a rollup
    assert raw == (cutoff, end)


def test_a_recent_period_or_no_retention_is_all_raw():
    assert hourly_split(NOW - DAY_S, NOW, now_s=NOW, raw_days=397) == (None, (NOW - DAY_S, NOW))
    old = NOW - 500 * DAY_S
    assert hourly_split(old, NOW, now_s=NOW, raw_days=0) == (None, (old, NOW))


def test_an_old_period_is_all_hourly():
    old = NOW - 600 * DAY_S
    hourly, raw = hourly_split(old, old + DAY_S, now_s=NOW, raw_days=397)
    assert hourly == (old - old % HOUR_S, old + DAY_S)
    assert raw is None


@pytest.mark.parametrize("days", [1, 35, 39, -1])
def test_raw_retention_shorter_than_the_late_limit_is_refused(days):
    with pytest.raises(ValueError, match="at least 40"):
        validate_raw_days(days)


@pytest.mark.parametrize("days", [0, 40, 397, 3650])
def test_raw_retention_of_zero_or_forty_days_or_more_is_taken(days):
    assert validate_raw_days(days) == days
