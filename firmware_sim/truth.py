"""Ground truth: the intervals in which each hazard or fault truly holds, from the physics.

Hazard keys: damp_and_mould (VTT mould index ≥ 1 on the cold corner, or %WME > 20 on a probe),
excess_cold (24-h running mean of living-room/bedroom air below 16 °C — HHSRS 'serious'),
excess_heat (CIBSE TM59 criteria over the window), leak (from onset; emergency), and faults.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from firmware_sim.physics.damp_probe import WME_WET_PCT
from firmware_sim.physics.mould import MOULD_INDEX_GROWTH_STARTS
from firmware_sim.simulation import ROOM_INDEX, FleetPhysics, RoomConditions

COLD_RUNNING_MEAN_C = 16.0  # HHSRS: serious risk below 16 °C (DETECTORS.md)
TM59_ADAPTIVE_EXCEEDANCE_K = 1.0  # TM59 (a): T − Tmax ≥ 1 K
TM59_ADAPTIVE_LIMIT_FRACTION = 0.03  # at most 3 % of occupied hours
TM59_BEDROOM_NIGHT_C = 26.0  # TM59 (b): bedrooms 22:00–07:00
TM59_BEDROOM_NIGHT_LIMIT_FRACTION = 0.01  # 1 % of night hours (32 h a year)
RUNNING_MEAN_ALPHA = 0.8  # BS EN 15251 / TM52 running mean of daily outdoor temperature
CATEGORY = {"leak": "emergency", "damp_and_mould": "potential", "excess_cold": "potential", "excess_heat": "potential"}
ROOM_NAMES = {v: k for k, v in ROOM_INDEX.items()}


@dataclass
class TruthRecorder:
    """Collects hourly hazard flags for each room during the published window."""

    physics: FleetPhysics
    hours: list[int] = field(default_factory=list)
    flags: dict[str, list[np.ndarray]] = field(default_factory=dict)
    _last24: list[np.ndarray] = field(default_factory=list)
    _trm_c: np.ndarray | None = None
    _day_sum: np.ndarray | None = None
    _day_n: int = 0

    def observe(self, c: RoomConditions) -> None:
        """Feed one physics step; acts on whole hours."""
        if c.ts % 3600:
            return
        self._last24 = ([*self._last24, c.temperature_c.copy()])[-24:]
        self._day_sum = c.outdoor_c.copy() if self._day_sum is None else self._day_sum + c.outdoor_c
        self._day_n += 1
        if self._day_n == 24:
            day_mean = self._day_sum / 24.0
            self._trm_c = day_mean if self._trm_c is None else (1 - RUNNING_MEAN_ALPHA) * day_mean + RUNNING_MEAN_ALPHA * self._trm_c
            self._day_sum, self._day_n = None, 0
        p = self.physics
        if c.ts <= p.window_start_s:
            return
        kind = p.kind
        self.hours.append(c.ts)
        hour_of_day = (c.ts % 86400) // 3600  # UTC hour: a close enough stand-in for GMT/BST here
        running = np.mean(self._last24, axis=0)
        trm = self._trm_c if self._trm_c is not None else c.outdoor_daily_mean_c
        t_max = 0.33 * trm + 21.8
        flags = {
            "mould": p.mould.index >= MOULD_INDEX_GROWTH_STARTS,
            "wme": p.probe & (c.wme_pct > WME_WET_PCT),
            "excess_cold": (len(self._last24) == 24) & (kind <= 1) & (running < COLD_RUNNING_MEAN_C),
            "heat_adaptive": (kind <= 2) & (c.temperature_c - t_max >= TM59_ADAPTIVE_EXCEEDANCE_K),
            "heat_night": (kind == 1) & ((hour_of_day >= 22) | (hour_of_day < 7)) & (c.temperature_c > TM59_BEDROOM_NIGHT_C),
            "leak": (p.leak_onset_s >= 0) & (c.ts >= p.leak_onset_s),
        }
        for key, value in flags.items():
            self.flags.setdefault(key, []).append(value)

    def records(self) -> list[dict]:
        """Truth records for hazards: one per contiguous interval per home and room."""
        if not self.hours:
            return []
        p = self.physics
        hours = np.array(self.hours)
        f = {k: np.array(v) for k, v in self.flags.items()}  # (hours, rooms)
        damp = f["mould"] | f["wme"]
        heat = f["heat_adaptive"] | f["heat_night"]
        adaptive_share = f["heat_adaptive"].mean(axis=0)
        night_hours = np.isin((hours % 86400) // 3600, [22, 23, 0, 1, 2, 3, 4, 5, 6]).sum()
        night_share = f["heat_night"].sum(axis=0) / max(night_hours, 1)
        heat_counts = (adaptive_share > TM59_ADAPTIVE_LIMIT_FRACTION) | (night_share > TM59_BEDROOM_NIGHT_LIMIT_FRACTION)
        out: list[dict] = []
        for room in range(p.room_count):
            series = {"damp_and_mould": damp[:, room], "excess_cold": f["excess_cold"][:, room], "leak": f["leak"][:, room]}
            if heat_counts[room]:
                series["excess_heat"] = heat[:, room]
            for hazard, flag in series.items():
                for start, end in _intervals(hours, flag, p.window_end_s):
                    plan = p.plans[p.home_of_room[room]]
                    kind = ROOM_NAMES[int(p.kind[room])]
                    evidence = {"mould_index_max": round(float(p.mould.index[room]), 2)} if hazard == "damp_and_mould" else {}
                    out.append({
                        "home_id": plan.home_id, "gateway_id": plan.gateway_id, "room": kind,
                        "sensor": next(r.sensor_id for r in plan.rooms if r.room == kind),
                        "kind": "hazard", "hazard": hazard, "category": CATEGORY[hazard],
                        "start_ts": start, "end_ts": end, "scenario": plan.scenario.key, "evidence": evidence,
                    })
        return out


def _intervals(hours: np.ndarray, flag: np.ndarray, window_end_s: int) -> list[tuple[int, int | None]]:
    """Contiguous runs of True as (start, end) in epoch s; end None when still holding at the end."""
    out = []
    start = None
    for ts, on in zip(hours, flag, strict=True):
        if on and start is None:
            start = int(ts) - 3600
        elif not on and start is not None:
            out.append((start, int(ts) - 3600))
            start = None
    if start is not None:
        out.append((start, None))
    return out
