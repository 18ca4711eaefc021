"""Ground truth: the intervals in which each hazard or fault truly holds, from the physics.

Every definition works on hourly room-air temperatures (what a sensor reads), local time
Europe/London, and the real calendar of the timestamps:

- damp_and_mould, from the physics of the room's cold corner (its own temperature factor fRsi, the
  true room air and outdoor temperature; docs/detectors.md "Quality"), when any of:
    (a) surface RH ≥ 80 % sustained (BS EN ISO 13788 / IEA Annex 14): for at least half the hours
        of the last 7 days, or as a 30-day running mean while the 30-day mean surface temperature
        is 5–40 °C (ASHRAE 160-2009) — the same criterion and settings as the `surface_humidity`
        rule, which has to assume the UK critical fRsi 0.75 where the truth knows the junction;
    (b) VTT mould index M ≥ 1 on that corner (growth has started);
    (c) a damp probe above 20 %WME.
  So an under-heated home whose cold corner sits at ≥ 80 % is real mould risk even though its
  room RH is moderate, and one whose corner stays below is not, whatever its scenario.
  Evidence carries `mould_index_1_ts`, the hour the room's M first reached 1 (during spin-up or
  the window; None if it never did in the run), and the surface figures at the end of the run.
- excess_cold, only in the heating season (local dates 1 October – 31 March), in living rooms
  and bedrooms, holding at an hour when over the preceding 7 days (168 h) either
    (a) the home never reached 18 °C in any living room or bedroom (WHO 2018 minimum; the
        social-housing practice in docs/detectors.md) — every living room and bedroom of the home; or
    (b) the room averaged at least 12 h a day below 16 °C (HHSRS 'serious' band, sustained
        for the week) — that room.
  Both thresholds are 1 °C higher (19 and 17 °C) in a vulnerable household (someone over 65, a
  child under 5 or a respiratory condition, `homes.vulnerable_household` of the household row the
  simulator writes): WHO 2018 "higher for older people and the sick", HHSRS's most vulnerable
  group; the `excess_cold` rule raises its thresholds by the same 1 °C.
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

from firmware_sim.homes import households_rows, vulnerable_household
from firmware_sim.physics.damp_probe import WME_WET_PCT
from firmware_sim.physics.mould import MOULD_INDEX_GROWTH_STARTS
from firmware_sim.scenarios import HEATING_SEASON_MONTHS, TM59_SEASON_MONTHS
from firmware_sim.simulation import LONDON, ROOM_INDEX, FleetPhysics, RoomConditions

COLD_WEEK_H = 168
WHO_MINIMUM_C = 18.0  # WHO Housing and Health Guidelines (2018)
HHSRS_SERIOUS_C = 16.0  # HHSRS: serious risk below 16 °C
HHSRS_RISK_C = 19.0  # HHSRS: health risk rises below 19 °C
HHSRS_HYPOTHERMIA_C = 10.0  # HHSRS: hypothermia risk below 10 °C
VULNERABLE_RAISE_C = (
    1.0  # = detectors' ExcessColdSettings.vulnerable_raise_c (a test keeps them equal)
)
COLD_HOURS_PER_DAY_BELOW_SERIOUS = 12.0  # (b): half of every day, sustained over the 7 days
# Surface criterion (a): the values of detectors.rules.damp_and_mould.SurfaceHumiditySettings
# (a test keeps them equal; firmware_sim imports nothing of the detectors).
SURFACE_RH_THRESHOLD_PCT = 80.0  # BS EN ISO 13788 / IEA Annex 14
SURFACE_WEEK_H = 168
SURFACE_WEEK_MIN_HOURS_H = 84  # half the week: a design choice shared with the rule
SURFACE_MONTH_H = 720  # ASHRAE 160-2009 30-day running mean
SURFACE_MONTH_TEMPERATURE_C = (5.0, 40.0)  # ASHRAE 160-2009: the mean applies at 5–40 °C
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
        households = households_rows(self.physics.plans, self.physics.seed)
        self.vulnerable_home = np.array([vulnerable_household(h) for h in households], dtype=bool)
        raise_c = np.where(self.vulnerable_home, VULNERABLE_RAISE_C, 0.0)
        self._health_c = WHO_MINIMUM_C + raise_c  # per home
        self._serious_c = (HHSRS_SERIOUS_C + raise_c)[self.physics.home_of_room]  # per room
        # The last 30 days of hourly cold-corner RH (capped at 100) and temperature, spin-up included,
        # with running sums, so the 7-day hours over 80 % and the 30-day means cost O(rooms) an hour.
        self._surface_rh = np.full((SURFACE_MONTH_H, n), np.nan, dtype=np.float32)
        self._surface_t = np.full((SURFACE_MONTH_H, n), np.nan, dtype=np.float32)
        self._surface_n = 0
        self._rh_sum, self._t_sum = np.zeros(n), np.zeros(n)
        self._week_over_h = np.zeros(n)
        self.surface_week_over_h = np.zeros(n)  # as of the last hour observed
        self.surface_month_mean_pct = np.full(n, np.nan)

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
        surface = self._observe_surface(c)
        if c.ts <= p.window_start_s:
            return

        living_or_bed = kind <= 1
        cold = np.zeros(n, dtype=bool)
        if local.month in HEATING_SEASON_MONTHS and self._week_n >= COLD_WEEK_H:
            room_max = np.where(living_or_bed, self._week.max(axis=0), -np.inf)
            home_max = np.full(len(p.plans), -np.inf)
            np.maximum.at(home_max, p.home_of_room, room_max)
            never_18 = (home_max < self._health_c)[p.home_of_room]
            below_16 = (self._week < self._serious_c).sum(
                axis=0
            ) >= COLD_HOURS_PER_DAY_BELOW_SERIOUS * 7
            cold = living_or_bed & (never_18 | below_16)
        self.hours.append(c.ts)
        self.temperatures.append(temp.astype(np.float16))
        flags = {
            "mould": p.mould.index >= MOULD_INDEX_GROWTH_STARTS,
            "surface": surface,
            "wme": p.probe & (c.wme_pct > WME_WET_PCT),
            "excess_cold": cold,
            "excess_heat": self._heat_failed & summer,
            "leak": (p.leak_onset_s >= 0) & (c.ts >= p.leak_onset_s),
        }
        for key, value in flags.items():
            self.flags.setdefault(key, []).append(value)

    def _observe_surface(self, c: RoomConditions) -> np.ndarray:
        """Fold the hour's cold-corner conditions; whether criterion (a) holds for each room."""
        slot = self._surface_n % SURFACE_MONTH_H
        rh = np.minimum(c.surface_humidity_pct, 100.0).astype(np.float32)
        t = c.surface_c.astype(np.float32)
        if self._surface_n >= SURFACE_MONTH_H:  # the hour leaving the 30 days
            self._rh_sum -= self._surface_rh[slot]
            self._t_sum -= self._surface_t[slot]
        if self._surface_n >= SURFACE_WEEK_H:  # the hour leaving the 7 days
            old = (self._surface_n - SURFACE_WEEK_H) % SURFACE_MONTH_H
            self._week_over_h -= self._surface_rh[old] >= SURFACE_RH_THRESHOLD_PCT
        self._surface_rh[slot], self._surface_t[slot] = rh, t
        self._rh_sum += rh
        self._t_sum += t
        self._week_over_h += rh >= SURFACE_RH_THRESHOLD_PCT
        self._surface_n += 1
        by_week = self._week_over_h >= SURFACE_WEEK_MIN_HOURS_H
        if self._surface_n < SURFACE_MONTH_H:
            self.surface_week_over_h = self._week_over_h.copy()
            return by_week
        mean_rh = self._rh_sum / SURFACE_MONTH_H
        mean_t = self._t_sum / SURFACE_MONTH_H
        low, high = SURFACE_MONTH_TEMPERATURE_C
        by_month = (mean_rh >= SURFACE_RH_THRESHOLD_PCT) & (mean_t >= low) & (mean_t <= high)
        self.surface_week_over_h, self.surface_month_mean_pct = self._week_over_h.copy(), mean_rh
        return by_week | by_month

    def records(self) -> list[dict[str, Any]]:
        """Truth records for hazards: one per contiguous interval per home and room."""
        if not self.hours:
            return []
        p = self.physics
        hours = np.array(self.hours, dtype=np.int64)
        f = {k: np.array(v) for k, v in self.flags.items()}  # (hours, rooms)
        series = {
            "damp_and_mould": f["mould"] | f["surface"] | f["wme"],
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
            month = float(self.surface_month_mean_pct[room])
            return {
                "mould_index_max": round(float(p.mould.index[room]), 2),
                "mould_index_1_ts": m1,
                "frsi": float(p.frsi[room]),
                "surface_rh_hours_over_80_7d_h": int(self.surface_week_over_h[room]),
                "surface_rh_mean_30d_pct": round(month, 1) if np.isfinite(month) else None,
            }
        if hazard == "excess_cold":
            days = max(len(temps) / 24.0, 1e-9)
            vulnerable = bool(self.vulnerable_home[p.home_of_room[room]])
            return {
                **{
                    f"hours_per_day_below_{int(t)}c": round(float((temps < t).sum()) / days, 1)
                    for t in (HHSRS_RISK_C, WHO_MINIMUM_C, HHSRS_SERIOUS_C, HHSRS_HYPOTHERMIA_C)
                },
                "vulnerable_household": vulnerable,
                "thresholds_raised_by_c": VULNERABLE_RAISE_C if vulnerable else 0.0,
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
