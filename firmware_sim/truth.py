"""Ground truth: the intervals in which each hazard or fault truly holds, from the physics.

Every definition works on hourly room-air temperatures (what a sensor reads), local time
Europe/London, and the real calendar of the timestamps:

- damp_and_mould: VTT mould index M ≥ 1 on the room's cold corner (surface conditions), or a
  damp probe above 20 %WME (docs/detectors.md). Evidence carries `mould_index_1_ts`, the hour the
  room's M first reached 1 (during spin-up or the window; None if it never did in the run).
- excess_cold, only in the heating season (local dates 1 October – 31 March), in living rooms
  and bedrooms, holding at an hour when over the preceding 7 days (168 h) either
    (a) the home never reached 18 °C in any living room or bedroom (WHO 2018 minimum; the
        social-housing practice in docs/detectors.md) — every living room and bedroom of the home; or
    (b) the room averaged at least 12 h a day below 16 °C (HHSRS 'serious' band, sustained
        for the week) — that room.
  Evidence: mean hours a day below 19, 18, 16 and 10 °C over the interval (HHSRS / WHO bands).
- excess_heat (CIBSE TM59, docs/detectors.md), counted per calendar year from the start of the run:
    (a) adaptive: hours with T − Tmax ≥ 1 K, Tmax = 0.33·Trm + 21.8, Trm the running mean of
        daily outdoor means (α = 0.8), in occupied hours of May–September (living rooms and
        kitchens 09:00–22:00, bedrooms all day, TM59 §3.4), more than 3 % of that season's
        occupied hours (59.7 h living/kitchen, 110.2 h bedroom);
    (b) bedrooms above 26 °C between 22:00 and 07:00 local for more than 32 h (1 % of annual
        night hours).
  The hazard holds from the hour a criterion is first failed to the end of September.
- leak: from onset (emergency). Faults come from `telemetry.SensorFaults`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from firmware_sim.physics.damp_probe import WME_WET_PCT
from firmware_sim.physics.mould import MOULD_INDEX_GROWTH_STARTS
from firmware_sim.scenarios import HEATING_SEASON_MONTHS, TM59_SEASON_MONTHS
from firmware_sim.simulation import LONDON, ROOM_INDEX, FleetPhysics, RoomConditions

COLD_WEEK_H = 168
WHO_MINIMUM_C = 18.0  # WHO Housing and Health Guidelines (2018)
HHSRS_SERIOUS_C = 16.0  # HHSRS: serious risk below 16 °C
HHSRS_RISK_C = 19.0  # HHSRS: health risk rises below 19 °C
HHSRS_HYPOTHERMIA_C = 10.0  # HHSRS: hypothermia risk below 10 °C
COLD_HOURS_PER_DAY_BELOW_SERIOUS = 12.0  # (b): half of every day, sustained over the 7 days
TM59_ADAPTIVE_EXCEEDANCE_K = 1.0  # TM59 (a): T − Tmax ≥ 1 K
TM59_ADAPTIVE_LIMIT_FRACTION = 0.03  # at most 3 % of occupied hours, May–September
TM59_TMAX_OFFSET_C = 21.8  # Tmax = 0.33·Trm + 21.8 (docs/detectors.md; vulnerable: 20.8)
TM59_BEDROOM_NIGHT_C = 26.0  # TM59 (b): bedrooms 22:00–07:00
TM59_BEDROOM_NIGHT_LIMIT_H = 32.0  # 1 % of annual night hours
TM59_SEASON_DAYS = 153  # 1 May – 30 September
TM59_OCCUPIED_HOURS = {0: range(9, 22), 1: range(24), 2: range(9, 22)}  # TM59 §3.4 profiles
RUNNING_MEAN_ALPHA = 0.8  # BS EN 15251 / TM52 running mean of daily outdoor temperature
CATEGORY = {
    "leak": "emergency",
    "damp_and_mould": "potential",
    "excess_cold": "potential",
    "excess_heat": "potential",
}
ROOM_NAMES = {v: k for k, v in ROOM_INDEX.items()}
_NIGHT_HOURS = (22, 23, 0, 1, 2, 3, 4, 5, 6)


def adaptive_limit_h(kind: int) -> float:
    """TM59 (a) limit: 3 % of the May–September occupied hours of the room kind."""
    return TM59_ADAPTIVE_LIMIT_FRACTION * TM59_SEASON_DAYS * len(TM59_OCCUPIED_HOURS.get(kind, ()))


@dataclass
class TruthRecorder:
    """Collects hourly hazard flags for each room during the published window."""

    physics: FleetPhysics
    hours: list[int] = field(default_factory=list)
    flags: dict[str, list[np.ndarray]] = field(default_factory=dict)
    temperatures: list[np.ndarray] = field(default_factory=list)  # window hours, float16
    _week_n: int = 0
    _trm_c: float | None = None
    _day: int | None = None
    _day_means: list[float] = field(default_factory=list)
    _year: int | None = None

    def __post_init__(self) -> None:
        n = self.physics.room_count
        self._week = np.full((COLD_WEEK_H, n), np.nan)  # the last 7 days of hourly temperatures
        self._adaptive_h, self._night_h = np.zeros(n), np.zeros(n)
        self._heat_failed = np.zeros(n, dtype=bool)
        self.mould_1_ts = np.full(n, -1, dtype=np.int64)  # first hour with M ≥ 1 (−1: not yet)

    def observe(self, c: RoomConditions) -> None:
        """Feed one physics step; acts on whole hours (each observation closes the hour before it)."""
        if c.ts % 3600:
            return
        p = self.physics
        n = p.room_count
        temp = c.temperature_c
        self._week[self._week_n % COLD_WEEK_H] = temp
        self._week_n += 1
        local = datetime.fromtimestamp(c.ts - 3600, LONDON)  # the hour being closed
        day = (c.ts - 3600) // 86400
        if day != self._day:
            if self._day_means:
                day_mean = float(np.mean(self._day_means))
                self._trm_c = (
                    day_mean
                    if self._trm_c is None
                    else ((1 - RUNNING_MEAN_ALPHA) * day_mean + RUNNING_MEAN_ALPHA * self._trm_c)
                )
            self._day, self._day_means = day, []
        self._day_means.append(float(c.outdoor_c[0]))
        if local.year != self._year:
            self._year = local.year
            self._adaptive_h[:], self._night_h[:], self._heat_failed[:] = 0.0, 0.0, False

        kind = p.kind
        trm = self._trm_c if self._trm_c is not None else float(c.outdoor_daily_mean_c[0])
        t_max = 0.33 * trm + TM59_TMAX_OFFSET_C
        summer = local.month in TM59_SEASON_MONTHS
        occupied = np.isin(kind, [k for k, hrs in TM59_OCCUPIED_HOURS.items() if local.hour in hrs])
        if summer:
            self._adaptive_h += occupied & (temp - t_max >= TM59_ADAPTIVE_EXCEEDANCE_K)
        if local.hour in _NIGHT_HOURS:
            self._night_h += (kind == 1) & (temp > TM59_BEDROOM_NIGHT_C)
        limit = np.array([adaptive_limit_h(int(k)) for k in range(4)])[kind]
        self._heat_failed |= ((kind <= 2) & (self._adaptive_h > limit)) | (
            (kind == 1) & (self._night_h > TM59_BEDROOM_NIGHT_LIMIT_H)
        )

        crossed = (p.mould.index >= MOULD_INDEX_GROWTH_STARTS) & (self.mould_1_ts < 0)
        self.mould_1_ts[crossed] = c.ts
        if c.ts <= p.window_start_s:
            return

        living_or_bed = kind <= 1
        cold = np.zeros(n, dtype=bool)
        if local.month in HEATING_SEASON_MONTHS and self._week_n >= COLD_WEEK_H:
            room_max = np.where(living_or_bed, self._week.max(axis=0), -np.inf)
            home_max = np.full(len(p.plans), -np.inf)
            np.maximum.at(home_max, p.home_of_room, room_max)
            never_18 = home_max[p.home_of_room] < WHO_MINIMUM_C
            below_16 = (self._week < HHSRS_SERIOUS_C).sum(
                axis=0
            ) >= COLD_HOURS_PER_DAY_BELOW_SERIOUS * 7
            cold = living_or_bed & (never_18 | below_16)
        self.hours.append(c.ts)
        self.temperatures.append(temp.astype(np.float16))
        flags = {
            "mould": p.mould.index >= MOULD_INDEX_GROWTH_STARTS,
            "wme": p.probe & (c.wme_pct > WME_WET_PCT),
            "excess_cold": cold,
            "excess_heat": self._heat_failed & summer,
            "leak": (p.leak_onset_s >= 0) & (c.ts >= p.leak_onset_s),
        }
        for key, value in flags.items():
            self.flags.setdefault(key, []).append(value)

    def records(self) -> list[dict[str, Any]]:
        """Truth records for hazards: one per contiguous interval per home and room."""
        if not self.hours:
            return []
        p = self.physics
        hours = np.array(self.hours, dtype=np.int64)
        f = {k: np.array(v) for k, v in self.flags.items()}  # (hours, rooms)
        series = {
            "damp_and_mould": f["mould"] | f["wme"],
            "excess_cold": f["excess_cold"],
            "excess_heat": f["excess_heat"],
            "leak": f["leak"],
        }
        temps = np.array(self.temperatures, dtype=np.float32)
        out: list[dict[str, Any]] = []
        for hazard, flag in series.items():
            for room, a, b in _runs(flag):
                plan = p.plans[p.home_of_room[room]]
                kind = ROOM_NAMES[int(p.kind[room])]
                out.append(
                    {
                        "home_id": plan.home_id,
                        "gateway_id": plan.gateway_id,
                        "room": kind,
                        "sensor": next(r.sensor_id for r in plan.rooms if r.room == kind),
                        "kind": "hazard",
                        "hazard": hazard,
                        "category": CATEGORY[hazard],
                        "start_ts": int(hours[a]) - 3600,
                        "end_ts": int(hours[b - 1]) if b < len(hours) else None,
                        "scenario": plan.scenario.key,
                        "evidence": self._evidence(hazard, room, temps[a:b, room]),
                    }
                )
        return out

    def _evidence(self, hazard: str, room: int, temps: np.ndarray) -> dict[str, Any]:
        p = self.physics
        if hazard == "damp_and_mould":
            m1 = int(self.mould_1_ts[room]) if self.mould_1_ts[room] >= 0 else None
            return {"mould_index_max": round(float(p.mould.index[room]), 2), "mould_index_1_ts": m1}
        if hazard == "excess_cold":
            days = max(len(temps) / 24.0, 1e-9)
            return {
                f"hours_per_day_below_{int(t)}c": round(float((temps < t).sum()) / days, 1)
                for t in (HHSRS_RISK_C, WHO_MINIMUM_C, HHSRS_SERIOUS_C, HHSRS_HYPOTHERMIA_C)
            }
        if hazard == "excess_heat":
            return {
                "adaptive_exceedance_h": float(self._adaptive_h[room]),
                "adaptive_limit_h": round(adaptive_limit_h(int(p.kind[room])), 1),
                "bedroom_night_hours_over_26c_h": float(self._night_h[room]),
                "temperature_max_c": round(float(temps.max()), 1),
            }
        return {}


def _runs(flag: np.ndarray) -> list[tuple[int, int, int]]:
    """Contiguous runs of True in each column of a (hours, rooms) array: (room, first, end exclusive)."""
    if flag.size == 0:
        return []
    padded = np.zeros((flag.shape[0] + 2, flag.shape[1]), dtype=np.int8)
    padded[1:-1] = flag
    edges = np.diff(padded, axis=0)
    start_h, start_r = np.nonzero(edges == 1)
    end_h, end_r = np.nonzero(edges == -1)
    starts = sorted(zip(start_r.tolist(), start_h.tolist(), strict=True))
    ends = sorted(zip(end_r.tolist(), end_h.tolist(), strict=True))
    return [(r, a, b) for (r, a), (_, b) in zip(starts, ends, strict=True)]
