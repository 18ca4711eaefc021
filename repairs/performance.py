"""Pure repair measures: the two-part journey, contractor performance, RP02 and the landlord's own KPIs.

Definitions (each a reading of the issue, easy to change):
- first-time fix: a completed job whose first attended visit completed it (no no-access, no follow-on);
- no-access rate: no-access visits over all attended visits (completed + no access + follow-on);
- recurrence: of jobs whose verification has ended, the share where the hazard came back;
- RP02 (Regulator of Social Housing TSM): repairs completed within the landlord's target time, over
  repairs completed in the period, emergency and non-emergency separately.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

ATTENDED = ("completed", "no_access", "follow_on")


@dataclass(frozen=True)
class JobFacts:
    """What the measures need to know about one work order."""

    work_order_id: int
    contractor: str
    contractor_kind: str
    kind: str
    priority: str
    emergency: bool
    hazard: str
    status: str
    reported_at: datetime
    target_at: datetime
    dispatched_at: datetime | None
    completed_at: datetime | None
    visit_outcomes: tuple[str, ...]
    verification: str
    satisfaction_score: int | None

    @property
    def attended_visits(self) -> int:
        return sum(1 for o in self.visit_outcomes if o in ATTENDED)

    @property
    def no_access_visits(self) -> int:
        return self.visit_outcomes.count("no_access")

    @property
    def follow_on_visits(self) -> int:
        return self.visit_outcomes.count("follow_on")

    @property
    def first_time_fix(self) -> bool | None:
        """None until the job is completed."""
        if self.completed_at is None:
            return None
        attended = [o for o in self.visit_outcomes if o in ATTENDED]
        return attended == ["completed"]

    @property
    def within_target(self) -> bool | None:
        """None until the job is completed."""
        if self.completed_at is None:
            return None
        return self.completed_at <= self.target_at

    @property
    def hours_to_dispatch(self) -> float | None:
        """Part one of the journey: reported → operative dispatched."""
        if self.dispatched_at is None:
            return None
        return (self.dispatched_at - self.reported_at).total_seconds() / 3600

    @property
    def hours_dispatch_to_complete(self) -> float | None:
        """Part two of the journey: dispatched → work completed."""
        if self.dispatched_at is None or self.completed_at is None:
            return None
        return (self.completed_at - self.dispatched_at).total_seconds() / 3600

    def fields(self) -> dict[str, Any]:
        """Every fact and derived measure by name, for KPI conditions."""
        out = asdict(self)
        out.pop("visit_outcomes")
        for name in (
            "attended_visits",
            "no_access_visits",
            "follow_on_visits",
            "first_time_fix",
            "within_target",
            "hours_to_dispatch",
            "hours_dispatch_to_complete",
        ):
            out[name] = getattr(self, name)
        out["completed"] = self.completed_at is not None
        out["recurred"] = self.verification == "recurred"
        return out


@dataclass(frozen=True)
class Share:
    """A numerator over a denominator; `rate` is None when the denominator is 0."""

    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


@dataclass(frozen=True)
class ContractorPerformance:
    contractor: str
    contractor_kind: str
    jobs: int
    completed: int
    first_time_fix: Share
    no_access: Share
    within_target: Share
    recurrence: Share
    median_hours_to_dispatch: float | None
    median_hours_dispatch_to_complete: float | None
    satisfaction_mean: float | None
    satisfaction_responses: int


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _share(jobs: Sequence[JobFacts], test: Callable[[JobFacts], bool | None]) -> Share:
    answers = [test(j) for j in jobs]
    known = [a for a in answers if a is not None]
    return Share(sum(1 for a in known if a), len(known))


def contractor_performance(jobs: Sequence[JobFacts]) -> list[ContractorPerformance]:
    """Per contractor: jobs, first-time fix, no access, both journey parts, recurrence, satisfaction."""
    by_contractor: dict[str, list[JobFacts]] = {}
    for job in jobs:
        by_contractor.setdefault(job.contractor, []).append(job)
    out = []
    for name in sorted(by_contractor):
        own = by_contractor[name]
        scores = [j.satisfaction_score for j in own if j.satisfaction_score is not None]
        out.append(
            ContractorPerformance(
                contractor=name,
                contractor_kind=own[0].contractor_kind,
                jobs=len(own),
                completed=sum(1 for j in own if j.completed_at is not None),
                first_time_fix=_share(own, lambda j: j.first_time_fix),
                no_access=Share(
                    sum(j.no_access_visits for j in own), sum(j.attended_visits for j in own)
                ),
                within_target=_share(own, lambda j: j.within_target),
                recurrence=_share(
                    own,
                    lambda j: (
                        (j.verification == "recurred")
                        if j.verification in ("healthy", "recurred")
                        else None
                    ),
                ),
                median_hours_to_dispatch=_median(j.hours_to_dispatch for j in own),
                median_hours_dispatch_to_complete=_median(
                    j.hours_dispatch_to_complete for j in own
                ),
                satisfaction_mean=statistics.fmean(scores) if scores else None,
                satisfaction_responses=len(scores),
            )
        )
    return out


def _completed_in(
    jobs: Sequence[JobFacts], start: datetime | None, end: datetime | None
) -> list[JobFacts]:
    return [
        j
        for j in jobs
        if j.completed_at is not None
        and (start is None or j.completed_at >= start)
        and (end is None or j.completed_at < end)
    ]


def rp02(
    jobs: Sequence[JobFacts], *, start: datetime | None = None, end: datetime | None = None
) -> dict[str, Share]:
    """RP02: repairs completed within target, emergency and non-emergency, completed in [start, end)."""
    done = _completed_in(jobs, start, end)
    return {
        "emergency": _share([j for j in done if j.emergency], lambda j: j.within_target),
        "non_emergency": _share([j for j in done if not j.emergency], lambda j: j.within_target),
    }


def clocks_met(clocks: Iterable[tuple[str, str]]) -> dict[str, Share]:
    """Awaab's Law clocks met on time, per kind, over clocks that have ended (met, breached, excused)."""
    out: dict[str, list[int]] = {}
    for kind, status in clocks:
        if status == "running":
            continue
        tally = out.setdefault(kind, [0, 0])
        tally[0] += status == "met"
        tally[1] += 1
    return {kind: Share(met, ended) for kind, (met, ended) in sorted(out.items())}


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and a > b,
    "ge": lambda a, b: a is not None and a >= b,
    "lt": lambda a, b: a is not None and a < b,
    "le": lambda a, b: a is not None and a <= b,
    "in": lambda a, b: a in b,
}


class BadCondition(ValueError):
    """A KPI condition names an unknown field or operator, or tests a field with the wrong kind
    of value (it could not be computed)."""


# What each field a KPI condition may test holds. Times are not testable directly (use the
# derived hours and within_target); a condition's operands must be of the field's kind.
FIELD_KINDS: dict[str, str] = {
    "work_order_id": "number",
    "contractor": "text",
    "contractor_kind": "text",
    "kind": "text",
    "priority": "text",
    "emergency": "bool",
    "hazard": "text",
    "status": "text",
    "verification": "text",
    "satisfaction_score": "number",
    "attended_visits": "number",
    "no_access_visits": "number",
    "follow_on_visits": "number",
    "first_time_fix": "bool",
    "within_target": "bool",
    "hours_to_dispatch": "number",
    "hours_dispatch_to_complete": "number",
    "completed": "bool",
    "recurred": "bool",
}
MAX_LIST_ITEMS = 100
_ORDERING = ("gt", "ge", "lt", "le")


def _of_kind(value: Any, kind: str, *, none_ok: bool = True) -> bool:
    if value is None:
        return none_ok
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool) and value == value
    return isinstance(value, str) and len(value) <= 200


def _check_list(name: str, kind: str, values: Any) -> None:
    if not isinstance(values, list) or not 1 <= len(values) <= MAX_LIST_ITEMS:
        raise BadCondition(f"{name}: a list of 1 to {MAX_LIST_ITEMS} values is needed")
    for value in values:
        if not _of_kind(value, kind):
            raise BadCondition(f"{name}: {value!r} is not a {kind} value")


def check_condition(condition: Mapping[str, Any]) -> None:
    """Raise BadCondition unless every test names a known field with an operand of its kind:
    `value` (equality), `[values]` (membership), or `{"eq"|"ne": value, "in": [values],
    "gt"|"ge"|"lt"|"le": number}` (numbers only for the orderings)."""
    if not isinstance(condition, Mapping):
        raise BadCondition("a condition is an object of field: test")
    for name, test in condition.items():
        kind = FIELD_KINDS.get(name)
        if kind is None:
            raise BadCondition(f"unknown field {name!r}; one of {', '.join(sorted(FIELD_KINDS))}")
        if isinstance(test, dict):
            if not test:
                raise BadCondition(f"{name}: an empty test")
            for op, operand in test.items():
                if op not in _OPERATORS:
                    raise BadCondition(f"unknown operator {op!r}; one of {', '.join(_OPERATORS)}")
                if op in _ORDERING:
                    if kind != "number" or not _of_kind(operand, "number", none_ok=False):
                        raise BadCondition(f"{name}: {op} compares numbers only")
                elif op == "in":
                    _check_list(name, kind, operand)
                elif not _of_kind(operand, kind):
                    raise BadCondition(f"{name}: {operand!r} is not a {kind} value")
        elif isinstance(test, list):
            _check_list(name, kind, test)
        elif not _of_kind(test, kind):
            raise BadCondition(f"{name}: {test!r} is not a {kind} value")


def matches(facts: Mapping[str, Any], condition: Mapping[str, Any]) -> bool:
    """`{field: value}` is equality, `{field: [..]}` membership, `{field: {"ge": x, ...}}` comparisons."""
    for name, test in condition.items():
        value = facts[name]
        if isinstance(test, dict):
            if not all(_OPERATORS[op](value, operand) for op, operand in test.items()):
                return False
        elif isinstance(test, list):
            if value not in test:
                return False
        elif value != test:
            return False
    return True


@dataclass(frozen=True)
class KpiDefinition:
    """A landlord's KPI: share of jobs meeting `numerator` among those meeting `denominator` and `filter`."""

    name: str
    numerator: Mapping[str, Any]
    denominator: Mapping[str, Any]
    filter: Mapping[str, Any]


def evaluate_kpi(definition: KpiDefinition, jobs: Sequence[JobFacts]) -> Share:
    """The KPI's share over the jobs."""
    for condition in (definition.numerator, definition.denominator, definition.filter):
        check_condition(condition)
    base = [
        f
        for f in (j.fields() for j in jobs)
        if matches(f, definition.filter) and matches(f, definition.denominator)
    ]
    return Share(sum(1 for f in base if matches(f, definition.numerator)), len(base))
