"""Excess cold: heating-season hours below 18 / 16 / 10 °C in living rooms and bedrooms.

Sources (docs/detectors.md): WHO 2018 18 °C minimum; HHSRS serious below 16 °C, hypothermia risk
below 10 °C, health risk below 19 °C; "never reached 18 °C on any of the previous 7 days" in
social-housing practice — a HOME criterion: this per-sensor rule sees one room, so it applies it to
the room; the fleet fast path (`detectors.fleet`) applies it across the home's living rooms and
bedrooms. The hour counts and the heating test are design choices (settings).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from detectors.rules.rule import (
    Evaluation,
    Rule,
    SensorContext,
    as_utc,
    column,
    hourly,
    local_index,
)


@dataclass(frozen=True)
class ExcessColdSettings:
    """Thresholds in °C, raised by `vulnerable_raise_c` for a vulnerable household."""

    health_c: float = 18.0
    serious_c: float = 16.0
    hypothermia_c: float = 10.0
    vulnerable_raise_c: float = 1.0  # 19 °C: HHSRS health risk; WHO "higher for older people"
    days: int = 7
    min_hours_per_day_h: int = 18  # a day counts when this many hours were measured
    min_days: int = 5
    # Sustained serious cold: the room averaged at least this many hours a day below serious_c over
    # the `days` (per measured hour, x24). A healthy bedroom cooling overnight (heating off 23:00-07:00,
    # 8 h) stays under it; firmware_sim's truth uses the same 12 h/day (half of every day).
    sustained_serious_hours_per_day_h: float = 12.0
    hypothermia_hours_h: int = 6  # in the last 24 h
    heating_rise_c: float = 1.5  # a rise within 3 h that only heating explains
    heating_rise_window_h: int = 3
    season_months: tuple[int, ...] = (10, 11, 12, 1, 2, 3)  # 1 October – 31 March
    rooms: tuple[str, ...] = ("living", "bedroom")

    @property
    def lookback_h(self) -> int:
        """The days of evidence."""
        return 24 * self.days


def evaluate_excess_cold(
    frame: pd.DataFrame, context: SensorContext, rule: Rule[ExcessColdSettings], _state: Any
) -> Evaluation:
    """A finding when the room is held below the thresholds over days, saying if heating runs."""
    s = rule.thresholds
    local_now = pd.Timestamp(context.now).tz_convert(context.timezone)
    if context.room not in s.rooms or local_now.month not in s.season_months:
        return Evaluation()
    raise_c = s.vulnerable_raise_c if context.household.vulnerable else 0.0
    health_c, serious_c, hypo_c = (
        s.health_c + raise_c,
        s.serious_c + raise_c,
        s.hypothermia_c + raise_c,
    )
    week = hourly(frame, context.now, s.lookback_h)
    temperature = column(week, "temperature_c")
    day = pd.Series(local_index(week, context.timezone).date, index=week.index)
    per_day = (
        pd.DataFrame(
            {
                "measured": temperature.notna(),
                "below_health": temperature < health_c,
                "below_serious": temperature < serious_c,
                "rise": (temperature - temperature.shift(s.heating_rise_window_h))
                >= s.heating_rise_c,
                "max": temperature,
            }
        )
        .groupby(day)
        .agg(
            {
                "measured": "sum",
                "below_health": "sum",
                "below_serious": "sum",
                "rise": "any",
                "max": "max",
            }
        )
    )
    days = per_day[per_day["measured"] >= s.min_hours_per_day_h]
    last_day = temperature.iloc[-24:]
    hypo_hours = int((last_day < hypo_c).sum())
    never_reached = len(days) >= s.min_days and bool((days["max"] < health_c).all())
    measured_h = int(days["measured"].sum())
    serious = len(days) >= s.min_days and (
        24.0 * int(days["below_serious"].sum()) >= s.sustained_serious_hours_per_day_h * measured_h
    )
    hypothermia = hypo_hours >= s.hypothermia_hours_h
    if not (never_reached or serious or hypothermia):
        return Evaluation()
    heating_days = int(days["rise"].sum())
    if heating_days * 2 >= max(len(days), 1):
        cause = "heating on but the home does not warm up (points to the home: repairs)"
    else:
        cause = "heating appears off or rarely on (possible fuel poverty: support)"
    emergency = hypothermia and context.household.vulnerable
    measured = temperature.dropna()
    return Evaluation(
        (
            rule.finding(
                context,
                window_start=as_utc(measured.index.min()),
                window_end=context.now,
                figures={
                    "hours_below_health_threshold_h": int((measured < health_c).sum()),
                    "hours_below_serious_threshold_h": int((measured < serious_c).sum()),
                    "hours_below_hypothermia_threshold_h": int((measured < hypo_c).sum()),
                    "hours_below_hypothermia_threshold_24h_h": hypo_hours,
                    "health_threshold_c": health_c,
                    "serious_threshold_c": serious_c,
                    "hypothermia_threshold_c": hypo_c,
                    "temperature_c_max": float(measured.max()),
                    "days_measured_d": len(days),
                    "heating_rise_days_d": heating_days,
                },
                confidence=0.8 if (serious or hypothermia) else 0.6,
                category="emergency" if emergency else "potential",
                evidence_basis=f"room air temperature; {cause}",
            ),
        )
    )
