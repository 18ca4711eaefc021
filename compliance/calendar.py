"""Working days in England and the local-day arithmetic of Awaab's Law deadlines.

A working day is any day but a Saturday, a Sunday, Christmas Day, Good Friday or a bank holiday
in England under the Banking and Financial Dealings Act 1971 (including one-off and substitute
days). The regulations' own definition is *unconfirmed*; this is the usual statutory wording
(see docs/law.md, "Working days").

Conventions (docs/law.md, "The clocks"):

- The local date of awareness is day 0, whether or not it is a working day; working day 1 is the
  next working day after it.
- "Within N working days" means by the end of the Nth working day. The due instant is
  **23:59:59 local time** (``Europe/London``) on that day, not the following midnight, so a due
  time never reads as the next calendar day on a letter or a screen. An act is on time when
  ``done_at <= due_at``; the scheduler breaches when ``now > due_at``. (Times are recorded to the
  second, so the one-second gap to midnight is not a loophole in either direction.)
- Days are London days: a report at 23:59 local belongs to that day, one at 00:00 to the next,
  through both clock changes (``zoneinfo``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

END_OF_DAY_LOCAL = time(23, 59, 59)


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous 'Meeus/Jones/Butcher' algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=256)
def england_closed_days(year: int) -> frozenset[date]:
    """England's bank holidays for the year, plus Christmas Day and Good Friday whatever the package says."""
    bank_holidays = holidays.country_holidays("GB", subdiv="ENG", years=year)
    days = {day for day in bank_holidays if day.year == year}
    days.add(date(year, 12, 25))
    days.add(easter_sunday(year) - timedelta(days=2))
    return frozenset(days)


def _zone(tz: str | tzinfo) -> tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def local_date(at: datetime, tz: str | tzinfo) -> date:
    """The calendar date of an aware instant in the given zone."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at!r}: times must carry an offset")
    return at.astimezone(_zone(tz)).date()


class WorkingDayCalendar:
    """Working days in England counted on local (Europe/London) dates."""

    def __init__(
        self, timezone: str = "Europe/London", extra_holidays: Iterable[date] = ()
    ) -> None:
        self.timezone = timezone
        self.tz: tzinfo = ZoneInfo(timezone)
        self.extra_holidays: frozenset[date] = frozenset(extra_holidays)

    def __repr__(self) -> str:
        return (
            f"WorkingDayCalendar({self.timezone!r}, extra_holidays={sorted(self.extra_holidays)!r})"
        )

    def is_working_day(self, day: date) -> bool:
        """Whether the date is a working day (not a weekend, Christmas, Good Friday or bank holiday)."""
        if day.weekday() >= 5 or day in self.extra_holidays:
            return False
        return day not in england_closed_days(day.year)

    def add_working_days(self, day: date, n: int) -> date:
        """The nth working day after ``day`` (day itself is day 0); negative n counts backwards."""
        step = 1 if n >= 0 else -1
        remaining = abs(n)
        current = day
        while remaining:
            current += timedelta(days=step)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def local_date(self, at: datetime) -> date:
        """The London (calendar's zone) date of an aware instant."""
        return local_date(at, self.tz)

    def end_of_day(self, day: date) -> datetime:
        """23:59:59 local time on the date, as an aware UTC datetime."""
        return datetime.combine(day, END_OF_DAY_LOCAL, tzinfo=self.tz).astimezone(UTC)

    def end_of_working_day(self, aware_at: datetime, n: int) -> datetime:
        """23:59:59 local on the nth working day after aware_at's local date, in UTC."""
        return self.end_of_day(self.add_working_days(self.local_date(aware_at), n))

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days d with local(start) < d <= local(end); if end is earlier, minus those the other way.

        So ``working_days_between(t, end_of_working_day(t, n)) == n`` for every n >= 0.
        """
        first, last = self.local_date(start), self.local_date(end)
        if last < first:
            return -self._count_after(last, first)
        return self._count_after(first, last)

    def _count_after(self, first: date, last: date) -> int:
        count = 0
        day = first + timedelta(days=1)
        while day <= last:
            if self.is_working_day(day):
                count += 1
            day += timedelta(days=1)
        return count
