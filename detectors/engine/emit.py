"""Findings on rising edges: the generic loop over the rule table, and each rule's figures.

`emit` sets each rule's episode bit on the rows of the hour and, where a condition starts to hold,
builds the finding from the rule's own `figures` function, with the rule's key, version and hazard
from its table entry. No rule is named here but in its own figures function.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from detectors.engine.conditions import adaptive_limit_h, surface_figures
from detectors.engine.context import Edge, Figures, HourView
from detectors.engine.state import BIT, HOUR_S, RING_H, UNOCCUPIED_ROOMS, FoldResult, utc
from detectors.findings import Finding, SensorRef, finite_figures


def emit(
    view: HourView,
    hour_s: int,
    rules: Sequence[Any],
    tasks: Sequence[Any],
    result: FoldResult,
) -> None:
    """Set the episode bits of every rule on the hour's rows; findings and tasks on rising edges."""
    state, rows, sites = view.state, view.rows, view.sites
    active = state["active"][rows]
    end = utc(hour_s + HOUR_S)
    for rule in (*rules, *tasks):
        holds = rule.holds(view, rule)
        bit = BIT[rule.key]
        rising = holds & ((active & bit) == 0)
        active = np.where(holds, active | bit, active & ~bit)
        if not rule.raises:
            continue
        for j in np.flatnonzero(rising).tolist():
            row = int(rows[j])
            site = sites[row] if row < len(sites) else None
            if site is None:
                continue
            if rule.rooms is not None and site.room not in rule.rooms:
                continue
            if getattr(rule, "reads_air", False) and active[j] & BIT["humidity_drift"]:
                active[j] &= ~bit  # a drifting sensor's air readings are not evidence; next hour
                continue
            if site.room in UNOCCUPIED_ROOMS and (
                rule.occupied_only
                or (
                    rule.unoccupied_raises is not None and not rule.unoccupied_raises(view, rule, j)
                )
            ):
                active[j] &= ~bit  # re-checked next hour
                continue
            edge = Edge(view, j, row, site, end)
            ref = SensorRef(*state.keys[row])
            if hasattr(rule, "hazard"):
                result.finding_at.append((row, hour_s))
                result.findings.append(finding(rule, edge, ref))
            else:
                result.task_at.append((row, hour_s))
                result.tasks.append(rule.task(edge, rule, ref))
    state["active"][rows] = active


def finding(rule: Any, edge: Edge, ref: SensorRef) -> Finding:
    """The finding of one rule at one rising edge, from the rule's own figures."""
    with np.errstate(invalid="ignore"):
        f: Figures = rule.figures(edge, rule)
    return Finding(
        home_id=edge.site.home_id,
        sensor=ref,
        room=edge.site.room,
        hazard=rule.hazard,
        category=f.category,  # type: ignore[arg-type]
        window_start=min(f.window_start, f.window_end),
        window_end=f.window_end,
        figures=finite_figures(f.figures),
        confidence=round(min(max(float(f.confidence), 0.0), 1.0), 3),
        rule_key=rule.key,
        rule_version=rule.version,
        evidence_basis=f.basis,
        conditions=f.conditions,  # type: ignore[arg-type]
    )


def ring_window(
    state: Any, row: int, name: str, end: datetime, mask: npt.NDArray[np.bool_] | None = None
) -> tuple[datetime, datetime]:
    """The span of ring hours (where mask holds) ending at `end`."""
    ring = state[name][row]
    hours = np.flatnonzero(np.isfinite(ring) if mask is None else mask)
    if hours.size == 0:
        return end - timedelta(hours=1), end
    first = int(hours[0])
    last = int(hours[-1])
    return end - timedelta(hours=RING_H - first), end - timedelta(hours=RING_H - 1 - last)


ROOM_AIR_FALLBACK = "room air: no outdoor temperature — fell back to room-air criteria"


def _room_air(edge: Edge) -> bool:
    return int(edge.view.state["mould_room_air_h"][edge.row]) > 0


def sustained_humidity(edge: Edge, rule: Any) -> Figures:
    """Hours over the threshold in the window and the highest RH."""
    th = rule.thresholds
    ring_rh = edge.view.state["humidity_ring"][edge.row]
    window = ring_rh[-th.window_h :] >= th.threshold_humidity_pct
    mask = np.zeros(RING_H, dtype=bool)
    mask[-th.window_h :] = window
    start, stop = ring_window(edge.view.state, edge.row, "humidity_ring", edge.end, mask)
    return Figures(
        start,
        stop,
        {
            "hours_over_threshold_h": int(window.sum()),
            "humidity_pct_max": float(np.nanmax(ring_rh[-th.window_h :])),
            "threshold_humidity_pct": th.threshold_humidity_pct,
        },
        float(window.sum() / th.window_h),
        "room air humidity",
    )


def ventilation_adf(edge: Edge, rule: Any) -> Figures:
    """Hours over 70 % and 90 % in the last 12 h."""
    th = rule.thresholds
    ring_rh = edge.view.state["humidity_ring"][edge.row]
    start, stop = ring_window(
        edge.view.state, edge.row, "humidity_ring", edge.end, ring_rh > th.high_humidity_pct
    )
    recent = ring_rh[-th.window_h :]
    return Figures(
        start,
        stop,
        {
            "hours_over_70_pct_in_12h_h": int((recent > th.high_humidity_pct).sum()),
            "hours_over_90_pct_in_12h_h": int((recent > th.very_high_humidity_pct).sum()),
            "humidity_pct_max": float(np.nanmax(ring_rh)),
        },
        0.4,
        "room air against the Approved Document F (2006) ventilation criterion",
    )


def mould_growth(edge: Edge, rule: Any) -> Figures:
    """The index, its rise over the trend days, and the days it is projected to take to its level."""
    th = rule.thresholds
    s = edge.view.state.arrays
    room_air = _room_air(edge)
    m_now = float(s["mould_m"][edge.row])
    week_ago = float(s["day_end_m"][edge.row, -1 - th.trend_days])
    rise = m_now - week_ago if np.isfinite(week_ago) else 0.0
    reached = m_now >= th.level_index
    figures = {
        "mould_index": m_now,
        "mould_index_rise_per_week": rise,
        "level_mould_index": th.level_index,
    }
    if not reached and rise > 0:
        figures["projected_days_to_level_d"] = (th.level_index - m_now) / (rise / 7.0)
    trigger = (
        "reached level"
        if reached
        else ("rising fast" if rise >= th.rise_per_week else "projected to reach level")
    )
    on = (
        ROOM_AIR_FALLBACK
        if room_air
        else f"surface conditions from outdoor temperature, fRsi {th.f_rsi}"
    )
    conditions = "room_air_fallback" if room_air else "surface_model"
    if edge.site.room in UNOCCUPIED_ROOMS:
        on = "the air of an unheated space (roof void, cupboard): the structure's risk, not a lived-in room"
        conditions = "room_air"
    return Figures(
        edge.end - timedelta(days=th.trend_days),
        edge.end,
        figures,
        (0.9 if reached else 0.6) - (0.15 if room_air else 0.0),
        f"VTT mould index ({th.sensitivity}, {trigger}) on {on}",
        conditions=conditions,
    )


def damp_wme(edge: Edge, rule: Any) -> Figures:
    """Hours over the wet threshold in the window, its mean and the highest %WME."""
    th = rule.thresholds
    ring_wme = edge.view.state["wme_ring"][edge.row]
    day = ring_wme[-th.window_h :]
    start, stop = ring_window(
        edge.view.state, edge.row, "wme_ring", edge.end, ring_wme > th.threshold_wme_pct
    )
    return Figures(
        start,
        stop,
        {
            "hours_over_threshold_h": int((day > th.threshold_wme_pct).sum()),
            "wme_pct_mean_24h": float(np.nanmean(day)),
            "wme_pct_max": float(np.nanmax(day)),
            "threshold_wme_pct": th.threshold_wme_pct,
        },
        0.8 if float(np.nanmin(day)) >= th.saturated_wme_pct else 0.6,
        "damp probe (%WME; on masonry qualitative, salts read high)",
    )


def leak_step(edge: Edge, rule: Any) -> Figures:
    """The %WME rise, the hours it took, and whether room RH rose with it."""
    th = rule.thresholds
    s = edge.view.state
    ring_wme, ring_rh = s["wme_ring"][edge.row], s["humidity_ring"][edge.row]
    base = ring_wme[-1 - th.step_window_h - th.recent_h : -1]
    low = int(np.nanargmin(base)) if np.isfinite(base).any() else 0
    hours_back = base.size - low
    rise_wme = float(ring_wme[-1] - base[low]) if np.isfinite(base).any() else float("nan")
    rh_rise = float(ring_rh[-1] - ring_rh[-1 - hours_back])
    known = bool(np.isfinite(rh_rise))
    return Figures(
        edge.end - timedelta(hours=hours_back + 1),
        edge.end,
        {
            "wme_pct_rise": rise_wme,
            "rise_hours_h": hours_back,
            "humidity_pct_rise": rh_rise,
            "wme_pct_now": float(ring_wme[-1]),
            "step_threshold_wme_pct": th.step_wme_pct,
        },
        0.7 if known else 0.5,
        "damp probe step rise; "
        + ("room humidity did not rise with it" if known else "no room humidity to rule out"),
        category="emergency",
    )


def excess_cold(edge: Edge, rule: Any) -> Figures:
    """Hours below each threshold over the days, the highest temperatures, and what the cause looks like."""
    th = rule.thresholds
    key = rule.key
    s = edge.view.state.arrays
    row = edge.row
    days = s["day_measured_h"][row, -th.days :]
    counted_days = days >= th.min_hours_per_day_h
    rises = int(s["day_heating_rise"][row, -th.days :][counted_days].sum())
    counted = int(counted_days.sum())
    cause = (
        "heating on but the home does not warm up (points to the home: repairs)"
        if rises * 2 >= max(counted, 1)
        else "heating appears off or rarely on (possible fuel poverty: support)"
    )
    hypothermia = bool(edge.note(f"{key}:hypothermia"))
    criteria = [
        words
        for words, flag in (
            (
                "the home never reached the health threshold in any living room or bedroom",
                edge.note(f"{key}:home_never"),
            ),
            (
                "the room averaged the sustained hours a day below the serious threshold",
                edge.note(f"{key}:serious"),
            ),
            ("hypothermia-risk hours in the last 24 h", hypothermia),
        )
        if flag
    ]
    health_c = float(edge.note(f"{key}:health_c"))
    hypo_c = float(edge.note(f"{key}:hypothermia_c"))
    ring_t = s["temperature_ring"][row]
    figures = {
        "hours_below_health_threshold_7d_h": int(s["day_below_health_h"][row, -th.days :].sum()),
        "hours_below_serious_threshold_7d_h": int(s["day_below_serious_h"][row, -th.days :].sum()),
        "hours_below_hypothermia_threshold_24h_h": int((ring_t < hypo_c).sum()),
        "health_threshold_c": health_c,
        "serious_threshold_c": float(edge.note(f"{key}:serious_c")),
        "hypothermia_threshold_c": hypo_c,
        "temperature_c_max_7d": float(np.nanmax(s["day_max_c"][row, -th.days :])),
        "days_measured_d": counted,
        "heating_rise_days_d": rises,
        "hours_per_day_below_serious_threshold_7d_h": float(edge.note(f"{key}:per_day_h")),
        "sustained_serious_hours_per_day_h": th.sustained_serious_hours_per_day_h,
    }
    home_max = float(edge.note(f"{key}:home_max_c"))
    if np.isfinite(home_max):
        figures["home_temperature_c_max_7d"] = home_max
    vulnerable = health_c > th.health_c
    return Figures(
        edge.end - timedelta(days=th.days),
        edge.end,
        figures,
        0.8 if (edge.note(f"{key}:serious") or hypothermia) else 0.6,
        f"room air temperature; {'; '.join(criteria)}; {cause}",
        category="emergency" if hypothermia and vulnerable else "potential",
    )


def surface_humidity(edge: Edge, rule: Any) -> Figures:
    """Surface RH hours over the threshold over 7 days and the 30-day means."""
    th = rule.thresholds
    room_air = _room_air(edge)
    f = surface_figures(edge.view.state, np.array([edge.row]), th)
    return Figures(
        edge.end - timedelta(days=th.running_mean_h // 24),
        edge.end,
        {
            "hours_over_threshold_7d_h": int(f.hours_over_7d_h[0]),
            "surface_rh_pct_mean_7d": float(f.mean_7d_pct[0]),
            "surface_rh_pct_mean_30d": float(f.mean_30d_pct[0]),
            "surface_temperature_c_mean_30d": float(f.mean_30d_surface_c[0]),
            "threshold_surface_rh_pct": th.threshold_humidity_pct,
        },
        0.5 if room_air else 0.7,
        (
            ROOM_AIR_FALLBACK
            if room_air
            else f"surface conditions from outdoor temperature, fRsi {th.f_rsi}"
        )
        + "; ISO 13788 / ASHRAE 160-2009 30-day mean",
        conditions="room_air_fallback" if room_air else "surface_model",
    )


def tm59_adaptive(edge: Edge, rule: Any) -> Figures:
    """Season hours over the adaptive limit, the limit and the running mean outdoor temperature."""
    th = rule.thresholds
    s = edge.view.state.arrays
    year = int(s["adaptive_year"][edge.row])
    limit = float(adaptive_limit_h([edge.site], np.array([0]), th)[0])
    return Figures(
        datetime(year, th.season_months[0], 1, tzinfo=UTC),
        edge.end,
        {
            "hours_over_threshold_h": int(s["adaptive_h"][edge.row]),
            "limit_hours_h": limit,
            "running_mean_outdoor_c": float(s["trm_c"][edge.row]),
            "exceed_threshold_k": th.exceed_k,
        },
        0.5,
        "TM59 adaptive criterion from outdoor temperature; "
        "air temperature, not the operative temperature TM59 specifies",
    )


def tm59_bedroom_night(edge: Edge, rule: Any) -> Figures:
    """Bedroom night hours over the threshold this year, against the limit."""
    th = rule.thresholds
    s = edge.view.state.arrays
    year = int(s["heat_year"][edge.row])
    return Figures(
        datetime(year, 1, 1, tzinfo=UTC),
        edge.end,
        {
            "hours_over_threshold_h": int(s["heat_night_h"][edge.row]),
            "limit_hours_h": th.max_hours_h,
            "threshold_c": th.threshold_c,
        },
        0.6,
        "bedroom night hours this year; air temperature, not the operative temperature TM59 specifies",
    )
