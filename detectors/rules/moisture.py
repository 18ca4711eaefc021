"""Material moisture: sustained %WME above 20 (damp), and the step rise of a leak.

Heuristics, not a standard (docs/detectors.md): their settings are to be tuned against the
simulator's ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from detectors.rules.rule import Evaluation, Rule, SensorContext, column, hourly, span


@dataclass(frozen=True)
class DampSettings:
    """%WME above 20 (wet; decay possible 20–28) for most of the last day."""

    threshold_wme_pct: float = 20.0
    window_h: int = 24
    min_hours_h: int = 20
    trend_h: int = 24 * 7
    saturated_wme_pct: float = 28.0  # fibre saturation: a probe held above it reads soaked

    @property
    def lookback_h(self) -> int:
        """A week, for the trend figure."""
        return max(self.window_h, self.trend_h)


def wme_trend_pct_per_day(wme: pd.Series) -> float:
    """Least-squares slope of %WME in % per day over the present hours; NaN with fewer than 2."""
    present = wme.dropna()
    if len(present) < 2:
        return float("nan")
    days = (pd.DatetimeIndex(present.index) - present.index[0]) / pd.Timedelta(days=1)
    return float(np.polyfit(np.asarray(days, dtype=float), present.to_numpy(dtype=float), 1)[0])


def evaluate_damp(
    frame: pd.DataFrame, context: SensorContext, rule: Rule[DampSettings], _state: Any
) -> Evaluation:
    """A potential damp finding when %WME stays above 20 for most of a day."""
    s = rule.thresholds
    week = hourly(frame, context.now, s.lookback_h)
    wme = column(week, "wme_pct")
    day = wme.iloc[-s.window_h :]
    over = day[day > s.threshold_wme_pct]
    if len(over) < s.min_hours_h:
        return Evaluation()
    start, end = span(over.index)
    return Evaluation(
        (
            rule.finding(
                context,
                window_start=start,
                window_end=end,
                figures={
                    "hours_over_threshold_h": len(over),
                    "wme_pct_mean_24h": float(day.mean()),
                    "wme_pct_max": float(day.max()),
                    "wme_pct_trend_per_day": wme_trend_pct_per_day(wme),
                    "threshold_wme_pct": s.threshold_wme_pct,
                },
                confidence=0.8 if float(day.min()) >= s.saturated_wme_pct else 0.6,
                evidence_basis="damp probe (%WME; on masonry qualitative, salts read high)",
            ),
        )
    )


@dataclass(frozen=True)
class LeakSettings:
    """A rise of `step_wme_pct` or more within `step_window_h` that room humidity does not explain."""

    step_wme_pct: float = 4.0
    step_window_h: int = 3
    recent_h: int = 2  # the step must end in the last hours: found within the hour of onset
    explained_rise_humidity_pct: float = 10.0  # a room RH rise this large could explain it

    @property
    def lookback_h(self) -> int:
        """The step window plus the recent hours."""
        return self.step_window_h + self.recent_h


def evaluate_leak(
    frame: pd.DataFrame, context: SensorContext, rule: Rule[LeakSettings], _state: Any
) -> Evaluation:
    """An emergency leak finding on a sudden %WME step that room humidity does not explain."""
    s = rule.thresholds
    window = hourly(frame, context.now, s.lookback_h)
    wme = column(window, "wme_pct")
    humidity = column(window, "humidity_pct")
    best_rise, best_k, humidity_rise = 0.0, 0, float("nan")
    end_label = wme.index[-1]
    for k in range(1, s.step_window_h + 1):
        rises = (wme - wme.shift(k)).iloc[-s.recent_h :]
        if rises.notna().any() and float(rises.max()) > best_rise:
            at = rises.idxmax()
            best_rise, best_k = float(rises.max()), k
            humidity_rise = float(humidity.loc[at] - humidity.shift(k).loc[at])
            end_label = at
    if best_rise < s.step_wme_pct:
        return Evaluation()
    if np.isfinite(humidity_rise) and humidity_rise >= s.explained_rise_humidity_pct:
        return Evaluation()
    start, end = span(pd.DatetimeIndex([end_label - pd.Timedelta(hours=best_k), end_label]))
    known = np.isfinite(humidity_rise)
    return Evaluation(
        (
            rule.finding(
                context,
                window_start=start,
                window_end=end,
                category="emergency",
                figures={
                    "wme_pct_rise": best_rise,
                    "rise_hours_h": best_k,
                    "humidity_pct_rise": humidity_rise,
                    "wme_pct_now": float(wme.iloc[-1]),
                },
                confidence=0.7 if known else 0.5,
                evidence_basis="damp probe step rise; "
                + (
                    "room humidity did not rise with it"
                    if known
                    else "no room humidity to rule out"
                ),
            ),
        )
    )
