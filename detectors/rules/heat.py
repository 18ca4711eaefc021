"""Excess heat by CIBSE TM59: bedroom night hours over 26 °C, and the adaptive criterion.

Sensors measure air, not operative, temperature; every finding says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from detectors.rules.rule import (
    OUTDOOR,
    Evaluation,
    Rule,
    SensorContext,
    as_utc,
    column,
    local_index,
    recent,
)

AIR_NOT_OPERATIVE = "air temperature, not the operative temperature TM59 specifies"


@dataclass(frozen=True)
class SeasonCount:
    """Per-sensor state: hours counted so far in a year's season, through a time."""

    year: int
    hours_h: int
    through: datetime


def _count_new_hours(
    context: SensorContext, state: SeasonCount | None, hit: pd.Series
) -> SeasonCount:
    """Add this pass's qualifying hours to the local year's count; a new year starts at 0."""
    year = pd.Timestamp(context.now).tz_convert(context.timezone).year
    index = pd.DatetimeIndex(hit.index)
    fresh = (index.tz_convert(context.timezone).year == year) & (index < pd.Timestamp(context.now))
    count = 0
    if state is not None and state.year == year:
        fresh &= index >= pd.Timestamp(state.through)
        count = state.hours_h
    return SeasonCount(year, count + int(hit[fresh].sum()), context.now)


@dataclass(frozen=True)
class BedroomNightSettings:
    """TM59: bedroom above 26 °C, 22:00–07:00, for no more than 1 % of annual hours (32 h)."""

    threshold_c: float = 26.0
    night_from_hour: int = 22
    night_to_hour: int = 7
    max_hours_h: int = 32
    first_pass_lookback_h: int = 24 * 366  # year to date when there is no state
    rooms: tuple[str, ...] = ("bedroom",)

    @property
    def lookback_h(self) -> int:
        """Year to date on a first pass; later passes need only the new hours."""
        return self.first_pass_lookback_h


def evaluate_bedroom_night(
    frame: pd.DataFrame, context: SensorContext, rule: Rule[BedroomNightSettings], state: Any
) -> Evaluation:
    """A potential excess-heat finding once the year's hot night hours pass 32."""
    s = rule.thresholds
    if context.room not in s.rooms:
        return Evaluation()
    rows = recent(frame, context.now, s.first_pass_lookback_h)
    rows = rows[~rows.index.duplicated(keep="last")]
    local_hour = local_index(rows, context.timezone).hour
    night = (local_hour >= s.night_from_hour) | (local_hour < s.night_to_hour)
    hot = (column(rows, "temperature_c") > s.threshold_c) & night
    count = _count_new_hours(context, state, hot)
    if count.hours_h <= s.max_hours_h:
        return Evaluation(state=count)
    year_start = pd.Timestamp(year=count.year, month=1, day=1, tz=context.timezone)
    return Evaluation(
        (
            rule.finding(
                context,
                window_start=as_utc(year_start),
                window_end=context.now,
                figures={
                    "hours_over_threshold_h": count.hours_h,
                    "limit_hours_h": s.max_hours_h,
                    "threshold_c": s.threshold_c,
                },
                confidence=0.6,
                evidence_basis=f"bedroom night hours this year; {AIR_NOT_OPERATIVE}",
            ),
        ),
        count,
    )


@dataclass(frozen=True)
class AdaptiveSettings:
    """TM59 adaptive: hours with T − Tmax ≥ 1 K at most 3 % of occupied hours, May–September.

    Tmax = 0.33·Trm + 21.8 (20.8 for vulnerable occupants); Trm the exponentially weighted
    running mean of daily mean outdoor temperature, α = 0.8. The 3 % is of the whole season's
    occupied hours, so a count past it cannot recover — the finding is final for the season.
    """

    alpha: float = 0.8
    slope: float = 0.33
    intercept_c: float = 21.8
    vulnerable_intercept_c: float = 20.8
    exceed_k: float = 1.0
    max_fraction: float = 0.03
    season_months: tuple[int, ...] = (5, 6, 7, 8, 9)
    season_days: int = 153
    occupied_hours: dict[str, tuple[int, int]] | None = None  # room → local [from, to) hours
    trm_days: int = 30  # α^30 ≈ 0.001: older days do not matter

    @property
    def lookback_h(self) -> int:
        """Days of outdoor temperature the running mean needs."""
        return 24 * (self.trm_days + 1)

    def occupied(self, room: str) -> tuple[int, int] | None:
        """Occupied local hours of a room (TM59: bedrooms all day, living/kitchen 09–22)."""
        return self._occupied_table.get(room)

    @property
    def _occupied_table(self) -> dict[str, tuple[int, int]]:
        return self.occupied_hours or {"bedroom": (0, 24), "living": (9, 22), "kitchen": (9, 22)}

    @property
    def rooms(self) -> tuple[str, ...]:
        """The rooms the criterion assesses: those with occupied hours."""
        return tuple(self._occupied_table)


def running_mean_outdoor_c(daily_mean_c: pd.Series, alpha: float) -> pd.Series:
    """Trm for each day from the previous days' means: Trm(d) = Σ (1−α)·α^(i−1)·Tod(d−i), renormalised over days present."""
    values = daily_mean_c.to_numpy(dtype=float)
    out = np.full(len(values), np.nan)
    for d in range(1, len(values)):
        past = values[:d][::-1]
        weights = (1 - alpha) * alpha ** np.arange(len(past))
        present = np.isfinite(past)
        if present.any():
            out[d] = float(np.sum(weights[present] * past[present]) / np.sum(weights[present]))
    return pd.Series(out, index=daily_mean_c.index)


def evaluate_adaptive(
    frame: pd.DataFrame, context: SensorContext, rule: Rule[AdaptiveSettings], state: Any
) -> Evaluation:
    """A potential excess-heat finding when the season's adaptive exceedance passes 3 %."""
    s = rule.thresholds
    hours = s.occupied(context.room)
    local_now = pd.Timestamp(context.now).tz_convert(context.timezone)
    if hours is None or local_now.month not in s.season_months:
        return Evaluation(state=state)
    rows = recent(frame, context.now, s.lookback_h)
    rows = rows[~rows.index.duplicated(keep="last")]
    if column(rows, OUTDOOR).notna().sum() == 0:
        return Evaluation(state=state)  # no outdoor temperature: the adaptive criterion cannot run
    local = local_index(rows, context.timezone)
    dates = pd.Series(local.date, index=rows.index)
    daily = column(rows, OUTDOOR).groupby(dates).mean()
    trm = running_mean_outdoor_c(daily, s.alpha)
    intercept = s.vulnerable_intercept_c if context.household.vulnerable else s.intercept_c
    t_max = dates.map(s.slope * trm + intercept)
    occupied = (
        (local.hour >= hours[0]) & (local.hour < hours[1]) & local.month.isin(s.season_months)
    )
    hit = ((column(rows, "temperature_c") - t_max.astype(float)) >= s.exceed_k) & occupied
    count = _count_new_hours(context, state, hit)
    limit_h = s.max_fraction * s.season_days * (hours[1] - hours[0])
    if count.hours_h <= limit_h:
        return Evaluation(state=count)
    return Evaluation(
        (
            rule.finding(
                context,
                window_start=as_utc(
                    pd.Timestamp(year=count.year, month=5, day=1, tz=context.timezone)
                ),
                window_end=context.now,
                figures={
                    "hours_over_threshold_h": count.hours_h,
                    "limit_hours_h": limit_h,
                    "running_mean_outdoor_c": float(trm.iloc[-1]) if len(trm) else float("nan"),
                },
                confidence=0.5,
                evidence_basis=f"adaptive criterion from outdoor temperature; {AIR_NOT_OPERATIVE}",
            ),
        ),
        count,
    )
