"""Working days in England and the local-day arithmetic of deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compliance import calendar as calendar_module
from compliance.calendar import WorkingDayCalendar, easter_sunday, england_closed_days

pytestmark = pytest.mark.unit

LONDON = ZoneInfo("Europe/London")
CAL = WorkingDayCalendar()


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


# --- published calendars ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # Christmas-New Year 2025: Thu 25, Fri 26 closed; Mon 29-Wed 31 open; Thu 1 Jan closed.
        (date(2025, 12, 24), True),
        (date(2025, 12, 25), False),
        (date(2025, 12, 26), False),
        (date(2025, 12, 27), False),
        (date(2025, 12, 29), True),
        (date(2025, 12, 31), True),
        (date(2026, 1, 1), False),
        (date(2026, 1, 2), True),
        # Christmas 2026: Fri 25; Boxing Day falls on Sat 26 so Mon 28 is the substitute day.
        (date(2026, 12, 24), True),
        (date(2026, 12, 25), False),
        (date(2026, 12, 28), False),
        (date(2026, 12, 29), True),
        (date(2027, 1, 1), False),
        # Christmas 2027 on a Saturday: substitutes Mon 27 and Tue 28.
        (date(2027, 12, 27), False),
        (date(2027, 12, 28), False),
        (date(2027, 12, 29), True),
        # Easter 2026: Good Friday 3 April, Easter Monday 6 April.
        (date(2026, 4, 2), True),
        (date(2026, 4, 3), False),
        (date(2026, 4, 6), False),
        (date(2026, 4, 7), True),
        # May bank holidays.
        (date(2025, 5, 5), False),
        (date(2025, 5, 26), False),
        (date(2026, 5, 4), False),
        (date(2026, 5, 25), False),
        (date(2026, 5, 26), True),
        # One-off days.
        (date(2022, 6, 2), False),  # spring bank holiday moved for the Platinum Jubilee
        (date(2022, 6, 3), False),  # Platinum Jubilee
        (date(2022, 5, 30), True),  # the usual last-Monday-of-May date, a working day that year
        (date(2022, 9, 19), False),  # state funeral of Queen Elizabeth II
        (date(2023, 5, 8), False),  # coronation of King Charles III
        # Ordinary weekdays and a weekend.
        (date(2026, 11, 24), True),
        (date(2026, 11, 28), False),
        (date(2026, 11, 29), False),
    ],
)
def test_is_working_day_matches_the_published_england_calendar(day: date, working: bool) -> None:
    assert CAL.is_working_day(day) is working


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
        (2285, date(2285, 3, 22)),
    ],
)
def test_easter_sunday_matches_published_dates(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


@pytest.mark.parametrize(("year", "weekday_closures"), [(2022, 10), (2023, 9), (2026, 8)])
def test_number_of_weekday_bank_holidays_matches_gov_uk(year: int, weekday_closures: int) -> None:
    # gov.uk/bank-holidays: 2022 had 10 (jubilee and state funeral), 2023 had 9 (coronation),
    # 2026 has 8 (Boxing Day on a Saturday, substituted on Monday 28 December).
    assert sum(1 for day in england_closed_days(year) if day.weekday() < 5) == weekday_closures


def test_working_days_in_2026() -> None:
    # 365 days - 104 weekend days (2026 starts on a Thursday: 52 weeks + 1 Thursday)
    # - 8 weekday bank holidays = 253.
    start, end = london(2025, 12, 31, 12), london(2026, 12, 31, 12)
    assert CAL.working_days_between(start, end) == 253


def test_christmas_and_good_friday_are_closed_even_if_the_package_omits_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(calendar_module.holidays, "country_holidays", lambda *_a, **_k: {})
    england_closed_days.cache_clear()
    try:
        closed = england_closed_days(2031)
        assert closed == {date(2031, 12, 25), date(2031, 4, 11)}  # Easter 2031 is 13 April
        cal = WorkingDayCalendar()
        assert not cal.is_working_day(date(2031, 12, 25))
        assert not cal.is_working_day(date(2031, 4, 11))
        assert cal.is_working_day(date(2031, 12, 26))  # Boxing Day came only from the package
    finally:
        england_closed_days.cache_clear()


def test_extra_holidays_close_a_day() -> None:
    cal = WorkingDayCalendar(extra_holidays=[date(2027, 6, 4)])
    assert CAL.is_working_day(date(2027, 6, 4))
    assert not cal.is_working_day(date(2027, 6, 4))
    assert cal.add_working_days(date(2027, 6, 3), 1) == date(2027, 6, 7)


# --- adding working days -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # Worked by hand: awareness Tue 23 Dec 2025 is day 0. Wed 24 = 1; Thu 25 Christmas,
        # Fri 26 Boxing Day, Sat 27 and Sun 28 skipped; Mon 29 = 2, Tue 30 = 3, Wed 31 = 4;
        # Thu 1 Jan New Year's Day skipped; Fri 2 Jan = 5.
        (date(2025, 12, 23), 5, date(2026, 1, 2)),
        (date(2025, 12, 23), 0, date(2025, 12, 23)),
        (date(2026, 12, 24), 1, date(2026, 12, 29)),  # Fri 25, weekend, substitute Mon 28
        (date(2026, 12, 24), 3, date(2026, 12, 31)),
        (date(2026, 12, 24), 4, date(2027, 1, 4)),  # Fri 1 Jan closed, then a weekend
        (date(2026, 4, 2), 1, date(2026, 4, 7)),  # Good Friday, weekend, Easter Monday
        (date(2026, 4, 4), 0, date(2026, 4, 4)),  # a Saturday is still day 0
        (date(2026, 4, 4), 1, date(2026, 4, 7)),
        (date(2026, 4, 2), 10, date(2026, 4, 20)),  # Tue 7 = 1 ... Fri 17 = 9, Mon 20 = 10
        (date(2022, 9, 16), 1, date(2022, 9, 20)),  # state funeral Monday
        (date(2023, 5, 5), 1, date(2023, 5, 9)),  # coronation Monday
        (date(2022, 6, 1), 1, date(2022, 6, 6)),  # jubilee Thursday and Friday
        (date(2026, 1, 2), -1, date(2025, 12, 31)),
        (date(2026, 1, 5), -2, date(2025, 12, 31)),  # Fri 2 Jan, then Wed 31 Dec
    ],
)
def test_add_working_days(start: date, n: int, expected: date) -> None:
    assert CAL.add_working_days(start, n) == expected


# --- local days and the clock changes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("aware_at", "n", "due_utc"),
    [
        # Worked by hand across the October 2026 change (BST ends 01:00 UTC Sun 25 Oct):
        # aware Fri 23 Oct 16:00 BST (15:00Z), day 0 Fri; Mon 26 = 1, Tue 27 = 2, Wed 28 = 3;
        # the end of Wed 28 is 23:59:59 GMT, which is 23:59:59Z.
        (london(2026, 10, 23, 16), 3, datetime(2026, 10, 28, 23, 59, 59, tzinfo=UTC)),
        # A due day in summer time ends at 22:59:59Z.
        (london(2026, 6, 1, 9), 1, datetime(2026, 6, 2, 22, 59, 59, tzinfo=UTC)),
        # March 2026 change (BST starts 01:00 UTC Sun 29 Mar).
        # Sat 28 Mar 23:59 GMT (23:59Z) is a Saturday: day 1 Mon 30 Mar, ends 22:59:59Z (BST).
        (london(2026, 3, 28, 23, 59), 1, datetime(2026, 3, 30, 22, 59, 59, tzinfo=UTC)),
        # Sun 29 Mar 23:59 BST (22:59Z): still Sunday, day 1 Monday 30.
        (london(2026, 3, 29, 23, 59), 1, datetime(2026, 3, 30, 22, 59, 59, tzinfo=UTC)),
        # Mon 30 Mar 00:00 BST is 23:00Z on Sunday in UTC but Monday in London: day 1 Tue 31.
        (london(2026, 3, 30, 0, 0), 1, datetime(2026, 3, 31, 22, 59, 59, tzinfo=UTC)),
        # October: Sat 24 Oct 23:59 BST (22:59Z) is Saturday; Sun 25 00:00 BST (23:00Z Sat)
        # is Sunday; either way day 1 is Mon 26, ending 23:59:59 GMT.
        (london(2026, 10, 24, 23, 59), 1, datetime(2026, 10, 26, 23, 59, 59, tzinfo=UTC)),
        (london(2026, 10, 25, 0, 0), 1, datetime(2026, 10, 26, 23, 59, 59, tzinfo=UTC)),
        # Sun 25 Oct 23:59 GMT belongs to Sunday (day 1 Mon 26); Mon 26 00:00 to Monday (day 1 Tue).
        (london(2026, 10, 25, 23, 59), 1, datetime(2026, 10, 26, 23, 59, 59, tzinfo=UTC)),
        (london(2026, 10, 26, 0, 0), 1, datetime(2026, 10, 27, 23, 59, 59, tzinfo=UTC)),
        # A report on Thursday 23:59 vs Friday 00:00 before Christmas 2026.
        (london(2026, 12, 23, 23, 59), 1, datetime(2026, 12, 24, 23, 59, 59, tzinfo=UTC)),
        (london(2026, 12, 24, 0, 0), 1, datetime(2026, 12, 29, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_end_of_working_day_uses_london_days(aware_at: datetime, n: int, due_utc: datetime) -> None:
    due = CAL.end_of_working_day(aware_at, n)
    assert due == due_utc
    assert due.utcoffset() == timedelta(0)
    local = due.astimezone(LONDON)
    assert (local.hour, local.minute, local.second) == (23, 59, 59)


def test_utc_instant_late_in_the_evening_is_the_next_london_day_in_summer() -> None:
    assert CAL.local_date(datetime(2026, 10, 24, 23, 0, tzinfo=UTC)) == date(2026, 10, 25)
    assert CAL.local_date(datetime(2026, 10, 25, 23, 0, tzinfo=UTC)) == date(2026, 10, 25)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        CAL.end_of_working_day(datetime(2026, 1, 5, 9), 1)  # noqa: DTZ001


def test_working_days_between_examples() -> None:
    aware = london(2025, 12, 23, 10)
    assert CAL.working_days_between(aware, london(2026, 1, 2, 9)) == 5
    assert CAL.working_days_between(aware, london(2025, 12, 23, 23, 59)) == 0
    assert CAL.working_days_between(aware, london(2025, 12, 28, 12)) == 1
    assert CAL.working_days_between(london(2026, 1, 2, 9), aware) == -5


# --- laws ---------------------------------------------------------------------------------------

days = st.dates(min_value=date(2021, 1, 1), max_value=date(2031, 12, 31))
counts = st.integers(min_value=0, max_value=80)
instants = st.datetimes(
    min_value=datetime(2021, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2031, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@given(days, st.integers(min_value=1, max_value=80))
def test_adding_lands_on_a_working_day(day: date, n: int) -> None:
    assert CAL.is_working_day(CAL.add_working_days(day, n))
    assert CAL.is_working_day(CAL.add_working_days(day, -n))


@given(days, counts)
def test_adding_is_strictly_monotonic(day: date, n: int) -> None:
    assert CAL.add_working_days(day, n) < CAL.add_working_days(day, n + 1)


@given(days, counts, counts)
def test_adding_composes(day: date, a: int, b: int) -> None:
    middle = CAL.add_working_days(day, a)
    if CAL.is_working_day(middle):
        assert CAL.add_working_days(day, a + b) == CAL.add_working_days(middle, b)


@given(days, st.integers(min_value=1, max_value=80))
def test_adding_skips_exactly_the_closed_days(day: date, n: int) -> None:
    landed = CAL.add_working_days(day, n)
    between = [day + timedelta(days=i) for i in range(1, (landed - day).days + 1)]
    assert sum(CAL.is_working_day(d) for d in between) == n


@given(days, st.integers(min_value=1, max_value=80))
def test_counting_back_undoes_counting_forward_from_a_working_day(day: date, n: int) -> None:
    if CAL.is_working_day(day):
        assert CAL.add_working_days(CAL.add_working_days(day, n), -n) == day


@given(instants, counts)
def test_between_counts_what_add_added(aware_at: datetime, n: int) -> None:
    due = CAL.end_of_working_day(aware_at, n)
    assert due > aware_at or n == 0
    assert CAL.working_days_between(aware_at, due) == n
    assert CAL.working_days_between(due, aware_at) == -n


@given(instants, instants)
def test_between_is_antisymmetric(a: datetime, b: datetime) -> None:
    assert CAL.working_days_between(a, b) == -CAL.working_days_between(b, a)


@given(instants, counts)
def test_due_is_end_of_a_london_day(aware_at: datetime, n: int) -> None:
    local = CAL.end_of_working_day(aware_at, n).astimezone(LONDON)
    assert (local.hour, local.minute, local.second) == (23, 59, 59)
    assert local.date() == CAL.add_working_days(aware_at.astimezone(LONDON).date(), n)
