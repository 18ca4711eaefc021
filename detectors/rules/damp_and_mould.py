"""Damp and mould rules: sustained room humidity, VTT mould index, surface RH, Approved Document F."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from detectors.mould import run_mould
from detectors.psychro import CRITICAL_FRSI
from detectors.rules.rule import (
    HOUR,
    Evaluation,
    Rule,
    SensorContext,
    as_utc,
    column,
    hourly,
    recent,
    span,
    surface_conditions,
)

DAY = timedelta(days=1)


@dataclass(frozen=True)
class SustainedHumiditySettings:
    """Room RH ≥ 80 % for ≥ 6 of the last 12 hours (the walking skeleton's first rule)."""

    threshold_humidity_pct: float = 80.0
    min_hours_h: int = 6
    window_h: int = 12

    @property
    def lookback_h(self) -> int:
        """The window."""
        return self.window_h


def evaluate_sustained_humidity(
    frame: pd.DataFrame, context: SensorContext, rule: Rule[SustainedHumiditySettings], _state: Any
) -> Evaluation:
    """A potential damp-and-mould finding when room RH stays high for most of the window."""
    s = rule.thresholds
    humidity = column(recent(frame, context.now, s.window_h), "humidity_pct")
    over = humidity[humidity >= s.threshold_humidity_pct]
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
                    "humidity_pct_max": float(over.max()),
                    "threshold_humidity_pct": s.threshold_humidity_pct,
                },
                confidence=len(over) / s.window_h,
                evidence_basis="room air humidity",
            ),
        )
    )


@dataclass(frozen=True)
class MouldGrowthSettings:
    """VTT index on surface conditions (room air without outdoor temperature).

    A finding when M reaches `level_index`, rises by `rise_per_week` or more, or (from
    `min_index`) is projected to reach the level within `horizon_days` at its recent rate —
    the last two find mould-risk homes before M reaches 1.
    """

    f_rsi: float = CRITICAL_FRSI  # BRE IP1/06 critical factor for UK dwellings
    sensitivity: str = "sensitive"  # painted plaster, wallpaper, paper-faced board
    decline_factor: float = 0.25  # usual Cmat of the sensitive class
    level_index: float = 1.0  # microscopic growth
    rise_per_week: float = 0.1  # ~2/3 of the published 22 °C / 90 % rate
    min_index: float = 0.1
    horizon_days: float = 120.0
    trend_days: int = 7
    first_pass_lookback_h: int = 24 * 28  # history to warm up on when there is no state

    @property
    def lookback_h(self) -> int:
        """History for a first pass; later passes need only the hours since the state."""
        return self.first_pass_lookback_h


@dataclass(frozen=True)
class MouldCarry:
    """Per-sensor state between passes: M, the decline clock, and day-end snapshots of M."""

    through: datetime  # end of the last hour folded in
    index_m: float
    hours_since_growth_h: float
    day_ends: tuple[tuple[datetime, float], ...]  # (UTC midnight, M then), last trend_days + 1


def evaluate_mould_growth(
    frame: pd.DataFrame, context: SensorContext, rule: Rule[MouldGrowthSettings], state: Any
) -> Evaluation:
    """Advance the sensor's mould index over the new hours and report crossing or fast rise."""
    s = rule.thresholds
    carry: MouldCarry | None = state
    rows = recent(frame, context.now, s.first_pass_lookback_h)
    if carry is not None:
        rows = rows[pd.DatetimeIndex(rows.index) >= pd.Timestamp(carry.through)]
    rows = rows.sort_index()
    rows = rows[~rows.index.duplicated(keep="last")]
    if rows.empty:
        return Evaluation(state=carry)
    conditions = surface_conditions(rows, s.f_rsi)
    start_m = carry.index_m if carry else 0.0
    start_h = carry.hours_since_growth_h if carry else 0.0
    index_m, hours_since = run_mould(
        conditions.temperature_c,
        conditions.humidity_pct,
        s.sensitivity,
        s.decline_factor,
        start_m,
        start_h,
    )
    ends = pd.DatetimeIndex(rows.index) + pd.Timedelta(hours=1)
    through = as_utc(ends[-1])
    at_midnight = ends.hour == 0
    snapshots = list(carry.day_ends if carry else ())
    snapshots += [
        (as_utc(t), float(m)) for t, m in zip(ends[at_midnight], index_m[at_midnight], strict=True)
    ]
    keep_after = through - timedelta(days=s.trend_days + 1)
    snapshots = [(t, m) for t, m in snapshots if t >= keep_after]
    m_now = float(index_m[-1])
    new_state = MouldCarry(through, m_now, hours_since, tuple(snapshots))

    trend_from = [
        (t, m)
        for t, m in snapshots
        if through - t >= DAY and through - t <= timedelta(days=s.trend_days)
    ]
    rate_per_day = 0.0
    since = through - timedelta(days=s.trend_days)
    if trend_from:
        since, m_then = trend_from[0]
        rate_per_day = (m_now - m_then) / ((through - since) / DAY)
    projected_days = (s.level_index - m_now) / rate_per_day if rate_per_day > 0 else float("inf")
    reached = m_now >= s.level_index
    fast = rate_per_day * 7.0 >= s.rise_per_week
    projected = m_now >= s.min_index and projected_days <= s.horizon_days
    if not (reached or fast or projected):
        return Evaluation(state=new_state)
    on_surface = conditions.room_air_hours_h == 0
    confidence = (0.9 if reached else 0.6) - (0.0 if on_surface else 0.15)
    trigger = (
        "reached level" if reached else ("rising fast" if fast else "projected to reach level")
    )
    figures = {
        "mould_index": m_now,
        "mould_index_rise_per_week": rate_per_day * 7.0,
        "level_mould_index": s.level_index,
        "surface_rh_pct_max": float(np.nanmax(conditions.humidity_pct))
        if np.isfinite(conditions.humidity_pct).any()
        else float("nan"),
    }
    if not reached and np.isfinite(projected_days):
        figures["projected_days_to_level_d"] = projected_days
    return Evaluation(
        (
            rule.finding(
                context,
                window_start=min(since, through - HOUR),
                window_end=through,
                figures=figures,
                confidence=confidence,
                evidence_basis=f"VTT mould index ({s.sensitivity}, {trigger}) on {conditions.evidence_basis}"
                + (f", fRsi {s.f_rsi}" if conditions.surface_hours_h else ""),
                conditions=conditions.conditions,
            ),
        ),
        new_state,
    )


@dataclass(frozen=True)
class SurfaceHumiditySettings:
    """Surface RH ≥ 80 % sustained (ISO 13788 / IEA Annex 14; ASHRAE 160-2009 30-day mean)."""

    f_rsi: float = CRITICAL_FRSI
    threshold_humidity_pct: float = 80.0
    window_h: int = 24 * 7
    min_hours_h: int = 24 * 7 // 2  # half the week: a design choice, not a standard
    running_mean_h: int = 24 * 30  # ASHRAE 160-2009
    min_running_mean_coverage: float = 0.66
    surface_temperature_c: tuple[float, float] = (
        5.0,
        40.0,
    )  # ASHRAE 160-2009: mean applies at 5–40 °C

    @property
    def lookback_h(self) -> int:
        """The 30-day running mean's window."""
        return max(self.window_h, self.running_mean_h)


def evaluate_surface_humidity(
    frame: pd.DataFrame, context: SensorContext, rule: Rule[SurfaceHumiditySettings], _state: Any
) -> Evaluation:
    """A potential finding when surface RH is ≥ 80 % for most of a week or as a 30-day mean."""
    s = rule.thresholds
    month = hourly(frame, context.now, s.running_mean_h)
    conditions = surface_conditions(month, s.f_rsi)
    rh_month = pd.Series(np.minimum(conditions.humidity_pct, 100.0), index=month.index)
    rh_week = rh_month.iloc[-s.window_h :]
    over = rh_week[rh_week >= s.threshold_humidity_pct]
    coverage = rh_month.notna().mean()
    mean_month = float(rh_month.mean()) if coverage >= s.min_running_mean_coverage else float("nan")
    by_hours = len(over) >= s.min_hours_h
    by_mean = bool(mean_month >= s.threshold_humidity_pct)
    if not (by_hours or by_mean):
        return Evaluation()
    week_conditions = surface_conditions(month.iloc[-s.window_h :], s.f_rsi)
    start, end = span(over.index if by_hours else rh_month.dropna().index)
    return Evaluation(
        (
            rule.finding(
                context,
                window_start=start,
                window_end=end,
                figures={
                    "hours_over_threshold_h": len(over),
                    "surface_rh_pct_mean_7d": float(rh_week.mean()),
                    "surface_rh_pct_mean_30d": mean_month,
                    "condensation_hours_h": int((week_conditions.humidity_pct >= 100.0).sum()),
                    "threshold_surface_rh_pct": s.threshold_humidity_pct,
                },
                confidence=0.7 if conditions.room_air_hours_h == 0 else 0.5,
                evidence_basis=week_conditions.evidence_basis,
                conditions=week_conditions.conditions,
            ),
        )
    )


@dataclass(frozen=True)
class VentilationSettings:
    """Approved Document F (2006): RH > 70 % at most 2 h and > 90 % at most 1 h in any 12 h.

    Hours are hourly means, so "more than 2 h" is 3 or more hours over 70 % in a 12-h window.
    """

    window_h: int = 12
    high_humidity_pct: float = 70.0
    high_max_h: int = 2
    very_high_humidity_pct: float = 90.0
    very_high_max_h: int = 1
    evaluation_h: int = 24  # windows ending in the last day are checked

    @property
    def lookback_h(self) -> int:
        """Every 12-h window ending in the last day."""
        return self.evaluation_h + self.window_h - 1


def evaluate_ventilation(
    frame: pd.DataFrame, context: SensorContext, rule: Rule[VentilationSettings], _state: Any
) -> Evaluation:
    """A potential finding when any 12-h window breaks an Approved Document F limit."""
    s = rule.thresholds
    humidity = column(hourly(frame, context.now, s.lookback_h), "humidity_pct")
    high = (humidity > s.high_humidity_pct).astype(int).rolling(s.window_h, min_periods=1).sum()
    very = (
        (humidity > s.very_high_humidity_pct).astype(int).rolling(s.window_h, min_periods=1).sum()
    )
    checked = slice(s.window_h - 1, None)
    worst_high, worst_very = high.iloc[checked].max(), very.iloc[checked].max()
    if not (worst_high > s.high_max_h or worst_very > s.very_high_max_h):
        return Evaluation()
    breached = humidity[humidity > s.high_humidity_pct]
    start, end = span(breached.index)
    return Evaluation(
        (
            rule.finding(
                context,
                window_start=start,
                window_end=end,
                figures={
                    "hours_over_70_pct_in_12h_h": float(worst_high),
                    "hours_over_90_pct_in_12h_h": float(worst_very),
                    "humidity_pct_max": float(humidity.max()),
                },
                confidence=0.4,
                evidence_basis="room air against the Approved Document F (2006) ventilation criterion",
            ),
        )
    )
