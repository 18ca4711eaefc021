"""The fleet's physics, stepped together: every room of every home as numpy arrays.

Pure: time is an argument. Schedules (heating, occupancy, cooking, showers) follow local time
in Europe/London; the weather is that of the timestamps' own dates (`physics.weather`), cached
a day at a time, so a January window is cold and a July window holds the seed's heatwave.

Each room is two thermal nodes (air + structure, `physics.thermal.two_node_step_c`): heating
warms the air within minutes while the mass lags, as in a real room with radiators.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from firmware_sim.homes import (
    DESIGN_OUTDOOR_C,
    EMITTER_MARGIN,
    THERMAL_MASS_J_PER_M2_K,
    WINDOW_U_W_PER_M2_K,
    HomePlan,
)
from firmware_sim.physics import damp_probe, moisture, thermal
from firmware_sim.physics.mould import MouldState, step_mould_hour
from firmware_sim.physics.psychrometrics import (
    psat_pa,
    surface_temperature_c,
    vapour_density_kg_m3,
    vapour_pressure_from_density_pa,
    vapour_pressure_pa,
)
from firmware_sim.physics.weather import outdoor_at
from firmware_sim.scenarios import Scenario

LONDON = ZoneInfo("Europe/London")
WEEK_S = 7 * 86400
DAY_S = 86400
SPINUP_S = 45 * DAY_S  # history simulated before the published window so states are developed
MAX_STEP_S = 900
# Exchange of air between a room and the rest of the dwelling through doors (*secondary*:
# inter-zonal flows of 0.5–2 ach, e.g. CIBSE AM10 — a modelling setting).
INTERZONE_ACH = 1.0
# Share of horizontal irradiance on the average window plane (*secondary*, CIBSE Guide J
# tables for E/W/S vertical surfaces over the year ≈ 0.5–0.7) — a setting.
VERTICAL_IRRADIANCE_FACTOR = 0.6
SOLAR_TO_AIR_FRACTION = 0.5  # the rest lands on floors and walls (the mass node) — a setting
# Sensible heat per person, W (CIBSE Guide A Table 6.3: seated ≈ 70–75 W; sleeping lower).
PERSON_AWAKE_W = 75.0
PERSON_ASLEEP_W = 50.0
# Cooking sensible gain: SAP 10.2 Appendix L, 35 + 7·N W on average ≈ 1.2 kWh a day for two,
# delivered over the 1.5 h of cooking → 800 W while cooking.
COOKING_W = 800.0
# Light-coloured curtains or blinds drawn in a warm room: SAP 10.2 Appendix P Table P3, Z = 0.6 (*secondary*).
CURTAIN_SOLAR_FACTOR = 0.6
LEAK_EVAPORATION_KG_PER_H = 0.05  # wet floor evaporating into the kitchen — a setting
HOOD_CAPTURE_FRACTION = (
    0.6  # cooker-hood capture efficiency (*secondary*, ASHRAE RP-1634 ≈ 0.5–0.9)
)
TOP_FLOOR_SOLAR_FACTOR = 1.5  # roof solar load and larger west glazing on a top floor — a setting
# Continuous internal gains of appliances, lighting and water heating: SAP 10.2 Appendix L for a
# 70 m², two-person home gives ≈ 240 W appliances + 50 W lighting + 50–80 W water heating ≈ 4 W/m².
BASE_GAINS_W_PER_M2 = 4.0
# Glazing condenses the room's excess vapour: inner pane at θe + fRsi·(θi − θe), fRsi = 1 − U·Rsi
# (BS EN ISO 6946: Rsi 0.13 m²K/W, U 2.8 → 0.64); vapour transfer by the Lewis relation
# h_m = h_c/(ρ·cp), h_c = 2.5 W/(m²K) (BS EN ISO 6946 horizontal heat flow) → 2.1 mm/s.
GLAZING_FRSI = 1.0 - WINDOW_U_W_PER_M2_K * 0.13
SURFACE_VAPOUR_TRANSFER_M_PER_S = 2.5 / (1.2 * 1005.0)
ROOM_INDEX = {"living": 0, "bedroom": 1, "kitchen": 2, "bathroom": 3}
# SAP 10.2 §9 / Table 9: space heating runs October–May; none June–September.
HEATING_MONTHS = (10, 11, 12, 1, 2, 3, 4, 5)
# CIBSE TM59 §3.3: occupants open windows when the room is above 22 °C (and warmer than outside).
WINDOW_OPENING_ROOM_C = 22.0
# Households differ: the moisture a home's people make (breathing, cooking, washing, drying) varies
# between homes of one kind (BS 5250:2021 Annex G / BS EN ISO 13788 Annex A give ranges, not one
# value, *secondary*): each home's generation is scaled by a factor drawn uniformly from
# 1 ± this, deterministic from the seed. So homes of one scenario straddle a threshold the way
# real ones do, and the truth (physics) — not the scenario's name — decides which are at risk.
HOUSEHOLD_MOISTURE_SPREAD = 0.15
_DEFAULTS = Scenario("defaults", "", 0.0, ())


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


def physics_step_s(interval_s: int) -> int:
    """The physics step for readings every interval_s: divides both the interval and a day."""
    return math.gcd(int(interval_s), MAX_STEP_S)


def local_clock(ts: int) -> tuple[float, bool, int]:
    """Local (Europe/London) hour of day as a float, whether it is a weekend, and the month."""
    local = datetime.fromtimestamp(ts, LONDON)
    return local.hour + local.minute / 60.0, local.weekday() >= 5, local.month


def _floats(xs: list[float] | list[int]) -> np.ndarray:
    """A float array of a list."""
    return np.array(xs, dtype=float)


class FleetPhysics:
    """Every room of the given homes, stepped together from `start(ts)` by `dt_s`."""

    def __init__(
        self,
        plans: list[HomePlan],
        *,
        seed: int,
        window_start_s: int,
        window_end_s: int,
        dt_s: int = 300,
    ):
        if DAY_S % dt_s:
            raise ValueError(f"dt_s {dt_s} must divide a day")
        self.plans = plans
        self.seed = seed
        self.dt_s = dt_s
        self.window_start_s = window_start_s
        self.window_end_s = window_end_s
        rooms = [(h, p, r) for h, p in enumerate(plans) for r in p.rooms]
        self.room_count = len(rooms)
        self.home_of_room = np.array([h for h, _, _ in rooms], dtype=np.int64)
        self.kind = np.array([ROOM_INDEX[r.room] for _, _, r in rooms])
        sc = [p.scenario for _, p, _ in rooms]
        self.volume_m3 = _floats([r.volume_m3 for _, _, r in rooms])
        floor_m2 = _floats([r.floor_area_m2 for _, _, r in rooms])
        ua = _floats(
            [r.fabric_ua_w_per_k * s.ua_scale for (_, _, r), s in zip(rooms, sc, strict=True)]
        )
        self.glazing_m2 = _floats([r.window_area_m2 for _, _, r in rooms])
        self.h_window_w_per_k = self.glazing_m2 * WINDOW_U_W_PER_M2_K
        self.h_opaque_w_per_k = np.maximum(ua - self.h_window_w_per_k, 0.1)
        self.h_air_mass_w_per_k = (
            thermal.MASS_COUPLING_W_PER_M2_K * thermal.MASS_AREA_PER_FLOOR_AREA * floor_m2
        )
        self.c_air_j_per_k = (
            thermal.AIR_HEAT_CAPACITY_J_PER_M3_K * self.volume_m3
            + thermal.FURNITURE_HEAT_CAPACITY_J_PER_M2_K * floor_m2
        )
        self.c_mass_j_per_k = THERMAL_MASS_J_PER_M2_K * floor_m2
        # Household change (scenario.household_change_fraction): before it, the healthy defaults.
        span = window_end_s - window_start_s
        self.change_s = np.array(
            [
                window_start_s + int(s.household_change_fraction * span)
                if s.household_change_fraction is not None
                else -1
                for s in sc
            ],
            dtype=np.int64,
        )
        self.infiltration_after_ach = _floats([s.infiltration_ach for s in sc])
        self.fans_after = np.array([s.extract_fans_work for s in sc])
        self.drying_after = np.array([s.clothes_drying_indoors for s in sc])
        before = self.change_s >= 0
        self.infiltration_before_ach = np.where(
            before, _DEFAULTS.infiltration_ach, self.infiltration_after_ach
        )
        self.fans_before = np.where(before, _DEFAULTS.extract_fans_work, self.fans_after)
        self.drying_before = np.where(before, _DEFAULTS.clothes_drying_indoors, self.drying_after)
        self.infiltration_ach = self.infiltration_before_ach.copy()
        design_loss_w_per_k = ua + thermal.ventilation_conductance_w_per_k(
            self.volume_m3, self.infiltration_after_ach
        )
        self.max_power_w = EMITTER_MARGIN * design_loss_w_per_k * (21.0 - DESIGN_OUTDOOR_C)
        top = np.array([s.top_floor_heat for s in sc])
        # Top floor: roof solar load and big west glazing, roughly doubling solar gain (a setting).
        self.window_area_m2 = _floats([r.window_area_m2 for _, _, r in rooms]) * np.where(
            top, TOP_FLOOR_SOLAR_FACTOR, 1.0
        )
        self.frsi = _floats([s.cold_corner_frsi for s in sc])
        self.probe = np.array([r.damp_probe for _, _, r in rooms])
        heating = np.array([s.heating for s in sc])
        self.heating_after = heating
        self.heating_before = np.where(before, _DEFAULTS.heating, heating)
        # SAP 10.2 Table 9, control type 2: Th2 = 21 − HLP + HLP²/12 (HLP = H / floor area, at most 6).
        hlp = np.minimum(
            np.bincount(self.home_of_room, weights=design_loss_w_per_k)
            / np.bincount(self.home_of_room, weights=floor_m2),
            6.0,
        )[self.home_of_room]
        sap_th2_c = 21.0 - hlp + hlp**2 / 12.0
        other_c = np.array(
            [np.nan if s.other_setpoint_c is None else s.other_setpoint_c for s in sc]
        )
        self.setpoint_after_c = np.where(
            self.kind == 0,
            _floats([s.living_setpoint_c for s in sc]),
            np.where(np.isnan(other_c), sap_th2_c, other_c),
        )
        default_setpoint = np.where(self.kind == 0, _DEFAULTS.living_setpoint_c, sap_th2_c)
        self.setpoint_before_c = np.where(before, default_setpoint, self.setpoint_after_c)
        self.base_gains_w = BASE_GAINS_W_PER_M2 * floor_m2
        self.h_interzone_w_per_k = thermal.ventilation_conductance_w_per_k(
            self.volume_m3, INTERZONE_ACH
        )
        self.window_opening_ach = _floats([s.window_opening_ach for s in sc])
        self.open_at_night = np.array([s.windows_open_at_night for s in sc])
        self.curtains = np.array([s.curtains_drawn_when_warm for s in sc])
        self.occupants = _floats([s.occupants for s in sc])
        self.moisture_scale = np.random.default_rng([seed, 31]).uniform(
            1.0 - HOUSEHOLD_MOISTURE_SPREAD, 1.0 + HOUSEHOLD_MOISTURE_SPREAD, len(plans)
        )[self.home_of_room]
        self.penetrating = np.array([s.penetrating_damp for s in sc]) & (self.kind == 1)
        self.leak_onset_s = np.array(
            [
                window_start_s + int(s.leak_onset_fraction * span)
                if s.leak_onset_fraction is not None and r.room == s.leak_room
                else -1
                for (_, _, r), s in zip(rooms, sc, strict=True)
            ],
            dtype=np.int64,
        )
        # Per-room constant vectors of the schedules, so a step multiplies them by the hour's flags.
        living, bed, kitchen, bath = ((self.kind == i).astype(float) for i in range(4))
        sleepers = np.minimum(
            self.occupants, 2.0
        )  # the main bedroom sleeps two; others sleep in rooms not modelled
        self._gain_static_w = self.base_gains_w + 50.0 * kitchen  # fridge-freezer in the kitchen
        self._gain_awake_w = living * (
            self.occupants * PERSON_AWAKE_W + 100.0
        )  # people, TV and lights
        self._gain_asleep_w = bed * sleepers * PERSON_ASLEEP_W
        self._gain_cooking_w = kitchen * COOKING_W
        self._gain_shower_w = bath * 300.0
        self._vapour_awake_kg_h = living * self.occupants * moisture.PERSON_AWAKE_KG_PER_H
        self._vapour_asleep_kg_h = bed * sleepers * moisture.PERSON_ASLEEP_KG_PER_H
        self._vapour_shower_kg_h = bath * self.occupants * moisture.SHOWER_KG_PER_SHOWER / 0.5
        # clothes dried on airers in the bedroom and by the living-room radiator, half each
        self._vapour_drying_kg_h = (living + bed) * 0.5 * moisture.CLOTHES_DRYING_KG_PER_DAY / 24.0
        self._kitchen, self._bath, self._bed = kitchen > 0, bath > 0, bed > 0
        self._extract_m3_s = (
            kitchen * moisture.KITCHEN_EXTRACT_M3_PER_S + bath * moisture.BATHROOM_EXTRACT_M3_PER_S
        )
        self._any_change = bool((self.change_s >= 0).any())
        self._any_leak = bool((self.leak_onset_s >= 0).any())
        self._surface_vapour_m3_s = SURFACE_VAPOUR_TRANSFER_M_PER_S * self.glazing_m2
        self._iz_flow_m3_s = INTERZONE_ACH * self.volume_m3 / 3600.0
        self.ts = 0
        self.temperature_c = np.full(self.room_count, 18.0)
        self.mass_c = np.full(self.room_count, 18.0)
        self.vapour_kg_m3 = np.full(self.room_count, 0.009)
        self.wme_pct = np.full(self.room_count, 14.0)
        self.mould = MouldState.zeros(self.room_count)
        self._emc_pct: np.ndarray | None = None
        self._home_volume_m3 = np.bincount(
            self.home_of_room, weights=self.volume_m3, minlength=len(plans)
        )
        self._weather_day: int | None = None
        self._weather: tuple[np.ndarray, ...] = ()

    def outdoor_now(self, ts: int) -> tuple[float, float, float, float, float]:
        """Outdoor temperature, RH, horizontal irradiance, rain (mm/h) and daily mean at ts (cached by day)."""
        if ts % self.dt_s:
            o = outdoor_at(self.seed, ts)
            return (
                float(o.temperature_c[0]),
                float(o.humidity_pct[0]),
                float(o.horizontal_w_m2[0]),
                float(o.rain_mm_per_h[0]),
                float(o.daily_mean_c[0]),
            )
        day = ts // DAY_S
        if day != self._weather_day:
            o = outdoor_at(self.seed, np.arange(day * DAY_S, (day + 1) * DAY_S, self.dt_s))
            self._weather = (
                o.temperature_c,
                o.humidity_pct,
                o.horizontal_w_m2,
                o.rain_mm_per_h,
                o.daily_mean_c,
            )
            self._weather_day = day
        i = (ts - day * DAY_S) // self.dt_s
        t, rh, sol, rain, mean = (float(a[i]) for a in self._weather)
        return t, rh, sol, rain, mean

    def _outdoor(self, ts: int) -> tuple[np.ndarray, ...]:
        """Outdoor conditions at ts as one array per room (all homes share the weather)."""
        return tuple(np.full(self.room_count, v) for v in self.outdoor_now(ts))

    def start(self, ts: int) -> None:
        """Initialise every room at ts: air and mass near setpoint, vapour a little above outdoors."""
        self.ts = ts - ts % self.dt_s
        out_c, out_rh, *_ = self.outdoor_now(self.ts)
        heated = self.heating_before != "off"
        self.temperature_c = np.where(
            heated, np.maximum(self.setpoint_before_c - 2.0, out_c + 2.0), max(out_c + 3.0, 18.0)
        )
        self.mass_c = self.temperature_c.copy()
        out_rho = vapour_density_kg_m3(vapour_pressure_pa(out_c, out_rh), out_c)
        self.vapour_kg_m3 = np.full(self.room_count, out_rho + 0.002)

    def step(self) -> RoomConditions:
        """Advance every room by dt_s; returns the conditions at the new time."""
        ts, dt = self.ts, self.dt_s
        hour, weekend, month = local_clock(ts)
        out_c, out_rh, horiz, rain, out_mean = self.outdoor_now(ts)
        at_home_awake = (7 <= hour < 23) if weekend else (7 <= hour < 9 or 17 <= hour < 23)
        asleep = hour >= 23 or hour < 7
        # SAP 10.2 Table 9 heating periods: weekdays 07–09 and 16–23, weekends 07–23.
        sap_period = (7 <= hour < 23) if weekend else (7 <= hour < 9 or 16 <= hour < 23)
        minimal_period = 18 <= hour < 21
        heating_months = month in HEATING_MONTHS
        cooking = (7.5 <= hour < 8.0) or (18.0 <= hour < 19.0) or (weekend and 12.5 <= hour < 13.0)
        shower = 7.0 <= hour < 7.5
        fan_on = 7.0 <= hour < 7.75
        if self._any_change:
            changed = ts >= self.change_s
            infiltration = np.where(
                changed, self.infiltration_after_ach, self.infiltration_before_ach
            )
            fans_work = np.where(changed, self.fans_after, self.fans_before)
            drying = np.where(changed, self.drying_after, self.drying_before)
            heating = np.where(changed, self.heating_after, self.heating_before)
            setpoint_c = np.where(changed, self.setpoint_after_c, self.setpoint_before_c)
        else:
            infiltration, fans_work, drying = (
                self.infiltration_after_ach,
                self.fans_after,
                self.drying_after,
            )
            heating, setpoint_c = self.heating_after, self.setpoint_after_c

        # Windows opened in a warm room by day (bedrooms also at night, if the household does).
        warm = self.temperature_c > WINDOW_OPENING_ROOM_C
        opening = warm & (self.temperature_c > out_c + 1.0)
        if asleep:  # TM59 §3.3: open whenever occupied
            opening &= self.open_at_night & self._bed
        ach = infiltration + opening * self.window_opening_ach
        extract_on = (self._kitchen & cooking) | (self._bath & fan_on)
        extract = self._extract_m3_s * (fans_work & extract_on)
        # Extract fans and hoods throw out warm air as well as vapour: ρ·cp·q W/K.
        h_air_out = (
            self.h_window_w_per_k
            + thermal.AIR_HEAT_PER_ACH_W_PER_M3_K * ach * self.volume_m3
            + thermal.AIR_HEAT_CAPACITY_J_PER_M3_K * extract
        )

        if not heating_months:
            max_power_w = np.zeros(self.room_count)
        else:
            periods = heating == "constant"  # communal heating with no controls: always on
            if sap_period:
                periods |= heating == "sap"
            if minimal_period:
                periods |= heating == "minimal"
            max_power_w = self.max_power_w * periods
        # Sensible gains, W; air through open doors carries heat between rooms (explicit: H·dt/C ≪ 1)
        home_air_c = (
            np.bincount(self.home_of_room, weights=self.temperature_c * self.volume_m3)
            / self._home_volume_m3
        )[self.home_of_room]
        solar = thermal.solar_gain_w(self.window_area_m2, VERTICAL_IRRADIANCE_FACTOR * horiz)
        if horiz > 0.0:
            solar = solar * np.where(self.curtains & warm, CURTAIN_SOLAR_FACTOR, 1.0)
        gains = SOLAR_TO_AIR_FRACTION * solar + self._gain_static_w
        gains += self.h_interzone_w_per_k * (home_air_c - self.temperature_c)
        if at_home_awake:
            gains += self._gain_awake_w
        if asleep:
            gains += self._gain_asleep_w
        if cooking:
            gains += self._gain_cooking_w
        if shower:
            gains += self._gain_shower_w
        mass_gains = (1.0 - SOLAR_TO_AIR_FRACTION) * solar
        args = (
            h_air_out,
            self.h_air_mass_w_per_k,
            self.h_opaque_w_per_k,
            self.c_air_j_per_k,
            self.c_mass_j_per_k,
            dt,
        )
        power = thermal.two_node_thermostat_power_w(
            self.temperature_c,
            self.mass_c,
            out_c,
            gains,
            mass_gains,
            setpoint_c,
            max_power_w,
            *args,
        )
        self.temperature_c, self.mass_c = thermal.two_node_step_c(
            self.temperature_c, self.mass_c, out_c, gains + power, mass_gains, *args
        )

        # Moisture, kg/h
        gen_kg_h = self._vapour_drying_kg_h * drying
        if at_home_awake:
            gen_kg_h += self._vapour_awake_kg_h
        if asleep:
            gen_kg_h += self._vapour_asleep_kg_h
        if shower:
            gen_kg_h += self._vapour_shower_kg_h
        if cooking:
            cooking_h_per_day = 2.0 if weekend else 1.5
            hood_factor = np.where(fans_work, 1.0 - HOOD_CAPTURE_FRACTION, 1.0)
            gen_kg_h += (
                self._kitchen
                * (moisture.COOKING_ELECTRIC_KG_PER_DAY / cooking_h_per_day)
                * hood_factor
            )
        gen_kg_h = gen_kg_h * self.moisture_scale
        leaking = (
            (self.leak_onset_s >= 0) & (ts >= self.leak_onset_s)
            if self._any_leak
            else np.zeros(self.room_count, dtype=bool)
        )
        if self._any_leak:
            gen_kg_h += leaking * LEAK_EVAPORATION_KG_PER_H
        out_rho = float(vapour_density_kg_m3(vapour_pressure_pa(out_c, out_rh), out_c))
        home_mean = (
            np.bincount(self.home_of_room, weights=self.vapour_kg_m3 * self.volume_m3)
            / self._home_volume_m3
        )[self.home_of_room]
        # Outdoor air and the dwelling's mixed air both exchange with the room: combine as one
        # source at their flow-weighted mean vapour density.
        out_flow = ach * self.volume_m3 / 3600.0 + extract
        iz_flow = self._iz_flow_m3_s
        # Condensation on the glazing acts as a sink towards saturation at the pane's temperature.
        pane_c = surface_temperature_c(self.temperature_c, out_c, GLAZING_FRSI)
        pane_rho = vapour_density_kg_m3(psat_pa(pane_c), pane_c)
        cond_flow = self._surface_vapour_m3_s * (self.vapour_kg_m3 > pane_rho)
        total_flow = out_flow + iz_flow + cond_flow
        source_rho = (out_flow * out_rho + iz_flow * home_mean + cond_flow * pane_rho) / total_flow
        self.vapour_kg_m3 = moisture.step_vapour_density_kg_m3(
            self.vapour_kg_m3,
            source_rho,
            gen_kg_h / 3600.0,
            self.volume_m3,
            total_flow * 3600.0 / self.volume_m3,
            0.0,
            dt,
        )
        psat_air = psat_pa(self.temperature_c)
        self.vapour_kg_m3 = np.minimum(
            self.vapour_kg_m3, vapour_density_kg_m3(psat_air, self.temperature_c)
        )
        pv = np.minimum(
            vapour_pressure_from_density_pa(self.vapour_kg_m3, self.temperature_c), psat_air
        )
        rh = 100.0 * pv / psat_air

        theta_si = surface_temperature_c(self.temperature_c, out_c, self.frsi)
        rh_si = np.minimum(100.0 * pv / psat_pa(theta_si), 100.0)

        liquid = np.where(
            leaking & self.probe,
            damp_probe.LEAK_WET_TARGET_PCT,
            np.where(self.penetrating & (rain > 0), damp_probe.PENETRATING_DAMP_TARGET_PCT, 0.0),
        )
        tau = np.where(
            leaking,
            damp_probe.LEAK_WETTING_TIME_CONSTANT_H,
            damp_probe.RAIN_WETTING_TIME_CONSTANT_H,
        )
        if self._emc_pct is None or ts % 3600 == 0:  # EMC follows surface conditions slowly: hourly
            self._emc_pct = damp_probe.equilibrium_moisture_content_pct(theta_si, rh_si)
        self.wme_pct = damp_probe.step_wme_towards_pct(self.wme_pct, self._emc_pct, liquid, tau, dt)

        self.ts = ts + dt
        if self.ts % 3600 == 0:
            self.mould = step_mould_hour(self.mould, theta_si, rh_si)
        out_arr = np.full(self.room_count, out_c)
        return RoomConditions(
            self.ts,
            self.temperature_c,
            rh,
            theta_si,
            rh_si,
            self.wme_pct,
            out_arr,
            np.full(self.room_count, out_mean),
        )
