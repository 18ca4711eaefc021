"""Sensors and gateways' payloads: measurement noise, faults, batteries, clock skew, messages.

Sensor accuracy: Sensirion SHT3x-class ±0.2 °C / ±2 %RH (datasheet), drawn here as small
Gaussian noise. Values rounded to 0.1 as the gateways send them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from firmware_sim.homes import HomePlan
from firmware_sim.simulation import RoomConditions

TEMPERATURE_NOISE_SD_C = 0.1
HUMIDITY_NOISE_SD_PCT = 0.8
WME_NOISE_SD_PCT = 0.2
BATTERY_DRAIN_PCT_PER_DAY = 0.05  # ~2 years on a pair of AA cells — a setting
DRIFT_C_PER_DAY = 0.3
DRIFT_RH_PCT_PER_DAY = 1.5
MAX_READINGS_PER_MESSAGE = 500  # docs/gateways.md
FAULT_SENSOR_ID = "s1"  # the living-room sensor carries scenario faults
DEAD_BATTERY_START_PCT = 12.0


def telemetry_topic(gateway_id: str) -> str:
    """The contract's telemetry topic of a gateway."""
    return f"homesafe/v1/gw/{gateway_id}/telemetry"


def status_topic(gateway_id: str) -> str:
    """The contract's retained status topic of a gateway."""
    return f"homesafe/v1/gw/{gateway_id}/status"


@dataclass
class SensorFaults:
    """Per-home fault timing and the fault truth it implies."""

    plans: list[HomePlan]
    seed: int
    window_start_s: int
    window_end_s: int
    onset_s: dict[int, int] = field(default_factory=dict)
    dropouts: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    outage: dict[int, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        span = self.window_end_s - self.window_start_s
        for h, plan in enumerate(self.plans):
            s = plan.scenario
            onset = self.window_start_s + int(s.fault_onset_fraction * span)
            if s.fault:
                self.onset_s[h] = onset
            if s.fault == "dropout":
                rng = np.random.default_rng([self.seed, plan.index, 17])
                gaps, t = [], onset
                while t < self.window_end_s:
                    length = int(rng.integers(3, 10)) * 3600
                    gaps.append((t, min(t + length, self.window_end_s)))
                    t += length + int(rng.integers(12, 48)) * 3600
                self.dropouts[h] = gaps
            if s.gateway_offline_s:
                start = self.window_start_s + int(0.4 * span)
                self.outage[h] = (start, min(start + s.gateway_offline_s, self.window_end_s))

    def records(self) -> list[dict[str, Any]]:
        """Truth records for faults (sensor faults, gateway outages and clock skew)."""
        out: list[dict[str, Any]] = []
        for h, plan in enumerate(self.plans):
            s = plan.scenario
            base = {
                "home_id": plan.home_id,
                "gateway_id": plan.gateway_id,
                "kind": "fault",
                "category": None,
                "scenario": s.key,
            }
            if s.fault == "dropout":
                out += [
                    {
                        **base,
                        "room": "living",
                        "sensor": FAULT_SENSOR_ID,
                        "hazard": "dropout",
                        "start_ts": a,
                        "end_ts": b,
                        "evidence": {},
                    }
                    for a, b in self.dropouts[h]
                ]
            elif s.fault:
                out.append(
                    {
                        **base,
                        "room": "living",
                        "sensor": FAULT_SENSOR_ID,
                        "hazard": s.fault,
                        "start_ts": self.onset_s[h],
                        "end_ts": None,
                        "evidence": {},
                    }
                )
            if h in self.outage:
                a, b = self.outage[h]
                out.append(
                    {
                        **base,
                        "room": None,
                        "sensor": None,
                        "hazard": "gateway_offline",
                        "start_ts": a,
                        "end_ts": b,
                        "evidence": {},
                    }
                )
            if s.clock_skew_s:
                out.append(
                    {
                        **base,
                        "room": None,
                        "sensor": None,
                        "hazard": "clock_skew",
                        "start_ts": self.window_start_s,
                        "end_ts": None,
                        "evidence": {"skew_s": s.clock_skew_s},
                    }
                )
        return out

    def offline_all(self, ts: int) -> list[bool]:
        """Whether each home's gateway is cut off at ts."""
        cut = [False] * len(self.plans)
        for h, (a, b) in self.outage.items():
            cut[h] = a <= ts < b
        return cut

    def offline(self, home: int, ts: int) -> bool:
        """Whether the home's gateway is cut off at ts."""
        window = self.outage.get(home)
        return window is not None and window[0] <= ts < window[1]


class ReadingFactory:
    """Turns room conditions into each gateway's readings (noise, faults, batteries, skew)."""

    def __init__(self, plans: list[HomePlan], faults: SensorFaults, seed: int):
        self.plans = plans
        self.faults = faults
        self.rng = np.random.default_rng([seed, 23])
        self.battery_start = np.random.default_rng([seed, 29]).uniform(
            55.0, 100.0, size=sum(len(p.rooms) for p in plans)
        )
        self._stuck: dict[int, dict[str, Any]] = {}
        self.seq = [0] * len(plans)

    def readings(self, c: RoomConditions) -> list[list[dict[str, Any]]]:
        """Readings of every home at c.ts (one list per home, in sensor order)."""
        n = len(c.temperature_c)
        temp = np.round(c.temperature_c + self.rng.normal(0, TEMPERATURE_NOISE_SD_C, n), 1).tolist()
        rh = np.round(
            np.clip(c.humidity_pct + self.rng.normal(0, HUMIDITY_NOISE_SD_PCT, n), 0.0, 100.0), 1
        ).tolist()
        wme = np.round(
            np.clip(c.wme_pct + self.rng.normal(0, WME_NOISE_SD_PCT, n), 0.0, 100.0), 1
        ).tolist()
        days = (c.ts - self.faults.window_start_s) / 86400.0
        battery = np.round(
            np.clip(self.battery_start - BATTERY_DRAIN_PCT_PER_DAY * days, 0.0, 100.0), 1
        ).tolist()
        out, j = [], 0
        for h, plan in enumerate(self.plans):
            s = plan.scenario
            ts = int(c.ts) + s.clock_skew_s
            home = []
            for room in plan.rooms:
                r: dict[str, Any] | None = {
                    "sensor": room.sensor_id,
                    "ts": ts,
                    "temperature_c": temp[j],
                    "humidity_pct": rh[j],
                    "battery_pct": battery[j],
                }
                assert r is not None
                if room.damp_probe:
                    r["wme_pct"] = wme[j]
                j += 1
                if s.fault and room.sensor_id == FAULT_SENSOR_ID:
                    r = self._apply_fault(h, s.fault, r, c.ts)
                    if r is None:
                        continue
                home.append(r)
            out.append(home)
        return out

    def _apply_fault(self, h: int, fault: str, r: dict[str, Any], ts: int) -> dict[str, Any] | None:
        onset = self.faults.onset_s[h]
        if fault == "dead_battery":
            left = (
                DEAD_BATTERY_START_PCT * (onset - ts) / max(onset - self.faults.window_start_s, 1)
            )
            if left <= 0:
                return None
            return {**r, "battery_pct": round(left, 1)}
        if ts < onset:
            return r
        if fault == "stuck_value":
            stuck = self._stuck.setdefault(h, {k: r[k] for k in ("temperature_c", "humidity_pct")})
            return {**r, **stuck}
        if fault == "drift":
            d = (ts - onset) / 86400.0
            return {
                **r,
                "temperature_c": round(r["temperature_c"] + DRIFT_C_PER_DAY * d, 1),
                "humidity_pct": round(min(r["humidity_pct"] + DRIFT_RH_PCT_PER_DAY * d, 100.0), 1),
            }
        if fault == "dropout":
            if any(a <= ts < b for a, b in self.faults.dropouts[h]):
                return None
        return r

    def message(self, home: int, readings: list[dict[str, Any]]) -> bytes:
        """One contract payload for a home's readings, with the gateway's next seq."""
        payload = orjson.dumps({"v": 1, "seq": self.seq[home], "readings": readings})
        self.seq[home] += 1
        return payload


def chunk_readings(
    readings: list[dict[str, Any]], size: int = MAX_READINGS_PER_MESSAGE
) -> list[list[dict[str, Any]]]:
    """Split readings into message-sized lists (the contract allows at most 500 per message)."""
    return [readings[i : i + size] for i in range(0, len(readings), size)]
