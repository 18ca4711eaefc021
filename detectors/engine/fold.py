"""Folding: hourly means into each sensor's state, one hour at a time, in time order.

Pure (no I/O; time is an argument). Per sensor and hour: the rings of hourly means; the VTT mould
index on surface conditions (outdoor temperature known, `psychro`) or room air; the local-day slots
(hours measured and below the cold thresholds, day maximum, heating rise, M at day end, surface RH
and vapour-pressure sums); TM59 night and adaptive hours; the stuck-value run. Then every rule's
condition runs on the folded rows and findings and tasks are emitted on rising edges
(`detectors.engine.emit`). Thresholds come only from the rule table.

A sensor's state only moves when it has data: the hours it missed are folded as gaps when its
next hour arrives, so a gateway replaying its backlog oldest first ends in exactly the state it
would have had on time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from detectors.engine.conditions import cold_thresholds
from detectors.engine.context import HourView
from detectors.engine.emit import emit
from detectors.engine.sites import site_arrays
from detectors.engine.state import (
    DAYS_D,
    HOUR_S,
    RING_H,
    UNOCCUPIED_ROOMS,
    FleetSettings,
    FleetState,
    FoldResult,
    HourBatch,
    Site,
    local_hour,
)
from detectors.mould import MouldState, step_mould
from detectors.psychro import (
    humidity_from_wme_pct,
    surface_rh_pct,
    surface_temperature_c,
    vapour_pressure_pa,
)
from detectors.rules.table import (
    ADAPTIVE_HEAT,
    BEDROOM_NIGHT_HEAT,
    EXCESS_COLD_RULE,
    FLEET_RULES,
    MOULD_GROWTH,
    RULES,
    STUCK,
    SURFACE_HUMIDITY,
)

# The rules the engine runs each hour: every table entry that carries a condition.
ENGINE_RULES = tuple(rule for rule in RULES if rule.holds is not None)
ENGINE_TASKS = tuple(rule for rule in FLEET_RULES if rule.holds is not None)


def running_mean_update(
    trm_c: npt.ArrayLike, day_sum: npt.ArrayLike, day_n: npt.ArrayLike, alpha: float
) -> npt.NDArray[np.float32]:
    """TM59 / BS EN 15251 running mean at a new day: Trm = (1 − α)·Tod(yesterday) + α·Trm(before).

    The first day with outdoor data starts Trm at its mean; a day without keeps Trm.
    """
    trm = np.asarray(trm_c, dtype=np.float64)
    n = np.asarray(day_n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.asarray(day_sum, dtype=np.float64) / n
    updated = np.where(np.isfinite(trm), (1.0 - alpha) * mean + alpha * trm, mean)
    return np.where(n > 0, updated, trm).astype(np.float32)


def _shift(
    ring: npt.NDArray[Any],
    rows: npt.NDArray[np.int64],
    by: npt.NDArray[np.int64],
    fill: float | bool,
) -> None:
    """Shift each row's ring left by `by` slots (≥ 1), filling the freed slots."""
    width = ring.shape[1]
    for step in np.unique(by):
        sel = rows[by == step]
        if step >= width:
            ring[sel] = fill
        else:
            ring[sel, : width - step] = ring[sel, step:]
            ring[sel, width - step :] = fill


def fold_hours(
    state: FleetState,
    batch: HourBatch,
    sites: Sequence[Site | None],
    *,
    timezone: str = "Europe/London",
    settings: FleetSettings | None = None,
) -> FoldResult:
    """Fold hourly means into the state in time order; rows at or before a sensor's state are ignored."""
    del settings  # no engine option is a threshold: every threshold lives in the rule table
    result = FoldResult()
    order = np.lexsort((batch.rows, batch.hour_s))
    hours = batch.hour_s[order]
    bounds = np.flatnonzero(np.diff(hours)) + 1
    for chunk in np.split(np.arange(len(order)), bounds):
        if chunk.size == 0:
            continue
        take = order[chunk]
        hour_s = int(batch.hour_s[take[0]])
        rows = batch.rows[take]
        rows, first = np.unique(rows, return_index=True)
        take = take[first]
        fresh = state["through_s"][rows] <= hour_s
        rows, take = rows[fresh], take[fresh]
        if rows.size:
            _fold_one_hour(state, rows, hour_s, batch, take, sites, timezone, result)
            result.hours_folded += int(rows.size)
    return result


def _fold_one_hour(
    state: FleetState,
    rows: npt.NDArray[np.int64],
    hour_s: int,
    batch: HourBatch,
    take: npt.NDArray[np.int64],
    sites: Sequence[Site | None],
    timezone: str,
    result: FoldResult,
) -> None:
    """Fold one hour into the rows' state, then run every rule's condition and emit on rising edges."""
    s = state.arrays
    t = batch.temperature_c[take]
    rh = batch.humidity_pct[take]
    wme = batch.wme_pct[take]
    battery = batch.battery_pct[take]
    outdoor = batch.outdoor_c[take]
    through = s["through_s"][rows]
    gap = np.where(through == 0, RING_H, (hour_s - through) // HOUR_S).astype(np.int64) + 1
    for name, values in (("temperature_ring", t), ("humidity_ring", rh), ("wme_ring", wme)):
        _shift(s[name], rows, gap, np.nan)
        s[name][rows, -1] = values
    measured = np.isfinite(t) | np.isfinite(rh) | np.isfinite(wme) | np.isfinite(battery)
    s["through_s"][rows] = hour_s + HOUR_S
    s["last_seen_s"][rows] = np.where(measured, hour_s + HOUR_S, s["last_seen_s"][rows])
    s["battery_pct"][rows] = np.where(np.isfinite(battery), battery, s["battery_pct"][rows])

    local = local_hour(hour_s, timezone)
    # Day rings: a new local day shifts the slots.
    days_on = np.where(s["day_ordinal"][rows] == 0, DAYS_D, local.ordinal - s["day_ordinal"][rows])
    moved = days_on > 0
    if moved.any():
        mrows, by = rows[moved], days_on[moved].astype(np.int64)
        for name in ("day_measured_h", "day_below_health_h", "day_below_serious_h"):
            _shift(s[name], mrows, by, 0)
        _shift(s["day_max_c"], mrows, by, np.nan)
        _shift(s["day_heating_rise"], mrows, by, False)
        _shift(s["day_end_m"], mrows, by, np.nan)
        for name in (
            "surface_rh_day_sum",
            "surface_t_day_sum",
            "surface_day_n",
            "surface_day_over_h",
            "pv_day_sum",
        ):
            _shift(s[name], mrows, by, 0)
        s["trm_c"][mrows] = running_mean_update(
            s["trm_c"][mrows],
            s["outdoor_day_sum"][mrows],
            s["outdoor_day_n"][mrows],
            ADAPTIVE_HEAT.thresholds.alpha,
        )
        s["outdoor_day_sum"][mrows] = 0.0
        s["outdoor_day_n"][mrows] = 0
        s["day_ordinal"][mrows] = local.ordinal

    # Mould: surface conditions where outdoor temperature is known, room air elsewhere.
    mould = MOULD_GROWTH.thresholds
    where = site_arrays(state, sites)
    occupied = ~where.in_rooms(UNOCCUPIED_ROOMS)[rows]  # a row without a site counts as lived in
    has_out = (
        np.isfinite(outdoor) & occupied
    )  # an unheated space's air is already near its surfaces
    out_safe = np.where(has_out, outdoor, t)
    with np.errstate(invalid="ignore"):
        t_surface = np.where(has_out, surface_temperature_c(t, out_safe, mould.f_rsi), t)
        rh_surface = np.where(has_out, surface_rh_pct(t, rh, out_safe, mould.f_rsi), rh)
    stepped = step_mould(
        MouldState(s["mould_m"][rows], s["mould_hours_h"][rows]),
        t_surface,
        np.minimum(rh_surface, 100.0),
        mould.sensitivity,
        mould.decline_factor,
    )
    s["mould_m"][rows] = stepped.index_m
    s["mould_hours_h"][rows] = stepped.hours_since_growth_h
    s["mould_room_air_h"][rows] += (np.isfinite(t) & np.isfinite(rh) & ~has_out & occupied).astype(
        np.int32
    )
    s["day_end_m"][rows, -1] = stepped.index_m

    # Surface RH day sums (7-day hours over, 30-day mean) and vapour pressure (drift).
    sh = SURFACE_HUMIDITY.thresholds
    has_th = np.isfinite(t) & np.isfinite(rh)
    capped = np.minimum(rh_surface, 100.0)
    # A damp probe on the wall reads the surface's own moisture: the RH its %WME implies counts
    # where it is higher than the estimate from the critical fRsi (a junction worse than 0.75).
    probe = np.flatnonzero(np.isfinite(wme) & has_th & occupied)
    if probe.size:
        capped[probe] = np.fmax(capped[probe], humidity_from_wme_pct(t_surface[probe], wme[probe]))
    s["surface_rh_day_sum"][rows, -1] += np.where(has_th, capped, 0.0).astype(np.float32)
    s["surface_t_day_sum"][rows, -1] += np.where(has_th, t_surface, 0.0).astype(np.float32)
    s["surface_day_n"][rows, -1] += has_th
    with np.errstate(invalid="ignore"):
        s["surface_day_over_h"][rows, -1] += has_th & (capped >= sh.threshold_humidity_pct)
    s["pv_day_sum"][rows, -1] += np.where(has_th, vapour_pressure_pa(t, rh), 0.0).astype(np.float32)
    s["outdoor_day_sum"][rows] += np.where(has_out, outdoor, 0.0).astype(np.float32)
    s["outdoor_day_n"][rows] += has_out

    # Cold day counters.
    vulnerable = where.vulnerable[rows]
    cold = EXCESS_COLD_RULE.thresholds
    health_c, serious_c, _hypo_c = cold_thresholds(vulnerable, cold)
    has_t = np.isfinite(t)
    s["day_measured_h"][rows, -1] += has_t
    with np.errstate(invalid="ignore"):
        s["day_below_health_h"][rows, -1] += has_t & (t < health_c)
        s["day_below_serious_h"][rows, -1] += has_t & (t < serious_c)
        s["day_max_c"][rows, -1] = np.fmax(s["day_max_c"][rows, -1], t)
        ring_t = s["temperature_ring"][rows]
        rise = (ring_t[:, -1] - ring_t[:, -1 - cold.heating_rise_window_h]) >= cold.heating_rise_c
    s["day_heating_rise"][rows, -1] |= rise

    # TM59 bedroom night hours this local year.
    night = BEDROOM_NIGHT_HEAT.thresholds
    new_year = s["heat_year"][rows] != local.year
    s["heat_night_h"][rows[new_year]] = 0
    s["heat_year"][rows] = local.year
    is_night = local.hour >= night.night_from_hour or local.hour < night.night_to_hour
    if is_night:
        with np.errstate(invalid="ignore"):
            s["heat_night_h"][rows] += (t > night.threshold_c).astype(np.int16)

    # TM59 adaptive: occupied season hours with T − Tmax ≥ 1 K (needs outdoor temperature for Trm).
    ad = ADAPTIVE_HEAT.thresholds
    new_year = s["adaptive_year"][rows] != local.year
    s["adaptive_h"][rows[new_year]] = 0
    s["adaptive_year"][rows] = local.year
    if local.month in ad.season_months:
        intercept = np.where(vulnerable, ad.vulnerable_intercept_c, ad.intercept_c)
        spans = (ad.occupied(room) for room in where.rooms)
        in_use = where.by_room(
            [span is not None and span[0] <= local.hour < span[1] for span in spans], False
        )[rows]
        with np.errstate(invalid="ignore"):
            over = (t - (ad.slope * s["trm_c"][rows] + intercept)) >= ad.exceed_k
        s["adaptive_h"][rows] += (in_use & over).astype(np.int16)

    # Stuck: each measurement's run of identical hourly means (RH pinned at saturation is real).
    ring_rh, ring_wme = s["humidity_ring"][rows], s["wme_ring"][rows]
    saturated = STUCK.thresholds.saturated_humidity_pct
    for name, ring, real in (
        ("stuck_run_h", ring_t, np.ones(rows.size, dtype=bool)),
        ("stuck_humidity_run_h", ring_rh, ring_rh[:, -1] < saturated),
        ("stuck_wme_run_h", ring_wme, np.ones(rows.size, dtype=bool)),
    ):
        same = (ring[:, -1] == ring[:, -2]) & real
        s[name][rows] = np.where(same, s[name][rows] + 1, 0)

    view = HourView(state, rows, sites, local, vulnerable)
    emit(view, hour_s, ENGINE_RULES, ENGINE_TASKS, result)
