"""The fleet's physics, stepped together: every room of every home as numpy arrays.

Pure: time is an argument. Schedules (heating, occupancy, cooking, showers) follow local time
in Europe/London; weather comes from `physics.weather` at the scenario's climate time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from firmware_sim.homes import DESIGN_OUTDOOR_C, EMITTER_MARGIN, THERMAL_MASS_J_PER_M2_K, HomePlan
from firmware_sim.physics import damp_probe, moisture, thermal
from firmware_sim.physics.mould import MouldState, step_mould_hour
from firmware_sim.physics.psychrometrics import (
    psat_pa,
    surface_temperature_c,
    vapour_density_kg_m3,
    vapour_pressure_pa,
)
from firmware_sim.physics.weather import HEATWAVE_DAYS, heatwave_start_epoch_s, outdoor_at

LONDON = ZoneInfo("Europe/London")
WEEK_S = 7 * 86400
DAY_S = 86400
SPINUP_S = 45 * DAY_S  # history simulated before the published window so states are developed
# Exchange of air between a room and the rest of the dwelling through doors (*secondary*:
# inter-zonal flows of 0.5–2 ach, e.g. CIBSE AM10 — a modelling setting).
INTERZONE_ACH = 1.0
# Share of horizontal irradiance on the average window plane (*secondary*, CIBSE Guide J
# tables for E/W/S vertical surfaces over the year ≈ 0.5–0.7) — a setting.
VERTICAL_IRRADIANCE_FACTOR = 0.6
# Sensible heat per person, W (CIBSE Guide A Table 6.3: seated ≈ 70–75 W; sleeping lower).
PERSON_AWAKE_W = 75.0
PERSON_ASLEEP_W = 50.0
COOKING_W = 1000.0  # hob and oven share reaching the kitchen air (*secondary*)
LEAK_EVAPORATION_KG_PER_H = 0.05  # wet floor evaporating into the kitchen — a setting
HOOD_CAPTURE_FRACTION = 0.6  # cooker-hood capture efficiency (*secondary*, ASHRAE RP-1634 ≈ 0.5–0.9)
TOP_FLOOR_SOLAR_FACTOR = 1.5  # roof solar load and larger west glazing on a top floor — a setting
ROOM_INDEX = {"living": 0, "bedroom": 1, "kitchen": 2, "bathroom": 3}


@dataclass(frozen=True)
class RoomConditions:
    """The physical state of every room at one instant (arrays of length rooms)."""

    ts: int
    temperature_c: np.ndarray
    humidity_pct: np.ndarray
    surface_c: np.ndarray
    surface_humidity_pct: np.ndarray
    wme_pct: np.ndarray
    outdoor_c: np.ndarray
    outdoor_daily_mean_c: np.ndarray


def climate_shift_s(climate: str, window_end_s: int, seed: int) -> int:
    """Whole weeks to add to real time to reach the scenario's season (0 for `real`)."""
    end = datetime.fromtimestamp(window_end_s, LONDON)
    if climate == "heating_season" and end.month not in (10, 11, 12, 1, 2, 3):
        target = int(datetime(end.year, 1, 31, 12, tzinfo=LONDON).timestamp())
    elif climate == "heatwave":
        year = end.year
        target = heatwave_start_epoch_s(seed, year) + (HEATWAVE_DAYS + 2) * DAY_S
        if target > window_end_s:
            target = heatwave_start_epoch_s(seed, year - 1) + (HEATWAVE_DAYS + 2) * DAY_S
    else:
        return 0
    return -math.floor((window_end_s - target) / WEEK_S) * WEEK_S


def _local_clock(ts: int) -> tuple[float, bool]:
    local = datetime.fromtimestamp(ts, LONDON)
    return local.hour + local.minute / 60.0, local.weekday() >= 5


class FleetPhysics:
    """Every room of the given homes, stepped together from `start_s` by `dt_s`."""

    def __init__(self, plans: list[HomePlan], *, seed: int, window_start_s: int, window_end_s: int, dt_s: int = 300):
        self.plans = plans
        self.seed = seed
        self.dt_s = dt_s
        self.window_start_s = window_start_s
        self.window_end_s = window_end_s
        rooms = [(h, p, r) for h, p in enumerate(plans) for r in p.rooms]
        self.room_count = len(rooms)
        self.home_of_room = np.array([h for h, _, _ in rooms])
        self.kind = np.array([ROOM_INDEX[r.room] for _, _, r in rooms])
        sc = [p.scenario for _, p, _ in rooms]
        f = lambda xs: np.array(xs, dtype=float)  # noqa: E731
        self.volume_m3 = f([r.volume_m3 for _, _, r in rooms])
        self.infiltration_ach = f([s.infiltration_ach for s in sc])
        ua = f([r.fabric_ua_w_per_k * s.ua_scale for (_, _, r), s in zip(rooms, sc, strict=True)])
        self.conductance_w_per_k = ua + thermal.ventilation_conductance_w_per_k(self.volume_m3, self.infiltration_ach)
        self.capacity_j_per_k = f([r.floor_area_m2 * THERMAL_MASS_J_PER_M2_K for _, _, r in rooms])
        self.max_power_w = EMITTER_MARGIN * self.conductance_w_per_k * (21.0 - DESIGN_OUTDOOR_C)
        top = np.array([s.top_floor_heat for s in sc])
        # Top floor: roof solar load and big west glazing, roughly doubling solar gain (a setting).
        self.window_area_m2 = f([r.window_area_m2 for _, _, r in rooms]) * np.where(top, TOP_FLOOR_SOLAR_FACTOR, 1.0)
        self.frsi = f([s.cold_corner_frsi for s in sc])
        self.probe = np.array([r.damp_probe for _, _, r in rooms])
        self.heating = np.array([s.heating for s in sc])
        self.setpoint_c = np.where(self.kind == 0, f([s.living_setpoint_c for s in sc]), f([s.other_setpoint_c for s in sc]))
        self.fans_work = np.array([s.extract_fans_work for s in sc])
        self.drying = np.array([s.clothes_drying_indoors for s in sc])
        self.occupants = f([s.occupants for s in sc])
        self.penetrating = np.array([s.penetrating_damp for s in sc]) & (self.kind == 1)
        span = window_end_s - window_start_s
        self.leak_onset_s = np.array(
            [window_start_s + int(s.leak_onset_fraction * span) if s.leak_onset_fraction is not None and r.room == "kitchen" else -1
             for (_, _, r), s in zip(rooms, sc, strict=True)]
        )
        shifts = np.array([climate_shift_s(p.scenario.climate, window_end_s, seed) for p in plans])
        self.shift_of_room = shifts[self.home_of_room]
        self.unique_shifts = np.unique(self.shift_of_room)
        self.ts = None
        self.temperature_c = np.full(self.room_count, 18.0)
        self.vapour_kg_m3 = np.full(self.room_count, 0.009)
        self.wme_pct = np.full(self.room_count, 14.0)
        self.mould = MouldState.zeros(self.room_count)
        self._home_counts = np.bincount(self.home_of_room, minlength=len(plans)).astype(float)

    def _outdoor(self, ts: int):
        """Outdoor conditions per room at real time ts (each at its scenario's climate time)."""
        temp = np.empty(self.room_count)
        rh = np.empty(self.room_count)
        sol = np.empty(self.room_count)
        rain = np.empty(self.room_count)
        mean = np.empty(self.room_count)
        for shift in self.unique_shifts:
            o = outdoor_at(self.seed, ts + int(shift))
            sel = self.shift_of_room == shift
            temp[sel], rh[sel], sol[sel] = o.temperature_c[0], o.humidity_pct[0], o.horizontal_w_m2[0]
            rain[sel], mean[sel] = o.rain_mm_per_h[0], o.daily_mean_c[0]
        return temp, rh, sol, rain, mean

    def start(self, ts: int) -> None:
        """Initialise every room at ts: air at setpoint-ish, vapour a little above outdoors."""
        self.ts = ts
        out_c, out_rh, *_ = self._outdoor(ts)
        self.temperature_c = np.where(self.heating == "off", np.maximum(out_c + 3.0, 18.0), np.maximum(self.setpoint_c - 2.0, out_c + 2.0))
        out_rho = vapour_density_kg_m3(vapour_pressure_pa(out_c, out_rh), out_c)
        self.vapour_kg_m3 = out_rho + 0.002

    def step(self) -> RoomConditions:
        """Advance every room by dt_s; returns the conditions at the new time."""
        ts, dt = self.ts, self.dt_s
        hour, weekend = _local_clock(ts)
        out_c, out_rh, horiz, rain, out_mean = self._outdoor(ts)
        k = self.kind
        at_home_awake = (7 <= hour < 23) if weekend else (7 <= hour < 9 or 17 <= hour < 23)
        asleep = hour >= 23 or hour < 7
        cooking = (7.5 <= hour < 8.0) or (18.0 <= hour < 19.0) or (weekend and 12.5 <= hour < 13.0)
        shower = 7.0 <= hour < 7.5
        fan_on = 7.0 <= hour < 7.75
        n = self.occupants

        sap_on = at_home_awake
        heating_on = np.where(self.heating == "sap", sap_on, np.where(self.heating == "minimal", 18 <= hour < 21, False))
        # Sensible gains, W
        gains = thermal.solar_gain_w(self.window_area_m2, VERTICAL_IRRADIANCE_FACTOR * horiz)
        gains = gains + np.where(k == 0, (n * PERSON_AWAKE_W + 100.0) * at_home_awake, 0.0)
        gains = gains + np.where(k == 1, n * PERSON_ASLEEP_W * asleep, 0.0)
        gains = gains + np.where(k == 2, 50.0 + COOKING_W * cooking, 0.0)
        gains = gains + np.where(k == 3, 300.0 * shower, 0.0)
        power = thermal.thermostat_power_w(
            self.temperature_c, out_c, gains, self.setpoint_c, np.where(heating_on, self.max_power_w, 0.0),
            self.conductance_w_per_k, self.capacity_j_per_k, dt,
        )
        self.temperature_c = thermal.step_temperature_c(
            self.temperature_c, out_c, gains + power, self.conductance_w_per_k, self.capacity_j_per_k, dt
        )

        # Moisture, kg/s
        gen_kg_h = np.where(k == 0, n * moisture.PERSON_AWAKE_KG_PER_H * at_home_awake, 0.0)
        gen_kg_h = gen_kg_h + np.where(k == 1, n * moisture.PERSON_ASLEEP_KG_PER_H * asleep, 0.0)
        cooking_h_per_day = 2.0 if weekend else 1.5
        hood_factor = np.where(self.fans_work, 1.0 - HOOD_CAPTURE_FRACTION, 1.0)
        gen_kg_h = gen_kg_h + np.where(k == 2, moisture.COOKING_ELECTRIC_KG_PER_DAY / cooking_h_per_day * cooking * hood_factor, 0.0)
        gen_kg_h = gen_kg_h + np.where(k == 3, n * moisture.SHOWER_KG_PER_SHOWER / 0.5 * shower, 0.0)
        gen_kg_h = gen_kg_h + np.where((k == 1) & self.drying, moisture.CLOTHES_DRYING_KG_PER_DAY / 24.0, 0.0)
        leaking = (self.leak_onset_s >= 0) & (ts >= self.leak_onset_s)
        gen_kg_h = gen_kg_h + np.where(leaking, LEAK_EVAPORATION_KG_PER_H, 0.0)
        extract = np.where(
            self.fans_work & (((k == 2) & cooking) | ((k == 3) & fan_on)),
            np.where(k == 2, moisture.KITCHEN_EXTRACT_M3_PER_S, moisture.BATHROOM_EXTRACT_M3_PER_S),
            0.0,
        )
        out_rho = vapour_density_kg_m3(vapour_pressure_pa(out_c, out_rh), out_c)
        home_mean = (np.bincount(self.home_of_room, weights=self.vapour_kg_m3 * self.volume_m3)
                     / np.bincount(self.home_of_room, weights=self.volume_m3))[self.home_of_room]
        # Outdoor air and the dwelling's mixed air both exchange with the room: combine as one
        # source at their flow-weighted mean vapour density.
        out_flow = self.infiltration_ach * self.volume_m3 / 3600.0 + extract
        iz_flow = INTERZONE_ACH * self.volume_m3 / 3600.0
        source_rho = (out_flow * out_rho + iz_flow * home_mean) / (out_flow + iz_flow)
        self.vapour_kg_m3 = moisture.step_vapour_density_kg_m3(
            self.vapour_kg_m3, source_rho, gen_kg_h / 3600.0, self.volume_m3,
            (out_flow + iz_flow) * 3600.0 / self.volume_m3, 0.0, dt,
        )
        self.vapour_kg_m3 = moisture.cap_at_saturation_kg_m3(self.vapour_kg_m3, self.temperature_c)
        rh = moisture.room_humidity_pct(self.vapour_kg_m3, self.temperature_c)

        theta_si = surface_temperature_c(self.temperature_c, out_c, self.frsi)
        pv = rh / 100.0 * psat_pa(self.temperature_c)
        rh_si = np.minimum(100.0 * pv / psat_pa(theta_si), 100.0)

        liquid = np.where(leaking & self.probe, damp_probe.LEAK_WET_TARGET_PCT,
                          np.where(self.penetrating & (rain > 0), damp_probe.PENETRATING_DAMP_TARGET_PCT, 0.0))
        tau = np.where(leaking, damp_probe.LEAK_WETTING_TIME_CONSTANT_H, damp_probe.RAIN_WETTING_TIME_CONSTANT_H)
        self.wme_pct = damp_probe.step_wme_pct(self.wme_pct, theta_si, rh_si, liquid, tau, dt)

        self.ts = ts + dt
        if self.ts % 3600 == 0:
            self.mould = step_mould_hour(self.mould, theta_si, rh_si)
        return RoomConditions(self.ts, self.temperature_c, rh, theta_si, rh_si, self.wme_pct, out_c, out_mean)
