"""Each hazard rule's condition over the rows of an hour just folded (one function per rule).

A condition reads the folded state (rings, day slots, accumulators) and its rule's thresholds
(`rule.thresholds`, from the rule table) and returns, per row, whether it holds. What it works out
that the finding's figures reuse goes into `view.notes` under the rule's key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from detectors.engine.context import HourView
from detectors.engine.sites import site_arrays
from detectors.engine.state import DAYS_D, F, FleetState, Site

Bools = npt.NDArray[np.bool_]


def sustained_humidity(view: HourView, rule: Any) -> Bools:
    """Room RH ≥ threshold for `min_hours_h` of the last `window_h`."""
    th = rule.thresholds
    with np.errstate(invalid="ignore"):
        over = view.ring_rh[:, -th.window_h :] >= th.threshold_humidity_pct
    return np.asarray(over.sum(1) >= th.min_hours_h)


def ventilation_adf(view: HourView, rule: Any) -> Bools:
    """Approved Document F (2006): RH over 70 % for more than 2 h, or 90 % for more than 1 h, in 12 h."""
    th = rule.thresholds
    recent = view.ring_rh[:, -th.window_h :]
    with np.errstate(invalid="ignore"):
        high = (recent > th.high_humidity_pct).sum(1) > th.high_max_h
        very_high = (recent > th.very_high_humidity_pct).sum(1) > th.very_high_max_h
    return np.asarray(high | very_high)


def mould_growth(view: HourView, rule: Any) -> Bools:
    """The VTT index reached its level, rose fast over the trend days, or is projected to reach it."""
    th = rule.thresholds
    s = view.state.arrays
    index_m = s["mould_m"][view.rows]
    week_ago = s["day_end_m"][view.rows, -1 - th.trend_days]
    with np.errstate(invalid="ignore", divide="ignore"):
        rise_per_week = np.where(np.isfinite(week_ago), index_m - week_ago, np.nan)
        rate_per_day = rise_per_week / 7.0
        safe_rate = np.where(rate_per_day > 0, rate_per_day, 1.0)
        projected_days = np.where(rate_per_day > 0, (th.level_index - index_m) / safe_rate, np.inf)
        return np.asarray(
            (index_m >= th.level_index)
            | (rise_per_week >= th.rise_per_week)
            | ((index_m >= th.min_index) & (projected_days <= th.horizon_days))
        )


def mould_raised_in_unoccupied(view: HourView, rule: Any, j: int) -> bool:
    """In an unheated space the index is raised only once it reaches its level."""
    return bool(view.state["mould_m"][int(view.rows[j])] >= rule.thresholds.level_index)


def damp_wme(view: HourView, rule: Any) -> Bools:
    """%WME over the wet threshold for `min_hours_h` of the last `window_h`."""
    th = rule.thresholds
    with np.errstate(invalid="ignore"):
        over = view.ring_wme[:, -th.window_h :] > th.threshold_wme_pct
    return np.asarray(over.sum(1) >= th.min_hours_h)


def leak_step(view: HourView, rule: Any) -> Bools:
    """A step rise of %WME within hours, ending in the last `recent_h`, that room RH does not explain."""
    th = rule.thresholds
    wme, rh = view.ring_wme, view.ring_rh
    leak = np.zeros(view.rows.size, dtype=bool)
    with np.errstate(invalid="ignore"):
        for end in range(1, th.recent_h + 1):
            for k in range(1, th.step_window_h + 1):
                wme_rise = wme[:, -end] - wme[:, -end - k]
                rh_rise = rh[:, -end] - rh[:, -end - k]
                explained = np.isfinite(rh_rise) & (rh_rise >= th.explained_rise_humidity_pct)
                leak |= (wme_rise >= th.step_wme_pct) & ~explained
    return leak


def cold_thresholds(vulnerable: npt.NDArray[np.bool_], settings: Any) -> tuple[F, F, F]:
    """Health, serious and hypothermia thresholds per row, raised for a vulnerable household."""
    raise_c = np.where(vulnerable, settings.vulnerable_raise_c, 0.0)
    return (
        settings.health_c + raise_c,
        settings.serious_c + raise_c,
        settings.hypothermia_c + raise_c,
    )


def excess_cold(view: HourView, rule: Any) -> Bools:
    """In the heating season: the home never reached the health threshold in any living room or
    bedroom over the days (raised on its best-ranked room), or the room averaged the sustained
    hours a day below the serious threshold, or hypothermia-risk hours in the last 24 h.
    """
    c = rule.thresholds
    s = view.state.arrays
    rows = view.rows
    health_c, serious_c, hypo_c = cold_thresholds(view.vulnerable, c)
    in_season = view.local.month in c.season_months
    with np.errstate(invalid="ignore"):
        if in_season:
            home_max, home_days, speaks = home_cold_week(
                view.state, view.sites, rows, view.local.ordinal, c
            )
            never = (home_days >= c.min_days) & (home_max < health_c) & speaks
            per_day = serious_hours_per_day(view.state, rows, view.local.hour, c.days)
            enough = (s["day_measured_h"][rows, -c.days :] >= c.min_hours_per_day_h).sum(
                1
            ) >= c.min_days
            serious = enough & (per_day >= c.sustained_serious_hours_per_day_h)
        else:
            home_max, per_day = np.full(rows.size, np.nan), np.zeros(rows.size)
            never = serious = np.zeros(rows.size, dtype=bool)
        hypothermia = (view.ring_t < hypo_c[:, None]).sum(1) >= c.hypothermia_hours_h
    key = rule.key
    view.notes[f"{key}:hypothermia"] = hypothermia
    view.notes[f"{key}:home_never"] = never
    view.notes[f"{key}:serious"] = serious
    view.notes[f"{key}:home_max_c"] = home_max
    view.notes[f"{key}:per_day_h"] = per_day
    view.notes[f"{key}:health_c"] = health_c
    view.notes[f"{key}:serious_c"] = serious_c
    view.notes[f"{key}:hypothermia_c"] = hypo_c
    return np.asarray((never | serious | hypothermia) & in_season)


def tm59_bedroom_night(view: HourView, rule: Any) -> Bools:
    """Bedroom night hours over the threshold this local year above TM59's limit."""
    return np.asarray(view.state["heat_night_h"][view.rows] > rule.thresholds.max_hours_h)


def _room_limit_h(room: str, th: Any) -> float:
    """TM59 adaptive limit of a room: `max_fraction` of the season's occupied hours (inf if not assessed)."""
    span = th.occupied(room)
    if span is None:
        return np.inf
    return float(th.max_fraction * th.season_days * (span[1] - span[0]))


def adaptive_limit_h(sites: Sequence[Site | None], rows: npt.NDArray[np.int64], th: Any) -> F:
    """TM59 adaptive limit per row (inf where not assessed)."""
    return np.array(
        [
            _room_limit_h(site.room, th) if site is not None else np.inf
            for site in (sites[row] if row < len(sites) else None for row in rows.tolist())
        ],
        dtype=np.float64,
    )


def tm59_adaptive(view: HourView, rule: Any) -> Bools:
    """Occupied season hours with T − Tmax ≥ 1 K above TM59's adaptive limit."""
    where = view.where
    limit = where.by_room([_room_limit_h(room, rule.thresholds) for room in where.rooms], np.inf)
    return np.asarray(view.state["adaptive_h"][view.rows] > limit[view.rows])


@dataclass(frozen=True)
class SurfaceFigures:
    """Surface RH over the last 7 and 30 local days (today included), per row."""

    hours_over_7d_h: npt.NDArray[np.int64]
    mean_7d_pct: F
    mean_30d_pct: F  # NaN below the coverage the rule asks for
    mean_30d_surface_c: F


def surface_figures(state: FleetState, rows: npt.NDArray[np.int64], th: Any) -> SurfaceFigures:
    """The 7-day hours over threshold and the 30-day running means from the day sums.

    Hour counts are summed as integers (exact, as their float sums were) and the 30-day sums are
    taken only on rows with the coverage: at 400,000 rows each float copy of the 30 day slots is
    ~100 MB of fresh memory an hour.
    """
    s = state.arrays
    days_7 = th.window_h // 24
    n = s["surface_day_n"][rows]
    hours_7 = n[:, -days_7:].sum(1, dtype=np.int64)
    hours_30 = n.sum(1, dtype=np.int64)
    enough = np.flatnonzero(hours_30 >= th.min_running_mean_coverage * th.running_mean_h)
    mean_30 = np.full(rows.size, np.nan)
    t_30 = np.full(rows.size, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        rh_7 = s["surface_rh_day_sum"][rows, -days_7:].astype(np.float64).sum(1)
        mean_7 = rh_7 / hours_7
        for out, name in ((mean_30, "surface_rh_day_sum"), (t_30, "surface_t_day_sum")):
            sums = s[name][rows[enough]].astype(np.float64).sum(1)
            out[enough] = sums / hours_30[enough]
    return SurfaceFigures(
        s["surface_day_over_h"][rows, -days_7:].sum(1).astype(np.int64), mean_7, mean_30, t_30
    )


def surface_humidity(view: HourView, rule: Any) -> Bools:
    """Surface RH ≥ 80 % for half the last 7 days' hours, or as a 30-day mean at 5–40 °C (ASHRAE 160-2009)."""
    th = rule.thresholds
    f = surface_figures(view.state, view.rows, th)
    low, high = th.surface_temperature_c
    with np.errstate(invalid="ignore"):
        by_mean = (
            (f.mean_30d_pct >= th.threshold_humidity_pct)
            & (f.mean_30d_surface_c >= low)
            & (f.mean_30d_surface_c <= high)
        )
    return np.asarray((f.hours_over_7d_h >= th.min_hours_h) | by_mean, dtype=bool)


@dataclass(frozen=True)
class ColdHomes:
    """Each state row's home number, whether it is a cold-rule room, and its rank as its home's voice."""

    home: npt.NDArray[np.int64]  # row → home number (rows without a site share one extra number)
    member: npt.NDArray[np.bool_]  # a living room or bedroom (the cold rule's rooms)
    rank: npt.NDArray[np.int64]  # living rooms first, then bedrooms, each in row order
    homes: int


def cold_homes(
    state: FleetState, sites: Sequence[Site | None], rooms: tuple[str, ...]
) -> ColdHomes:
    """The home grouping of the cold rule's rooms.

    The home's "never reached" finding is carried by its best-ranked room with the days measured.
    """
    where = site_arrays(state, sites)
    member = where.in_rooms(rooms)
    place = where.by_room([rooms.index(r) if r in rooms else 0 for r in where.rooms], 0)
    rank = np.where(
        member,
        place.astype(np.int64) * (1 << 40) + np.arange(member.size, dtype=np.int64),
        np.iinfo(np.int64).max,
    )
    return ColdHomes(where.home, member, rank, where.homes)


def home_cold_week(
    state: FleetState,
    sites: Sequence[Site | None],
    rows: npt.NDArray[np.int64],
    ordinal: int,
    c: Any,
) -> tuple[F, npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Per row: its home's highest temperature over the cold rule's days, the most days measured,
    and whether the row speaks for the home (its best-ranked room with `min_days` measured).

    Across the home's living rooms and bedrooms, on local days `ordinal − days + 1 … ordinal` counted
    when a sensor measured `min_hours_per_day_h` (slots aligned by each sensor's own day ordinal).
    """
    g = cold_homes(state, sites, c.rooms)
    s = state.arrays
    homes_here = g.home[rows]
    wanted = np.zeros(g.homes, dtype=bool)
    wanted[homes_here] = True
    sel = np.flatnonzero(g.member & wanted[g.home])  # the living rooms and bedrooms of these homes
    day_ordinal = s["day_ordinal"][sel].astype(np.int64)
    age = (ordinal - day_ordinal)[:, None] + (DAYS_D - 1 - np.arange(DAYS_D))[None, :]
    counted = (
        (day_ordinal > 0)[:, None]
        & (age >= 0)
        & (age < c.days)
        & (s["day_measured_h"][sel] >= c.min_hours_per_day_h)
    )
    with np.errstate(invalid="ignore"):
        row_max = np.where(counted, s["day_max_c"][sel], -np.inf).max(1)
    home_max = np.full(g.homes, -np.inf)
    np.maximum.at(home_max, g.home[sel], row_max)
    home_days = np.zeros(g.homes, dtype=np.int64)
    np.maximum.at(home_days, g.home[sel], counted.sum(1))
    best = np.full(g.homes, np.iinfo(np.int64).max, dtype=np.int64)
    ok = counted.sum(1) >= c.min_days
    np.minimum.at(best, g.home[sel[ok]], g.rank[sel[ok]])
    return home_max[homes_here], home_days[homes_here], best[homes_here] == g.rank[rows]


def serious_hours_per_day(
    state: FleetState, rows: npt.NDArray[np.int64], hour: int, days: int
) -> F:
    """Mean hours a day below the serious threshold over about the last `days`·24 h, per row.

    A rolling week from day slots: today so far, the `days − 1` days before, and the day before
    those weighted by the share of it still inside the window (hours assumed spread evenly); with
    no day before those, the complete days only.
    """
    s = state.arrays
    below = s["day_below_serious_h"][rows, -days - 1 :].astype(np.float64)
    measured = s["day_measured_h"][rows, -days - 1 :].astype(np.float64)
    weight = np.ones((rows.size, days + 1))
    weight[:, 0] = 1.0 - (hour + 1) / 24.0
    # Without the day before (a short history), today's part-day would stand in for nothing: leave it out.
    weight[:, -1] = np.where(measured[:, 0] > 0, 1.0, 0.0)
    below, measured = (below * weight).sum(1), (measured * weight).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(measured > 0, 24.0 * below / np.maximum(measured, 1e-9), 0.0)
