"""Pure: resident-defined KPIs' measures (a table of entries that carry their own computation),
a KPI period's verdict against its target, and satisfaction split by contractor, channel and
resident group with Wilson intervals and equity's suppression, response rates beside it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from equity.analysis import MIN_GROUP, proportion_table
from equity.statistics import wilson_interval
from equity.suppression import PUBLIC_CATEGORIES, public_categories, suppression_mask
from repairs.performance import JobFacts, Share

# Below this many in a KPI's quarter, the rate is not shown and the target not judged.
KPI_MIN = 5
SATISFIED_FROM = 4  # a rating of 4 or 5 out of 5


@dataclass(frozen=True)
class Response:
    """One survey invitation, answered or not, with the groups its figures are split by."""

    milestone: str
    created_at: datetime
    answered_at: datetime | None
    rating: int | None
    contractor: str
    channel: str  # how the case came to us: tenant, sensor, staff, contractor
    groups: dict[str, str]  # ethnicity, disability, age_band (household, special-category)


@dataclass(frozen=True)
class KpiInputs:
    jobs: Sequence[JobFacts]
    responses: Sequence[Response]


def _within(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


def _completed(inputs: KpiInputs, start: datetime, end: datetime) -> list[JobFacts]:
    return [j for j in inputs.jobs if _within(j.completed_at, start, end)]


def _answered(inputs: KpiInputs, start: datetime, end: datetime) -> list[Response]:
    return [r for r in inputs.responses if _within(r.answered_at, start, end) and r.rating]


@dataclass(frozen=True)
class KpiMeasure:
    """A measure a KPI may be built on: words, which way is better, and how it is counted."""

    key: str
    words: str
    higher_is_better: bool
    share: Callable[[KpiInputs, datetime, datetime], Share]


KPI_MEASURES: tuple[KpiMeasure, ...] = (
    KpiMeasure(
        "repairs_within_target",
        "repairs finished within the landlord's target time (of repairs finished in the quarter)",
        True,
        lambda i, s, e: Share(
            sum(1 for j in _completed(i, s, e) if j.within_target), len(_completed(i, s, e))
        ),
    ),
    KpiMeasure(
        "first_time_fix",
        "repairs finished at the first visit (of repairs finished in the quarter)",
        True,
        lambda i, s, e: Share(
            sum(1 for j in _completed(i, s, e) if j.first_time_fix), len(_completed(i, s, e))
        ),
    ),
    KpiMeasure(
        "no_access",
        "visits where the operative could not get in (of visits to repairs finished in the quarter)",
        False,
        lambda i, s, e: Share(
            sum(j.no_access_visits for j in _completed(i, s, e)),
            sum(j.attended_visits for j in _completed(i, s, e)),
        ),
    ),
    KpiMeasure(
        "repairs_that_lasted",
        "repairs where sensors found the problem had not come back (of repairs finished in the quarter and checked)",
        True,
        lambda i, s, e: Share(
            sum(1 for j in _completed(i, s, e) if j.verification == "healthy"),
            sum(1 for j in _completed(i, s, e) if j.verification in ("healthy", "recurred")),
        ),
    ),
    KpiMeasure(
        "satisfied",
        "residents who rated the repair 4 or 5 out of 5 (of answers given in the quarter)",
        True,
        lambda i, s, e: Share(
            sum(1 for r in _answered(i, s, e) if (r.rating or 0) >= SATISFIED_FROM),
            len(_answered(i, s, e)),
        ),
    ),
    KpiMeasure(
        "survey_response_rate",
        "households who answered when asked (of households asked in the quarter)",
        True,
        lambda i, s, e: Share(
            sum(1 for r in i.responses if _within(r.created_at, s, e) and r.answered_at),
            sum(1 for r in i.responses if _within(r.created_at, s, e)),
        ),
    ),
)
KPI_MEASURE_KEYS: tuple[str, ...] = tuple(m.key for m in KPI_MEASURES)


def kpi_measure(key: str) -> KpiMeasure:
    for m in KPI_MEASURES:
        if m.key == key:
            return m
    raise ValueError(f"unknown measure {key!r}; one of {', '.join(KPI_MEASURE_KEYS)}")


def verdict(share: Share, *, target_pct: float, higher_is_better: bool) -> bool | None:
    """Whether the quarter met the target; None when there are too few to judge."""
    if share.denominator < KPI_MIN or share.rate is None:
        return None
    pct = 100 * share.rate
    return pct >= target_pct if higher_is_better else pct <= target_pct


# --- satisfaction splits ---------------------------------------------------------------------------

SPLITS: tuple[str, ...] = ("contractor", "channel", "ethnicity", "disability", "age_band")


def _frame(responses: Sequence[Response]) -> pd.DataFrame:
    rows = [
        {
            "contractor": r.contractor,
            "channel": r.channel,
            **{d: r.groups.get(d, "") for d in ("ethnicity", "disability", "age_band")},
            "answered": r.answered_at is not None and r.rating is not None,
            "satisfied": (r.rating or 0) >= SATISFIED_FROM,
        }
        for r in responses
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "contractor",
            "channel",
            "ethnicity",
            "disability",
            "age_band",
            "answered",
            "satisfied",
        ],
    )
    return public_categories(frame)


def _nan(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def satisfaction_table(
    responses: Sequence[Response], *, min_group: int = MIN_GROUP, splits: Sequence[str] = SPLITS
) -> dict[str, object]:
    """Overall and per group: households asked, answers (the sample size), the response rate, and
    the share satisfied with its 95 % Wilson interval. A group is suppressed (every figure) when
    either its households asked or its answers are a small number, with equity's secondary
    suppression in each split; household groups list every fixed category."""
    frame = _frame(responses)
    answered = frame.loc[frame["answered"]]
    invited_table = proportion_table(frame, splits, frame["answered"])
    answered_table = proportion_table(answered, splits, answered["satisfied"])
    merged = invited_table[["dimension", "level", "n", "events", "value"]].merge(
        answered_table[["dimension", "level", "n", "events", "value", "ci_low", "ci_high"]],
        on=["dimension", "level"],
        how="left",
        suffixes=("_asked", ""),
    )
    merged["n"] = merged["n"].fillna(0).astype(int)
    merged["events"] = merged["events"].fillna(0).astype(int)
    hide = suppression_mask(merged, count="n_asked", min_group=min_group) | suppression_mask(
        merged, count="n", min_group=min_group
    )
    rows: list[dict[str, object]] = []
    for dimension in splits:
        own = merged.loc[merged["dimension"] == dimension]
        levels = list(PUBLIC_CATEGORIES.get(dimension, ())) or sorted(own["level"].astype(str))
        for level in levels:
            found = own.loc[own["level"].astype(str) == level]
            if found.empty or bool(hide[found.index[0]]):
                rows.append({"dimension": dimension, "level": level, "suppressed": True})
                continue
            row = found.iloc[0]
            rows.append(
                {
                    "dimension": dimension,
                    "level": level,
                    "suppressed": False,
                    "asked": int(row["n_asked"]),
                    "answers": int(row["n"]),
                    "response_rate": _nan(float(row["value_asked"])),
                    "satisfied": _nan(float(row["value"])) if row["n"] else None,
                    "ci_low": _nan(float(row["ci_low"])) if row["n"] else None,
                    "ci_high": _nan(float(row["ci_high"])) if row["n"] else None,
                }
            )
    asked, answers = len(frame), len(answered)
    satisfied = int(answered["satisfied"].sum())
    low, high = wilson_interval(satisfied, answers)
    enough = answers >= min_group
    return {
        "min_group_size": min_group,
        "overall": {
            "asked": asked,
            "answers": answers,
            "response_rate": answers / asked if asked >= min_group else None,
            "satisfied": satisfied / answers if enough else None,
            "ci_low": low if enough else None,
            "ci_high": high if enough else None,
        },
        "groups": rows,
    }
