"""Compliance reporting: the per-clock CSV of contract section 3 and the summary figures (pure).

The CSV is safe to open in a spreadsheet: a cell starting with ``= + - @``, a tab or a carriage
return is prefixed with ``'`` (OWASP, "CSV Injection"), so it is read as text, not a formula.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from compliance.rules import HAZARD_BY_KEY, HHSRS_2026_IN_FORCE
from registry.clock import to_rfc3339

# A cell starting with one of these is run as a formula by some spreadsheet (OWASP CSV injection;
# LibreOffice also reads the full-width forms, and a leading line break hides the rest).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
DAYS_TO_BREACH_BUCKETS = ("overdue", "0-1", "1-2", "2-5", "5-10", "10+", "no_running_clock")


@dataclass(frozen=True)
class ClockRow:
    """One clock of one case, as the reports see it."""

    case_id: int
    home_id: str
    hazard: str
    category: str
    rule_set: str
    kind: str
    started_at: datetime
    due_at: datetime
    met_at: datetime | None
    status: str
    breached_at: datetime | None = None
    reasonable_steps: str | None = None
    excused_at: datetime | None = None
    excuse_reason: str | None = None
    duty: str | None = None
    ended: str | None = None
    ended_reason: str | None = None
    investigation_type: str | None = None

    @property
    def met_on_time(self) -> bool | None:
        """True when done by the deadline, False when breached, None while running."""
        if self.status == "met":
            return True
        if self.status in ("breached", "breached_excused"):
            return False
        return None


def safe_cell(value: object) -> str:
    """A CSV cell as text that a spreadsheet will not run as a formula: text that starts (after
    any spaces) with a formula character gets a leading apostrophe; numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "" if value != value else str(value)
    text = to_rfc3339(value) if isinstance(value, datetime) else str(value)
    if text.lstrip(" ").startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def _local(at: datetime | None, tz: str) -> str | None:
    return at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S") if at else None


def _hhsrs(key: str, at: datetime, scheme: str) -> str | None:
    if key not in HAZARD_BY_KEY:
        return None
    hazard = HAZARD_BY_KEY[key]
    if scheme == "2005":
        return f"{hazard.number_2005} {hazard.name_2005}"
    return hazard.name_2026 if at.date() >= HHSRS_2026_IN_FORCE else None


# One row per clock per case: the contract's columns (due, met, status) and what a compliance
# officer needs beside them: times in UK local time as well as UTC, how the duty ended, the
# endeavours and excuse, and the hazard in the HHSRS scheme(s).
CSV_FIELDS: tuple[tuple[str, Callable[[ClockRow, str], object]], ...] = (
    ("case_id", lambda r, _tz: r.case_id),
    ("home_id", lambda r, _tz: r.home_id),
    ("hazard", lambda r, _tz: r.hazard),
    ("hhsrs_2005", lambda r, _tz: _hhsrs(r.hazard, r.started_at, "2005")),
    ("hhsrs_2026", lambda r, _tz: _hhsrs(r.hazard, r.started_at, "2026")),
    ("category", lambda r, _tz: r.category),
    ("rule_set", lambda r, _tz: r.rule_set),
    ("kind", lambda r, _tz: r.kind),
    ("duty", lambda r, _tz: r.duty or r.kind),
    ("investigation_type", lambda r, _tz: r.investigation_type),
    ("started_at", lambda r, _tz: r.started_at),
    ("due_at", lambda r, _tz: r.due_at),
    ("met_at", lambda r, _tz: r.met_at),
    ("status", lambda r, _tz: r.status),
    ("ended", lambda r, _tz: r.ended),
    ("ended_reason", lambda r, _tz: r.ended_reason),
    ("breached_at", lambda r, _tz: r.breached_at),
    ("met_on_time", lambda r, _tz: r.met_on_time),
    ("reasonable_endeavours", lambda r, _tz: r.reasonable_steps),
    ("excused_at", lambda r, _tz: r.excused_at),
    ("excuse_reason", lambda r, _tz: r.excuse_reason),
    ("started_at_local", lambda r, tz: _local(r.started_at, tz)),
    ("due_at_local", lambda r, tz: _local(r.due_at, tz)),
    ("met_at_local", lambda r, tz: _local(r.met_at, tz)),
    ("breached_at_local", lambda r, tz: _local(r.breached_at, tz)),
)
CSV_COLUMNS: tuple[str, ...] = tuple(name for name, _ in CSV_FIELDS)


def report_csv(rows: Iterable[ClockRow], *, timezone: str = "Europe/London") -> str:
    """The CSV text: a header row, then one row per clock per case."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([safe_cell(value(row, timezone)) for _, value in CSV_FIELDS])
    return out.getvalue()


def percentile(values: Sequence[float], pct: float) -> float | None:
    """The pct-th percentile by linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def breach_reason(row: ClockRow) -> str:
    """A breach's ground: unexcused, or the ground of all reasonable endeavours the excuse rests on."""
    if row.status == "breached":
        return "not_excused"
    text = (row.excuse_reason or "").lower()
    if "access" in text or "refus" in text:
        return "access_refused"
    if "consent" in text or "third party" in text:
        return "third_party_consent"
    if "contractor" in text or "material" in text or "specialist" in text:
        return "contractor_or_materials"
    return "other_reasonable_endeavours"


def _hours(rows: Iterable[ClockRow], kinds: tuple[str, ...]) -> list[float]:
    return [
        (row.met_at - row.started_at).total_seconds() / 3600
        for row in rows
        if row.kind in kinds and row.met_at is not None
    ]


def _figures(hours: Sequence[float]) -> dict[str, float | int | None]:
    median = statistics.median(hours) if hours else None
    p90 = percentile(hours, 90)
    return {
        "count": len(hours),
        "median_hours": round(median, 2) if median is not None else None,
        "p90_hours": round(p90, 2) if p90 is not None else None,
    }


def days_to_breach_bucket(next_due_at: datetime | None, overdue: bool, now: datetime) -> str:
    """Which bucket an open case falls in by the time left on its nearest running deadline."""
    if overdue:
        return "overdue"
    if next_due_at is None:
        return "no_running_clock"
    days = (next_due_at - now).total_seconds() / 86400
    if days < 0:
        return "overdue"
    for bucket, limit in (("0-1", 1), ("1-2", 2), ("2-5", 5), ("5-10", 10)):
        if days < limit:
            return bucket
    return "10+"


def summary_figures(
    rows: Sequence[ClockRow],
    open_cases: Iterable[tuple[datetime | None, bool]],
    *,
    now: datetime,
) -> dict[str, object]:
    """Clocks met on time by kind, breaches by reason, time to investigate and to make safe, and
    open cases by days to breach (``open_cases``: each case's next_due_at and whether a breached
    duty is still outstanding)."""
    by_kind: dict[str, dict[str, int]] = defaultdict(lambda: {"done": 0, "met_on_time": 0})
    for row in rows:
        if row.met_on_time is None:
            continue
        by_kind[row.kind]["done"] += 1
        by_kind[row.kind]["met_on_time"] += int(row.met_on_time)
    met_by_kind = {
        kind: {
            **counts,
            "share": round(counts["met_on_time"] / counts["done"], 4) if counts["done"] else None,
        }
        for kind, counts in sorted(by_kind.items())
    }
    breached = [row for row in rows if row.status in ("breached", "breached_excused")]
    buckets = Counter({bucket: 0 for bucket in DAYS_TO_BREACH_BUCKETS})
    for next_due_at, overdue in open_cases:
        buckets[days_to_breach_bucket(next_due_at, overdue, now)] += 1
    return {
        "generated_at": to_rfc3339(now),
        "clocks": len(rows),
        "met_on_time_by_kind": met_by_kind,
        "breaches": len(breached),
        "breaches_by_reason": dict(sorted(Counter(map(breach_reason, breached)).items())),
        "breaches_by_kind": dict(sorted(Counter(row.kind for row in breached).items())),
        "time_to_investigate": _figures(_hours(rows, ("investigate",))),
        "time_to_make_safe": _figures(_hours(rows, ("emergency_action", "safety_work"))),
        "open_cases_by_days_to_breach": {b: buckets[b] for b in DAYS_TO_BREACH_BUCKETS},
    }
