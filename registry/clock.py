"""The program's one reading of the wall clock; everything else takes time as an argument."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

# The span of times Homesafe takes in (issue 12: 9999-12-31 and year 1 answered 500 once a day
# was added to them): generous for any record of a home, far from the calendar's ends.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def from_epoch_s(epoch_s: float) -> datetime:
    """A Unix timestamp in seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(epoch_s, UTC)


def to_rfc3339(moment: datetime) -> str:
    """RFC 3339 in UTC with an explicit offset, as the API returns times."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def plausible(moment: datetime) -> datetime:
    """The aware time, if it lies between 1900 and 2200; else ValueError naming the span."""
    try:
        inside = EARLIEST <= moment.astimezone(UTC) < LATEST
    except (OverflowError, ValueError):
        inside = False
    if not inside:
        raise ValueError(f"a time between {EARLIEST.year} and {LATEST.year - 1} is needed")
    return moment


def plausible_day(day: date) -> date:
    """The date, if it lies between 1900 and 2199; else ValueError naming the span."""
    if not EARLIEST.date() <= day < LATEST.date():
        raise ValueError(f"a date between {EARLIEST.year} and {LATEST.year - 1} is needed")
    return day


# An aware time in a request body, within the span above.
Instant = Annotated[AwareDatetime, AfterValidator(plausible)]
