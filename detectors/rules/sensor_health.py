"""Sensor and fleet health: stuck values, out-of-range bursts, drift, flat battery, silence.

These produce fleet tasks, never hazard findings — but a silent home's hazards are unseen.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from detectors.findings import FleetTask, SensorRef
from detectors.psychro import vapour_pressure_pa
from detectors.rules.rule import (
    MEASUREMENTS,
    FleetRule,
    HomeFleetRule,
    SensorContext,
    as_utc,
    column,
    recent,
    span,
)


def _task(
    rule: FleetRule[Any] | HomeFleetRule[Any],
    home_id: str,
    sensor: SensorRef,
    kind: str,
    now: datetime,
    window: tuple[datetime, datetime],
    description: str,
    figures: dict[str, float],
) -> FleetTask:
    return FleetTask(
        home_id=home_id,
        sensor=sensor,
        kind=kind,
        detected_at=now,
        window_start=window[0],
        window_end=window[1],
        description=description,
        rule_key=rule.key,
        rule_version=rule.version,
        figures=figures,
    )


@dataclass(frozen=True)
class StuckSettings:
    """A measurement that repeats exactly for hours is a stuck sensor (real ones jitter)."""

    hours_h: dict[str, int] | None = None  # per measurement; default below
    saturated_humidity_pct: float = 99.5  # RH pinned at saturation is real, not stuck

    def hours_for(self, name: str) -> int:
        """Hours of identical readings that make `name` stuck."""
        return (self.hours_h or {"temperature_c": 24, "humidity_pct": 24, "wme_pct": 72})[name]

    @property
    def lookback_h(self) -> int:
        """The longest window."""
        return 72


def evaluate_stuck(
    frame: pd.DataFrame, context: SensorContext, rule: FleetRule[StuckSettings]
) -> tuple[FleetTask, ...]:
    """A task per measurement whose every reading over its window is the same value."""
    s = rule.thresholds
    tasks = []
    for name in ("temperature_c", "humidity_pct", "wme_pct"):
        values = column(recent(frame, context.now, s.hours_for(name)), name).dropna()
        if len(values) < s.hours_for(name) * 0.9 or values.nunique() != 1:
            continue
        if name == "humidity_pct" and values.iloc[0] >= s.saturated_humidity_pct:
            continue
        tasks.append(
            _task(
                rule,
                context.home_id,
                context.sensor,
                "stuck_value",
                context.now,
                span(values.index),
                f"{name} has read {values.iloc[0]} for {len(values)} h",
                {"hours_identical_h": len(values), name: float(values.iloc[0])},
            )
        )
    return tuple(tasks)


@dataclass(frozen=True)
class OutOfRangeSettings:
    """Readings no room produces, or jumps no room makes in an hour, `min_hours_h` or more in a day."""

    temperature_c: tuple[float, float] = (-5.0, 45.0)
    humidity_pct: tuple[float, float] = (1.0, 100.0)
    max_jump_c_per_h: float = 8.0
    window_h: int = 24
    min_hours_h: int = 2

    @property
    def lookback_h(self) -> int:
        """One day."""
        return self.window_h + 1


def evaluate_out_of_range(
    frame: pd.DataFrame, context: SensorContext, rule: FleetRule[OutOfRangeSettings]
) -> tuple[FleetTask, ...]:
    """A task when a burst of implausible readings arrives."""
    s = rule.thresholds
    window = recent(frame, context.now, s.lookback_h)
    t, rh = column(window, "temperature_c"), column(window, "humidity_pct")
    bad = (
        (t < s.temperature_c[0])
        | (t > s.temperature_c[1])
        | (rh < s.humidity_pct[0])
        | (rh > s.humidity_pct[1])
        | (t.diff().abs() > s.max_jump_c_per_h)
    )
    bad = bad.iloc[1:]
    if int(bad.sum()) < s.min_hours_h:
        return ()
    return (
        _task(
            rule,
            context.home_id,
            context.sensor,
            "out_of_range",
            context.now,
            span(bad[bad].index),
            f"{int(bad.sum())} implausible hours in {s.window_h} h",
            {"hours_out_of_range_h": int(bad.sum())},
        ),
    )


@dataclass(frozen=True)
class BatterySettings:
    """A battery at or below this level needs changing."""

    flat_battery_pct: float = 10.0

    @property
    def lookback_h(self) -> int:
        """The last day's latest reading."""
        return 24


def evaluate_battery(
    frame: pd.DataFrame, context: SensorContext, rule: FleetRule[BatterySettings]
) -> tuple[FleetTask, ...]:
    """A task when the latest battery reading is flat."""
    battery = column(recent(frame, context.now, rule.lookback_h), "battery_pct").dropna()
    if battery.empty or float(battery.iloc[-1]) > rule.thresholds.flat_battery_pct:
        return ()
    return (
        _task(
            rule,
            context.home_id,
            context.sensor,
            "flat_battery",
            context.now,
            span(battery.index[-1:]),
            f"battery at {battery.iloc[-1]:.0f} %",
            {"battery_pct": float(battery.iloc[-1])},
        ),
    )


@dataclass(frozen=True)
class SilenceSettings:
    """A sensor with no reading for `silent_h` hours is silent; its hazards are unseen."""

    silent_h: int = 6
    window_h: int = 24 * 7

    @property
    def lookback_h(self) -> int:
        """How far back to look for the last reading."""
        return self.window_h


def evaluate_silence(
    frame: pd.DataFrame, context: SensorContext, rule: FleetRule[SilenceSettings]
) -> tuple[FleetTask, ...]:
    """A task when no measurement has arrived for the set time."""
    s = rule.thresholds
    window = recent(frame, context.now, s.window_h)
    present = window[[c for c in MEASUREMENTS if c in window.columns]].notna().any(axis=1)
    heard = window.index[present.to_numpy()] if len(window) else window.index
    last_end = as_utc(heard.max()) + timedelta(hours=1) if len(heard) else None
    since = last_end or context.now - timedelta(hours=s.window_h)
    silent_for_h = (context.now - since) / timedelta(hours=1)
    if silent_for_h < s.silent_h:
        return ()
    seen = f"since {since.isoformat()}" if last_end else f"for at least {s.window_h} h"
    return (
        _task(
            rule,
            context.home_id,
            context.sensor,
            "silent",
            context.now,
            (since, context.now),
            f"no readings {seen}",
            {"silent_h": silent_for_h},
        ),
    )


@dataclass(frozen=True)
class DriftSettings:
    """Humidity drift: a sensor's vapour pressure moving steadily away from the home's others.

    Vapour pressure is nearly uniform through a home while RH is not (a cold bedroom reads a
    higher RH than a warm living room at the same vapour pressure), so each sensor is compared
    as its daily mean vapour pressure minus the median of the home's other sensors that day.
    It is drifting when that offset (a) changed by `max_change_pa` between the first and last
    `edge_days` of the window (150 Pa ≈ 6 % RH at 20 °C) and (b) has kept moving the same way
    for more than a week: on at least `min_trend_steps` of the last `trend_days − 1` day-to-day
    changes it moved `min_rate_pa_per_day` or more in that direction (15 Pa a day ≈ 0.65 % RH a
    day at 20 °C; slower drifts cannot reach (a) within the window anyway). A real moisture
    source that starts in one room — a leak, clothes dried in two rooms, a dead extract fan —
    moves the offset in a step that daily means spread over at most two days, then holds it. A
    room aired more than the rest of the home in a warm spell (a bedroom with its window open at
    night in a heatwave) follows the outdoor air for as long as the spell, a few days, and then
    turns with the weather. A drifting sensor keeps going regardless of the weather, so (b)
    asks for a move sustained over 9 days (7 of 9 changes, so a day or two of weather can
    interrupt it). Both are design choices, evaluated against the simulator (docs/detectors.md).
    """

    window_days: int = 14
    edge_days: int = 3
    max_change_pa: float = 150.0
    min_other_sensors: int = 2
    min_hours_per_day_h: int = 12  # a day's mean vapour pressure counts with this many hours
    trend_days: int = 10
    min_rate_pa_per_day: float = 15.0
    min_trend_steps: int = 7  # of the trend_days − 1 day-to-day changes

    @property
    def lookback_h(self) -> int:
        """The window."""
        return 24 * self.window_days


def drift_figures(
    offsets_pa: npt.ArrayLike, settings: DriftSettings
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Per sensor (rows of daily offsets in Pa, oldest first, NaN for days not compared): the
    change between the first and last `edge_days`; the mean day-to-day change over the last
    `trend_days` (NaN with fewer than `min_trend_steps` changes); and how many of those changes
    moved at least `min_rate_pa_per_day` in the direction of the change."""
    s = settings
    offset = np.atleast_2d(np.asarray(offsets_pa, dtype=np.float64))
    head, tail = offset[:, : s.edge_days], offset[:, -s.edge_days :]
    steps = np.diff(offset[:, -s.trend_days :], axis=1)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ok = (np.isfinite(head).sum(1) >= 2) & (np.isfinite(tail).sum(1) >= 2)
        change = np.where(ok, np.nanmean(tail, axis=1) - np.nanmean(head, axis=1), np.nan)
        steps_ok = np.isfinite(steps).sum(1) >= s.min_trend_steps
        rate = np.where(steps_ok, np.nanmean(steps, axis=1), np.nan)
        moving = (steps * np.sign(change)[:, None] >= s.min_rate_pa_per_day).sum(1)
    return change, rate, moving.astype(np.int64)


def drift_holds(
    change_pa: npt.ArrayLike, moving_steps: npt.ArrayLike, settings: DriftSettings
) -> npt.NDArray[np.bool_]:
    """Whether each sensor is drifting: a large change of offset, still moving its way day by day."""
    change = np.asarray(change_pa, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.asarray(
            np.isfinite(change)
            & (np.abs(change) >= settings.max_change_pa)
            & (np.asarray(moving_steps) >= settings.min_trend_steps),
            dtype=bool,
        )


def evaluate_drift(
    frames: dict[SensorRef, pd.DataFrame],
    home_id: str,
    now: datetime,
    rule: HomeFleetRule[DriftSettings],
) -> tuple[FleetTask, ...]:
    """A task for each sensor whose vapour-pressure offset from the others changes too much."""
    s = rule.thresholds
    if len(frames) < s.min_other_sensors + 1:
        return ()
    daily = {}
    for ref, frame in frames.items():
        window = recent(frame, now, s.lookback_h)
        pv = pd.Series(
            vapour_pressure_pa(column(window, "temperature_c"), column(window, "humidity_pct")),
            index=window.index,
        )
        daily[ref] = pv.resample("D").median()
    table = pd.DataFrame(daily)
    tasks = []
    for ref in table.columns:
        others = table.drop(columns=[ref])
        offset = (table[ref] - others.median(axis=1)).where(
            others.notna().sum(axis=1) >= s.min_other_sensors
        )
        offset = offset.dropna()
        if len(offset) < 2 * s.edge_days:
            continue
        changes, rates, moving = drift_figures(offset.to_numpy()[None, :], s)
        if not drift_holds(changes, moving, s)[0]:
            continue
        change, rate = float(changes[0]), float(rates[0])
        start = as_utc(offset.index[0])
        tasks.append(
            _task(
                rule,
                home_id,
                ref,
                "drift",
                now,
                (start, now),
                f"humidity drifting: offset from the home's other sensors moved {change:+.0f} Pa "
                f"and is still moving {rate:+.0f} Pa a day",
                {
                    "vapour_pressure_offset_change_pa": change,
                    "vapour_pressure_offset_rate_pa_per_day": rate,
                },
            )
        )
    return tuple(tasks)
