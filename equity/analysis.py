"""Pure equity analysis over data frames: group tables with intervals and tests, adjusted odds ratios,
silences, and their suppressed, publishable form. No database, no wall clock.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from equity.outcomes import GROUPS
from equity.statistics import benjamini_hochberg, group_vs_rest, median_interval, wilson_interval
from equity.suppression import suppression_mask

MIN_GROUP = 10
CONTROLS: tuple[str, ...] = ("archetype", "imd_decile", "hazard")


@dataclass(frozen=True)
class Measure:
    """An outcome the tables can report: a share (`proportion`) or a `median` number of days."""

    key: str
    kind: str
    column: str
    description: str
    population: Callable[[pd.DataFrame], pd.Series] | None = None
    negate: bool = False


MEASURES: tuple[Measure, ...] = (
    Measure("breached", "proportion", "breached", "cases with any Awaab's Law clock breached"),
    Measure(
        "recurred",
        "proportion",
        "recurred",
        "repaired cases where the hazard came back",
        population=lambda f: f["contractor"] != "no work order",
    ),
    Measure(
        "no_access",
        "proportion",
        "any_no_access",
        "cases with at least one failed access attempt",
    ),
    Measure("tenant_reported", "proportion", "tenant_reported", "cases a tenant ever reported"),
    Measure(
        "unreported_sensor_hazard",
        "proportion",
        "tenant_reported",
        "sensor-detected hazards no tenant ever reported",
        population=lambda f: f["sensor_detected"],
        negate=True,
    ),
    Measure(
        "days_to_investigation",
        "median",
        "days_to_investigation",
        "days from awareness to investigation concluded",
    ),
    Measure("days_to_safe", "median", "days_to_safe", "days from awareness to the home made safe"),
    Measure("no_access_count", "median", "no_access_count", "failed access attempts per case"),
)
MEASURE_KEYS: tuple[str, ...] = tuple(m.key for m in MEASURES)


def measure(key: str) -> Measure:
    for m in MEASURES:
        if m.key == key:
            return m
    raise KeyError(f"unknown outcome {key!r}; one of {', '.join(MEASURE_KEYS)}")


def _population(frame: pd.DataFrame, m: Measure) -> tuple[pd.DataFrame, pd.Series]:
    frame = (
        frame.assign(any_no_access=frame["no_access_count"] > 0)
        if "no_access_count" in frame
        else frame
    )
    if m.population is not None:
        frame = frame.loc[m.population(frame).astype(bool)]
    values = frame[m.column]
    if m.kind == "proportion":
        values = ~values.astype(bool) if m.negate else values.astype(bool)
    return frame, values


def proportion_table(
    frame: pd.DataFrame, dimensions: Sequence[str], values: pd.Series, *, confidence: float = 0.95
) -> pd.DataFrame:
    """Per group: n, events, rate with Wilson interval, rate of the rest, ratio, and a 2×2 test."""
    total_n, total_events = len(values), int(values.sum())
    rows = []
    for dimension in dimensions:
        tally = values.groupby(frame[dimension], observed=True).agg(["size", "sum"])
        for level, (n, events) in tally.iterrows():
            n, events = int(n), int(events)
            rest_n, rest_events = total_n - n, total_events - events
            rate = events / n if n else math.nan
            rest_rate = rest_events / rest_n if rest_n else math.nan
            low, high = wilson_interval(events, n, confidence=confidence)
            test = group_vs_rest(events, n, rest_events, rest_n)
            rows.append(
                {
                    "dimension": dimension,
                    "level": str(level),
                    "n": n,
                    "events": events,
                    "value": rate,
                    "ci_low": low,
                    "ci_high": high,
                    "rest_value": rest_rate,
                    "ratio_to_rest": rate / rest_rate if rest_rate else math.nan,
                    "test": test.test,
                    "p_value": test.p_value,
                }
            )
    return pd.DataFrame(rows, columns=_COLUMNS)


def median_table(
    frame: pd.DataFrame, dimensions: Sequence[str], values: pd.Series, *, confidence: float = 0.95
) -> pd.DataFrame:
    """Per group: n, how many were measured, median with exact interval, ratio to the rest, Mood's test."""
    measured = values.notna()
    rows = []
    for dimension in dimensions:
        groups = frame[dimension]
        for level, index in groups.groupby(groups, observed=True).groups.items():
            inside = values.loc[index]
            own = inside.dropna().to_numpy(dtype=float)
            rest = values.loc[measured & (groups != level)].to_numpy(dtype=float)
            median = float(np.median(own)) if len(own) else math.nan
            rest_median = float(np.median(rest)) if len(rest) else math.nan
            low, high = median_interval(own, confidence=confidence)
            p_value = math.nan
            if len(own) and len(rest):
                try:
                    p_value = float(stats.median_test(own, rest, ties="below").pvalue)
                except ValueError:
                    p_value = 1.0  # every value on one side of the grand median
            rows.append(
                {
                    "dimension": dimension,
                    "level": str(level),
                    "n": len(inside),
                    "events": len(own),
                    "value": median,
                    "ci_low": low,
                    "ci_high": high,
                    "rest_value": rest_median,
                    "ratio_to_rest": median / rest_median if rest_median else math.nan,
                    "test": "mood_median",
                    "p_value": p_value,
                }
            )
    return pd.DataFrame(rows, columns=_COLUMNS)


_COLUMNS = [
    "dimension",
    "level",
    "n",
    "events",
    "value",
    "ci_low",
    "ci_high",
    "rest_value",
    "ratio_to_rest",
    "test",
    "p_value",
]
_FIGURES = ["n", "events", "value", "ci_low", "ci_high", "rest_value", "ratio_to_rest", "p_value"]


def publish(table: pd.DataFrame, *, kind: str, min_group: int = MIN_GROUP) -> pd.DataFrame:
    """Suppress small groups (primary and secondary), then BH-adjust the tests that remain (q_value)."""
    out = table.copy()
    hide = suppression_mask(out, count="n", min_group=min_group)
    if kind == "median":
        # a median of a handful of measured cases reveals them: the measured count is a cell too
        shown = out.loc[~hide]
        hide_figures = hide | suppression_mask(shown, count="events", min_group=min_group).reindex(
            out.index, fill_value=False
        )
    else:
        hide_figures = hide
    out["suppressed"] = hide
    out = out.astype({c: "float64" for c in _FIGURES})
    out.loc[hide_figures, [c for c in _FIGURES if c != "n"]] = np.nan
    out.loc[hide, "n"] = np.nan
    out.loc[hide_figures, "test"] = None
    out["q_value"] = benjamini_hochberg(out["p_value"].to_numpy())
    return out


def outcome_table(
    frame: pd.DataFrame,
    *,
    outcome: str = "breached",
    dimensions: Sequence[str] = GROUPS,
    min_group: int = MIN_GROUP,
    confidence: float = 0.95,
) -> tuple[pd.DataFrame, dict[str, float | int]]:
    """The published table of one outcome by the dimensions, and its overall row."""
    m = measure(outcome)
    population, values = _population(frame, m)
    if m.kind == "proportion":
        table = proportion_table(population, dimensions, values, confidence=confidence)
        low, high = wilson_interval(int(values.sum()), len(values), confidence=confidence)
        overall = {
            "n": len(values),
            "events": int(values.sum()),
            "value": float(values.mean()) if len(values) else math.nan,
            "ci_low": low,
            "ci_high": high,
        }
    else:
        table = median_table(population, dimensions, values, confidence=confidence)
        own = values.dropna().to_numpy(dtype=float)
        low, high = median_interval(own, confidence=confidence)
        overall = {
            "n": len(values),
            "events": len(own),
            "value": float(np.median(own)) if len(own) else math.nan,
            "ci_low": low,
            "ci_high": high,
        }
    if overall["n"] < min_group:
        overall = {k: math.nan for k in overall}
    return publish(table, kind=m.kind, min_group=min_group), overall


def adjusted_odds_ratios(
    frame: pd.DataFrame,
    by: str,
    *,
    outcome: str = "breached",
    controls: Sequence[str] = CONTROLS,
    min_group: int = MIN_GROUP,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Logistic regression of the outcome on the group, controlling for archetype, IMD decile and hazard.

    Groups too small to publish are left out of the fit; the reference is the largest group.
    Returns one row per published group with the adjusted odds ratio and its Wald interval.
    """
    m = measure(outcome)
    if m.kind != "proportion":
        raise ValueError(f"{outcome} is not a yes/no outcome")
    population, values = _population(frame, m)
    counts = population[by].value_counts()
    levels = pd.DataFrame({"dimension": by, "level": counts.index.astype(str), "n": counts.values})
    hide = suppression_mask(levels, count="n", min_group=min_group)
    shown = levels.loc[~hide, "level"].tolist()
    columns = ["dimension", "level", "reference", "n", "odds_ratio", "ci_low", "ci_high", "p_value"]
    if len(shown) < 2:
        return pd.DataFrame(columns=columns)
    keep = population[by].astype(str).isin(shown)
    data = population.loc[keep]
    y = values.loc[keep].astype(float).to_numpy()
    reference = shown[0]
    group = pd.Categorical(data[by].astype(str), categories=shown)
    parts = [pd.get_dummies(group, prefix="g", dtype=float).iloc[:, 1:]]
    for control in controls:
        if control != by and control in data:
            parts.append(
                pd.get_dummies(
                    data[control].astype(str), prefix=control, drop_first=True, dtype=float
                )
            )
    design = pd.concat([p.reset_index(drop=True) for p in parts], axis=1)
    design = design.loc[:, design.std() > 0]
    design.insert(0, "const", 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = sm.Logit(y, design).fit(disp=0, maxiter=100)
        except (np.linalg.LinAlgError, ValueError):
            return pd.DataFrame(columns=columns)
    interval = fit.conf_int(alpha=1 - confidence)
    rows = [
        {
            "dimension": by,
            "level": reference,
            "reference": reference,
            "n": int(counts[reference])
            if reference in counts
            else int((data[by] == reference).sum()),
            "odds_ratio": 1.0,
            "ci_low": math.nan,
            "ci_high": math.nan,
            "p_value": math.nan,
        }
    ]
    for level in shown[1:]:
        name = f"g_{level}"
        if name not in fit.params:
            continue
        rows.append(
            {
                "dimension": by,
                "level": level,
                "reference": reference,
                "n": int((data[by].astype(str) == level).sum()),
                "odds_ratio": float(np.exp(fit.params[name])),
                "ci_low": float(np.exp(interval.loc[name, 0])),
                "ci_high": float(np.exp(interval.loc[name, 1])),
                "p_value": float(fit.pvalues[name]),
            }
        )
    return pd.DataFrame(rows, columns=columns)


def silent_homes_table(
    homes: pd.DataFrame, *, dimensions: Sequence[str], min_group: int = MIN_GROUP
) -> tuple[pd.DataFrame, dict[str, float | int]]:
    """Share of homes whose sensors are silent, by group (homes, not cases, are counted)."""
    dims = [d for d in dimensions if d in homes]
    values = homes["sensors_silent"].astype(bool)
    table = proportion_table(homes, dims, values)
    low, high = wilson_interval(int(values.sum()), len(values))
    overall = {
        "n": len(values),
        "events": int(values.sum()),
        "value": float(values.mean()) if len(values) else math.nan,
        "ci_low": low,
        "ci_high": high,
    }
    return publish(table, kind="proportion", min_group=min_group), overall
