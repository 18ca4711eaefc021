"""The Tenant Satisfaction Measure RP02 (Regulator of Social Housing) as numbers and CSV: pure.

RP02 is the proportion of responsive repairs completed within the landlord's target timescale,
emergency and non-emergency separately, each published with its numerator and denominator. The
TSMs are reported per financial year, 1 April to 31 March (the year "2025" is 2025/26); a repair
counts in the year it was completed, by the landlord's local time. Homesafe's target for a work
order is its priority's target time from the report, or the Awaab's Law deadline when that is
sooner (``repairs.rules``); emergency is the priorities RP02 counts as emergency.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from repairs.rules import PRIORITIES

_YEAR = re.compile(r"^(\d{4})(?:[/-](\d{2}|\d{4}))?$")
COLUMNS = (
    "measure",
    "description",
    "year",
    "period_from",
    "period_to",
    "numerator",
    "denominator",
    "percentage",
    "target_timescales",
)


@dataclass(frozen=True)
class FinancialYear:
    first: int  # the calendar year the financial year starts in (April)
    start: datetime  # 1 April, 00:00 local
    end: datetime  # the next 1 April, 00:00 local (exclusive)

    @property
    def label(self) -> str:
        return f"{self.first}/{(self.first + 1) % 100:02d}"


def financial_year(text: str, timezone: str) -> FinancialYear:
    """``2025``, ``2025/26`` or ``2025-2026``: the year from 1 April 2025 to 31 March 2026."""
    match = _YEAR.match(text.strip())
    if not match:
        raise ValueError(f"year {text!r}: give the year it starts in April (2025) or 2025/26")
    first = int(match.group(1))
    if match.group(2):
        second = int(match.group(2))
        if second % 100 != (first + 1) % 100 or (second >= 100 and second != first + 1):
            raise ValueError(f"year {text!r}: a financial year runs April to the next March")
    if not 2000 <= first <= 2100:
        raise ValueError(f"year {first} is out of range")
    zone = ZoneInfo(timezone)
    return FinancialYear(
        first,
        datetime.combine(date(first, 4, 1), time(0), tzinfo=zone),
        datetime.combine(date(first + 1, 4, 1), time(0), tzinfo=zone),
    )


def year_of(day: date) -> int:
    """The financial year (by its first calendar year) a local date falls in."""
    return day.year if day.month >= 4 else day.year - 1


@dataclass(frozen=True)
class Rp02Row:
    measure: str
    description: str
    numerator: int
    denominator: int

    @property
    def percentage(self) -> float | None:
        return round(100 * self.numerator / self.denominator, 1) if self.denominator else None


def _targets(emergency: bool) -> str:
    parts = []
    for p in PRIORITIES:
        if p.emergency == emergency:
            hours = p.target_hours
            span = f"{hours:g} hours" if hours < 48 else f"{hours / 24:g} days"
            parts.append(
                f"{p.key}: {span} from the report (sooner where an Awaab's Law deadline is)"
            )
    return "; ".join(parts)


def rows(emergency: tuple[int, int], non_emergency: tuple[int, int]) -> list[Rp02Row]:
    return [
        Rp02Row(
            "RP02 emergency",
            "Proportion of emergency responsive repairs completed within the landlord's target timescale",
            *emergency,
        ),
        Rp02Row(
            "RP02 non-emergency",
            "Proportion of non-emergency responsive repairs completed within the landlord's target timescale",
            *non_emergency,
        ),
    ]


def to_csv(figures: list[Rp02Row], year: FinancialYear) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    last = date(year.first + 1, 3, 31)
    for row in figures:
        writer.writerow(
            (
                row.measure,
                row.description,
                year.label,
                year.start.date().isoformat(),
                last.isoformat(),
                row.numerator,
                row.denominator,
                "" if row.percentage is None else f"{row.percentage:.1f}",
                _targets(row.measure == "RP02 emergency"),
            )
        )
    return out.getvalue()
