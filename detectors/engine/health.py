"""Sensor health: stuck values, implausible readings, flat batteries, drift and silence.

Fleet tasks for the fleet team, not hazard findings. Each per-hour rule carries `holds` and `task`
in its table entry (`detectors.rules.table.FLEET_RULES`); drift runs when a local day completes
and silence on every pass, each with its table entry's settings and version.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from detectors.engine.context import Edge, HourView
from detectors.engine.sites import site_arrays
from detectors.engine.state import BIT, DRIFT_D, HOUR_S, RING_H, F, FleetState, Site, utc
from detectors.findings import FleetTask, SensorRef
from detectors.rules.sensor_health import drift_figures, drift_holds

Bools = npt.NDArray[np.bool_]


STUCK_RUNS = (
    ("temperature_c", "stuck_run_h"),
    ("humidity_pct", "stuck_humidity_run_h"),
    ("wme_pct", "stuck_wme_run_h"),
)


def stuck_value(view: HourView, rule: Any) -> Bools:
    """A measurement has repeated the same hourly value for its hours (the rule's, per measurement)."""
    stuck = np.zeros(view.rows.size, dtype=bool)
    for name, run in STUCK_RUNS:
        stuck |= view.state[run][view.rows] >= rule.thresholds.hours_for(name)
    return stuck


def out_of_range(view: HourView, rule: Any) -> Bools:
    """Implausible values or jumps in the last day, for the rule's hours."""
    th = rule.thresholds
    t, rh = view.ring_t[:, -th.window_h :], view.ring_rh[:, -th.window_h :]
    with np.errstate(invalid="ignore"):
        bad = (
            (t < th.temperature_c[0])
            | (t > th.temperature_c[1])
            | (rh < th.humidity_pct[0])
            | (rh > th.humidity_pct[1])
        )
        jumps = np.abs(np.diff(t, axis=1)) > th.max_jump_c_per_h
    return np.asarray((bad.sum(1) + jumps.sum(1)) >= th.min_hours_h)


def flat_battery(view: HourView, rule: Any) -> Bools:
    """The battery at or below the rule's level."""
    with np.errstate(invalid="ignore"):
        return np.asarray(view.state["battery_pct"][view.rows] <= rule.thresholds.flat_battery_pct)


def _task(
    edge: Edge,
    rule: Any,
    ref: SensorRef,
    window: tuple[datetime, datetime],
    description: str,
    figures: dict[str, float],
) -> FleetTask:
    return FleetTask(
        home_id=edge.site.home_id,
        sensor=ref,
        kind=rule.key,
        detected_at=edge.end,
        window_start=window[0],
        window_end=window[1],
        description=description,
        rule_key=rule.key,
        rule_version=rule.version,
        figures=figures,
    )


def stuck_task(edge: Edge, rule: Any, ref: SensorRef) -> FleetTask:
    """The stuck measurements and their runs of identical hours."""
    runs = {
        name: int(edge.view.state[run][edge.row])
        for name, run in STUCK_RUNS
        if edge.view.state[run][edge.row] >= rule.thresholds.hours_for(name)
    }
    run_h = max(runs.values(), default=0)
    return _task(
        edge,
        rule,
        ref,
        (edge.end - timedelta(hours=run_h + 1), edge.end),
        f"{', '.join(runs)} repeated the same hourly value for {run_h + 1} h",
        {"hours_identical_h": float(run_h + 1)},
    )


def out_of_range_task(edge: Edge, rule: Any, ref: SensorRef) -> FleetTask:
    """Implausible readings over the last day."""
    return _task(
        edge,
        rule,
        ref,
        (edge.end - timedelta(hours=RING_H), edge.end),
        "implausible readings or jumps in the last day",
        {},
    )


def flat_battery_task(edge: Edge, rule: Any, ref: SensorRef) -> FleetTask:
    """The battery level."""
    battery = float(edge.view.state["battery_pct"][edge.row])
    return _task(
        edge,
        rule,
        ref,
        (edge.end - timedelta(hours=1), edge.end),
        f"battery at {battery:.0f} %",
        {"battery_pct": battery},
    )


def quiet_nanmedian(values: npt.NDArray[np.float64]) -> F:
    """`np.nanmedian(values, axis=1)`: the same arithmetic, without its warning per empty slice.

    Like numpy's median of small slices: sorted (NaN last), the middle value, or the mean of the
    two middle ones. numpy warns once per all-NaN slice, and a fleet has millions of home-days
    with no other sensor to compare: the warnings alone took seconds a pass.
    """
    if values.shape[1] == 0:
        return np.full((values.shape[0], values.shape[2]), np.nan)
    ordered = np.sort(values, axis=1)
    count = (~np.isnan(values)).sum(1, keepdims=True)
    high = count // 2
    low = np.where(count % 2 == 1, high, high - 1)
    last = values.shape[1] - 1
    low_value = np.take_along_axis(ordered, np.clip(low, 0, last), axis=1)
    high_value = np.take_along_axis(ordered, np.clip(high, 0, last), axis=1)
    pair = 0.0 + low_value + high_value  # numpy's sum starts at +0.0: a zero median is +0.0
    return np.where(count > 0, pair / 2.0, np.nan)[:, 0]


def drift_offsets(
    state: FleetState, sites: Sequence[Site | None], th: Any
) -> tuple[npt.NDArray[np.int64], F, F, npt.NDArray[np.int64], F]:
    """Rows assessed for humidity drift, each one's change of offset from its home's others (Pa),
    the recent day-to-day rate of that offset (Pa a day), how many recent days it moved the
    change's way (`rules.sensor_health.drift_figures`) and its mean offset over the last
    `edge_days` (Pa).

    Daily mean vapour pressure over the last complete days; a sensor's offset is its mean minus the
    median of the home's other sensors that day (≥ `min_other_sensors` of them).
    """
    days = th.window_days
    s = state.arrays
    where = site_arrays(state, sites)
    rows = np.flatnonzero(where.registered)
    if rows.size == 0:
        empty = np.zeros(0)
        return np.zeros(0, dtype=np.int64), empty, empty, np.zeros(0, dtype=np.int64), empty
    homes, home_idx = np.unique(where.home[rows], return_inverse=True)
    ordinal = s["day_ordinal"][rows]
    newest = np.zeros(homes.size, dtype=np.int64)
    np.maximum.at(newest, home_idx, ordinal)
    in_step = ordinal == newest[home_idx]  # a sensor behind its home is not compared this time
    count = s["surface_day_n"][rows, -DRIFT_D:-1][:, -days:].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        pv = s["pv_day_sum"][rows, -1 - days : -1].astype(np.float64) / count
    pv[(count < th.min_hours_per_day_h) | ~in_step[:, None]] = np.nan
    order = np.argsort(home_idx, kind="stable")
    sorted_home = home_idx[order]
    first = np.searchsorted(sorted_home, sorted_home, side="left")
    slot = np.arange(order.size) - first
    width = int(slot.max()) + 1
    grid = np.full((homes.size, width, days), np.nan)
    grid[sorted_home, slot] = pv[order]
    offsets = np.full((rows.size, days), np.nan)
    for k in range(width):
        others = np.delete(grid, k, axis=1)
        present = np.isfinite(others).sum(1)
        with np.errstate(invalid="ignore"):
            offset = np.where(
                present >= th.min_other_sensors, grid[:, k] - quiet_nanmedian(others), np.nan
            )
        here = np.flatnonzero(slot == k)
        offsets[order[here]] = offset[sorted_home[here]]
    change, rate, moving = drift_figures(offsets, th)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        recent = np.nanmean(offsets[:, -th.edge_days :], axis=1)
    return rows, change, rate, moving, recent


def drift_tasks(
    state: FleetState, sites: Sequence[Site | None], *, now: datetime, rule: Any = None
) -> list[FleetTask]:
    """Fleet tasks for sensors whose humidity drifts from their home's others (once per episode).

    A sensor already under a stuck-value task is not assessed: its offset wanders with the weather
    because it no longer measures, and it has its task. An episode ends only when the sensor reads
    with its home again (no large change over the window and a recent offset within
    `max_change_pa`): a drifted sensor that stops moving — pinned at 100 % — is still wrong.
    """
    if rule is None:
        from detectors.rules.table import DRIFT

        rule = DRIFT
    th = rule.thresholds
    rows, change, rate, moving, recent = drift_offsets(state, sites, th)
    s = state.arrays
    bit = BIT[rule.key]
    active = s["active"][rows]
    assessed = np.isfinite(change) & np.isfinite(rate) & ((active & BIT["stuck_value"]) == 0)
    holds = assessed & drift_holds(change, moving, th)
    rising = holds & ((active & bit) == 0)
    with np.errstate(invalid="ignore"):
        back = assessed & (np.abs(change) < th.max_change_pa) & (np.abs(recent) < th.max_change_pa)
    s["active"][rows] = np.where(holds, active | bit, np.where(back, active & ~bit, active))
    tasks = []
    for j in np.flatnonzero(rising).tolist():
        row = int(rows[j])
        site = sites[row]
        assert site is not None
        tasks.append(
            FleetTask(
                home_id=site.home_id,
                sensor=SensorRef(*state.keys[row]),
                kind="drift",
                detected_at=now,
                window_start=now - timedelta(days=th.window_days + 1),
                window_end=now,
                description=(
                    f"humidity drifting: offset from the home's other sensors moved "
                    f"{change[j]:+.0f} Pa and is still moving {rate[j]:+.0f} Pa a day"
                ),
                rule_key=rule.key,
                rule_version=rule.version,
                figures={
                    "vapour_pressure_offset_change_pa": round(float(change[j]), 1),
                    "vapour_pressure_offset_rate_pa_per_day": round(float(rate[j]), 1),
                    "max_change_pa": th.max_change_pa,
                    "min_rate_pa_per_day": th.min_rate_pa_per_day,
                },
            )
        )
    return tasks


def update_silence(
    state: FleetState,
    sites: Sequence[Site | None],
    *,
    now: datetime,
    latest_ts_s: npt.NDArray[np.int64],
    rule: Any = None,
) -> tuple[list[FleetTask], list[int]]:
    """Silent tasks for sensors with no new reading for the rule's hours; rows heard again.

    `latest_ts_s` is the newest reading ts per row in this pass's data (0 where none).
    """
    if rule is None:
        from detectors.rules.table import SILENCE

        rule = SILENCE
    silent_h = rule.thresholds.silent_h
    s = state.arrays
    now_s = int(now.timestamp())
    n = len(state.keys)
    newer = latest_ts_s[:n] > s["latest_ts_s"]
    s["latest_ts_s"] = np.where(newer, latest_ts_s[:n], s["latest_ts_s"])
    bit = BIT[rule.key]
    caught_up = s["latest_ts_s"] > now_s - silent_h * HOUR_S  # a replay still running stays silent
    cleared = np.flatnonzero(newer & caught_up & ((s["active"] & bit) != 0))
    s["active"][cleared] &= ~bit
    registered = site_arrays(state, sites).registered
    last = s["latest_ts_s"]
    silent = registered & (last > 0) & (last <= now_s - silent_h * HOUR_S)
    rising = np.flatnonzero(silent & ((s["active"] & bit) == 0))
    s["active"][rising] |= bit
    tasks = []
    for row in rising.tolist():
        site = sites[row]
        assert site is not None
        since = utc(int(last[row]))
        tasks.append(
            FleetTask(
                home_id=site.home_id,
                sensor=SensorRef(*state.keys[row]),
                kind="silent",
                detected_at=now,
                window_start=since,
                window_end=now,
                description=f"no readings since {since.isoformat()}",
                rule_key=rule.key,
                rule_version=rule.version,
                figures={"silent_h": (now_s - int(last[row])) / HOUR_S},
            )
        )
    return tasks, cleared.tolist()
