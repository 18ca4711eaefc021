"""Pure: the panel's deep dives — a case set chosen by hazard, area, quarters and outcome, its
figures and its anonymised case journeys — with small numbers withheld so that no difference
between two deep dives, or two periods, isolates a small group.

The rule (docs/residents.md, "Why differencing finds nothing"): cases fall into fixed cells of
(quarter, hazard, area). For a chosen outcome each cell splits into the cases that have it and
those that do not; a cell counts towards a deep dive only when both parts are empty or hold at
least ``min_cell`` cases, otherwise the whole cell is withheld from every deep dive of that
outcome. So every published count is a sum of parts of at least ``min_cell``, and the difference
of two nested deep dives (one period inside another, one area inside all areas, one outcome's
cases inside every case) is zero or at least ``min_cell``.

Journeys carry no case number, home, address, name, report text or household data; times are
whole days from when the landlord became aware, never dates.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

MIN_CELL = 5
LONG_DAYS = 28
MAX_JOURNEYS = 20
NOT_RECORDED = "not recorded"
DAY_S = 86_400.0


def quarter_of(moment: datetime, timezone: str) -> str:
    """'2025-Q3' for a time, by the local calendar."""
    local = moment.astimezone(ZoneInfo(timezone)).date()
    return f"{local.year}-Q{(local.month - 1) // 3 + 1}"


def quarter_start(label: str) -> date:
    """The first day of a quarter label; ValueError for anything else."""
    year, _, q = label.partition("-Q")
    if not (year.isdigit() and len(year) == 4 and q in ("1", "2", "3", "4")):
        raise ValueError(f"{label!r} is not a quarter such as 2025-Q1")
    return date(int(year), 3 * (int(q) - 1) + 1, 1)


def next_quarter(label: str) -> str:
    start = quarter_start(label)
    year, q = start.year, (start.month - 1) // 3 + 1
    return f"{year + 1}-Q1" if q == 4 else f"{year}-Q{q + 1}"


def quarters_between(first: str, last: str) -> list[str]:
    """Every quarter from first to last, both included (empty when last is before first)."""
    out: list[str] = []
    label = first
    while quarter_start(label) <= quarter_start(last) and len(out) < 400:
        out.append(label)
        label = next_quarter(label)
    return out


def area_of(postcode: str | None) -> str:
    """The postcode district (the outward code: 'M1 1AE' → 'M1'), the smallest area we show."""
    if not postcode or not postcode.strip():
        return NOT_RECORDED
    text = postcode.strip().upper()
    outward = text.split()[0] if " " in text else text[:-3]
    return outward or NOT_RECORDED


@dataclass(frozen=True)
class ClockFacts:
    kind: str
    started_at: datetime
    due_at: datetime
    met_at: datetime | None
    status: str


@dataclass(frozen=True)
class JobJourney:
    """A work order's two-part journey: reported → dispatched → completed."""

    priority: str
    reported_at: datetime
    dispatched_at: datetime | None
    completed_at: datetime | None
    target_at: datetime
    visit_outcomes: tuple[str, ...]
    recurred: bool


@dataclass(frozen=True)
class CaseJourney:
    """What a deep dive knows of one case. ``case_id`` is for joining only and never published."""

    case_id: int
    hazard: str
    area: str
    quarter: str
    category: str
    aware_at: datetime
    closed_at: datetime | None
    steps: tuple[tuple[str, datetime], ...] = ()
    clocks: tuple[ClockFacts, ...] = ()
    jobs: tuple[JobJourney, ...] = ()
    ratings: tuple[int, ...] = ()

    @property
    def breached(self) -> bool:
        return any(c.status in ("breached", "breached_excused") for c in self.clocks)

    @property
    def recurred(self) -> bool:
        return any(j.recurred for j in self.jobs)

    def days_open(self, now: datetime) -> float:
        return ((self.closed_at or now) - self.aware_at).total_seconds() / DAY_S


@dataclass(frozen=True)
class Outcome:
    """A deep dive's outcome: its words and the test a case passes."""

    key: str
    words: str
    test: Callable[[CaseJourney, datetime], bool]


OUTCOMES: tuple[Outcome, ...] = (
    Outcome("any", "every case", lambda _c, _now: True),
    Outcome(
        "breached", "cases where an Awaab's Law deadline was missed", lambda c, _now: c.breached
    ),
    Outcome(
        "long",
        f"cases that took {LONG_DAYS} days or more (or are still open after {LONG_DAYS} days)",
        lambda c, now: c.days_open(now) >= LONG_DAYS,
    ),
    Outcome(
        "recurred", "cases where the hazard came back after a repair", lambda c, _now: c.recurred
    ),
    Outcome(
        "dissatisfied",
        "cases where a resident rated the service 1 or 2 out of 5",
        lambda c, _now: any(r <= 2 for r in c.ratings),
    ),
)
OUTCOME_KEYS: tuple[str, ...] = tuple(o.key for o in OUTCOMES)


def outcome(key: str) -> Outcome:
    for o in OUTCOMES:
        if o.key == key:
            return o
    raise ValueError(f"unknown outcome {key!r}; one of {', '.join(OUTCOME_KEYS)}")


@dataclass(frozen=True)
class CaseSet:
    """What the panel chose: hazard and area (None: all), quarters from and to, an outcome."""

    hazard: str | None
    area: str | None
    quarter_from: str
    quarter_to: str
    outcome: str

    def holds(self, case: CaseJourney) -> bool:
        return (
            (self.hazard is None or case.hazard == self.hazard)
            and (self.area is None or case.area == self.area)
            and quarter_start(self.quarter_from)
            <= quarter_start(case.quarter)
            <= quarter_start(self.quarter_to)
        )


@dataclass(frozen=True)
class Step:
    day: int
    what: str


@dataclass(frozen=True)
class Journey:
    """One case as the panel reads it: a letter, not a number; days, not dates."""

    label: str
    hazard: str
    area: str
    quarter: str
    category: str
    days_open: int
    still_open: bool
    steps: tuple[Step, ...]
    clocks: tuple[dict[str, Any], ...]
    jobs: tuple[dict[str, Any], ...]
    ratings: tuple[int, ...]


@dataclass(frozen=True)
class Median:
    value: float | None
    n: int


@dataclass(frozen=True)
class DeepDive:
    """A deep dive's figures: how many cases (the sample size), medians with how many were measured,
    satisfaction with its response count, and the longest journeys; ``withheld`` says some cases
    were in groups too small to show (never how many)."""

    case_set: CaseSet
    cases: int
    withheld: bool
    days_open: Median
    days_to_investigation: Median
    days_report_to_dispatch: Median
    days_dispatch_to_completion: Median
    satisfied: int | None
    responses: int
    journeys: tuple[Journey, ...] = field(default=())


def _days(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds() / DAY_S


def _median(values: Iterable[float | None], min_cell: int) -> Median:
    present = [v for v in values if v is not None]
    if len(present) < min_cell:
        return Median(None, len(present))
    return Median(round(statistics.median(present), 1), len(present))


def publishable(
    cases: Sequence[CaseJourney], case_set: CaseSet, *, now: datetime, min_cell: int = MIN_CELL
) -> tuple[list[CaseJourney], bool]:
    """The cases of the set that may be shown, by the cell rule above; and whether any were withheld."""
    test = outcome(case_set.outcome).test
    cells: dict[tuple[str, str, str], list[CaseJourney]] = {}
    for case in cases:
        if case_set.holds(case):
            cells.setdefault((case.quarter, case.hazard, case.area), []).append(case)
    shown: list[CaseJourney] = []
    withheld = False
    for key in sorted(cells):
        yes = [c for c in cells[key] if test(c, now)]
        no = len(cells[key]) - len(yes)
        if all(n == 0 or n >= min_cell for n in (len(yes), no)):
            shown.extend(yes)
        else:
            withheld = True
    return shown, withheld


def _journey(label: str, case: CaseJourney, now: datetime) -> Journey:
    def day(moment: datetime | None) -> int | None:
        span = _days(case.aware_at, moment)
        return None if span is None else int(span // 1)

    moments = [("landlord aware", case.aware_at), *case.steps]
    for job in case.jobs:
        moments += [
            (what, at)
            for what, at in (
                ("operative dispatched", job.dispatched_at),
                ("repair completed", job.completed_at),
            )
            if at is not None
        ]
    steps = tuple(
        Step(day(at) or 0, what.replace("_", " "))
        for what, at in sorted(moments, key=lambda s: s[1])
    )
    clocks = tuple(
        {
            "kind": c.kind.replace("_", " "),
            "due_day": day(c.due_at),
            "met_day": day(c.met_at),
            "status": c.status.replace("_", " "),
        }
        for c in case.clocks
    )
    jobs = tuple(
        {
            "priority": j.priority,
            "days_to_dispatch": _round(_days(j.reported_at, j.dispatched_at)),
            "days_dispatch_to_completion": _round(
                _days(j.dispatched_at, j.completed_at) if j.dispatched_at else None
            ),
            "within_target": None if j.completed_at is None else j.completed_at <= j.target_at,
            "visits": ", ".join(o.replace("_", " ") for o in j.visit_outcomes) or "none yet",
            "came_back": j.recurred,
        }
        for j in case.jobs
    )
    return Journey(
        label=label,
        hazard=case.hazard.replace("_", " "),
        area=case.area,
        quarter=case.quarter,
        category=case.category,
        days_open=int(case.days_open(now)),
        still_open=case.closed_at is None,
        steps=steps,
        clocks=clocks,
        jobs=jobs,
        ratings=tuple(sorted(case.ratings)),
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _label(i: int) -> str:
    letters = ""
    i += 1
    while i:
        i, rest = divmod(i - 1, 26)
        letters = chr(65 + rest) + letters
    return f"Case {letters}"


def deep_dive(
    cases: Sequence[CaseJourney],
    case_set: CaseSet,
    *,
    now: datetime,
    min_cell: int = MIN_CELL,
    max_journeys: int = MAX_JOURNEYS,
) -> DeepDive:
    """The deep dive of the case set: figures over the publishable cases and the longest journeys."""
    shown, withheld = publishable(cases, case_set, now=now, min_cell=min_cell)
    ratings = [r for c in shown for r in c.ratings]
    jobs = [j for c in shown for j in c.jobs]
    investigated = [
        min((at for what, at in c.steps if what == "investigation_concluded"), default=None)
        for c in shown
    ]
    satisfied = sum(1 for r in ratings if r >= 4) if len(ratings) >= min_cell else None
    longest = sorted(shown, key=lambda c: (-c.days_open(now), c.hazard, c.area, c.quarter))
    return DeepDive(
        case_set=case_set,
        cases=len(shown),
        withheld=withheld,
        days_open=_median((c.days_open(now) for c in shown if c.closed_at), min_cell),
        days_to_investigation=_median(
            (_days(c.aware_at, at) for c, at in zip(shown, investigated, strict=True)), min_cell
        ),
        days_report_to_dispatch=_median(
            (_days(j.reported_at, j.dispatched_at) for j in jobs), min_cell
        ),
        days_dispatch_to_completion=_median(
            (_days(j.dispatched_at, j.completed_at) for j in jobs if j.dispatched_at), min_cell
        ),
        satisfied=satisfied,
        responses=len(ratings),
        journeys=tuple(_journey(_label(i), c, now) for i, c in enumerate(longest[:max_journeys])),
    )
