"""The rule tables: one entry per rule, versioned; a new rule or threshold is a new entry."""

from __future__ import annotations

from typing import Any

from detectors.engine import conditions, emit, health
from detectors.findings import DAMP_AND_MOULD, EXCESS_COLD, EXCESS_HEAT, LEAK
from detectors.rules.cold import ExcessColdSettings, evaluate_excess_cold
from detectors.rules.damp_and_mould import (
    MouldGrowthSettings,
    SurfaceHumiditySettings,
    SustainedHumiditySettings,
    VentilationSettings,
    evaluate_mould_growth,
    evaluate_surface_humidity,
    evaluate_sustained_humidity,
    evaluate_ventilation,
)
from detectors.rules.heat import (
    AdaptiveSettings,
    BedroomNightSettings,
    evaluate_adaptive,
    evaluate_bedroom_night,
)
from detectors.rules.moisture import DampSettings, LeakSettings, evaluate_damp, evaluate_leak
from detectors.rules.rule import FleetRule, HomeFleetRule, Rule
from detectors.rules.sensor_health import (
    BatterySettings,
    DriftSettings,
    OutOfRangeSettings,
    SilenceSettings,
    StuckSettings,
    evaluate_battery,
    evaluate_drift,
    evaluate_out_of_range,
    evaluate_silence,
    evaluate_stuck,
)

SUSTAINED_HUMIDITY: Rule[SustainedHumiditySettings] = Rule(
    "sustained_humidity",
    1,
    DAMP_AND_MOULD,
    SustainedHumiditySettings(),
    evaluate_sustained_humidity,
    holds=conditions.sustained_humidity,
    figures=emit.sustained_humidity,
)
# In an unheated space (registry room "other") the index runs on the space's own air and is
# raised only once it reaches its level (roof timber cycles: trend findings there were noise).
MOULD_GROWTH: Rule[MouldGrowthSettings] = Rule(
    "mould_growth",
    1,
    DAMP_AND_MOULD,
    MouldGrowthSettings(),
    evaluate_mould_growth,
    holds=conditions.mould_growth,
    figures=emit.mould_growth,
    occupied_only=False,
    unoccupied_raises=conditions.mould_raised_in_unoccupied,
)
SURFACE_HUMIDITY: Rule[SurfaceHumiditySettings] = Rule(
    "surface_humidity",
    1,
    DAMP_AND_MOULD,
    SurfaceHumiditySettings(),
    evaluate_surface_humidity,
    holds=conditions.surface_humidity,
    figures=emit.surface_humidity,
)
# Approved Document F: tracked (its figures), never raised as a case: too noisy on its own.
VENTILATION: Rule[VentilationSettings] = Rule(
    "ventilation_adf",
    1,
    DAMP_AND_MOULD,
    VentilationSettings(),
    evaluate_ventilation,
    holds=conditions.ventilation_adf,
    figures=emit.ventilation_adf,
    raises=False,
)
EXCESS_COLD_RULE: Rule[ExcessColdSettings] = Rule(
    "excess_cold",
    2,
    EXCESS_COLD,
    ExcessColdSettings(),
    evaluate_excess_cold,
    holds=conditions.excess_cold,
    figures=emit.excess_cold,
    rooms=ExcessColdSettings().rooms,
)
BEDROOM_NIGHT_HEAT: Rule[BedroomNightSettings] = Rule(
    "tm59_bedroom_night",
    1,
    EXCESS_HEAT,
    BedroomNightSettings(),
    evaluate_bedroom_night,
    holds=conditions.tm59_bedroom_night,
    figures=emit.tm59_bedroom_night,
    rooms=BedroomNightSettings().rooms,
)
ADAPTIVE_HEAT: Rule[AdaptiveSettings] = Rule(
    "tm59_adaptive",
    1,
    EXCESS_HEAT,
    AdaptiveSettings(),
    evaluate_adaptive,
    holds=conditions.tm59_adaptive,
    figures=emit.tm59_adaptive,
    rooms=AdaptiveSettings().rooms,
)
DAMP: Rule[DampSettings] = Rule(
    "damp_wme",
    1,
    DAMP_AND_MOULD,
    DampSettings(),
    evaluate_damp,
    holds=conditions.damp_wme,
    figures=emit.damp_wme,
    occupied_only=False,
    reads_air=False,
)
LEAK_STEP: Rule[LeakSettings] = Rule(
    "leak_step",
    1,
    LEAK,
    LeakSettings(),
    evaluate_leak,
    holds=conditions.leak_step,
    figures=emit.leak_step,
    occupied_only=False,
    reads_air=False,
)

# The order the engine runs and raises them in (and the runner emits findings in).
RULES: tuple[Rule[Any], ...] = (
    SUSTAINED_HUMIDITY,
    VENTILATION,
    MOULD_GROWTH,
    DAMP,
    LEAK_STEP,
    EXCESS_COLD_RULE,
    BEDROOM_NIGHT_HEAT,
    SURFACE_HUMIDITY,
    ADAPTIVE_HEAT,
)

STUCK: FleetRule[StuckSettings] = FleetRule(
    "stuck_value",
    1,
    StuckSettings(),
    evaluate_stuck,
    holds=health.stuck_value,
    task=health.stuck_task,
)
OUT_OF_RANGE: FleetRule[OutOfRangeSettings] = FleetRule(
    "out_of_range",
    1,
    OutOfRangeSettings(),
    evaluate_out_of_range,
    holds=health.out_of_range,
    task=health.out_of_range_task,
)
FLAT_BATTERY: FleetRule[BatterySettings] = FleetRule(
    "flat_battery",
    1,
    BatterySettings(),
    evaluate_battery,
    holds=health.flat_battery,
    task=health.flat_battery_task,
)
SILENCE: FleetRule[SilenceSettings] = FleetRule("silent", 1, SilenceSettings(), evaluate_silence)
FLEET_RULES: tuple[FleetRule[Any], ...] = (STUCK, OUT_OF_RANGE, FLAT_BATTERY, SILENCE)

DRIFT: HomeFleetRule[DriftSettings] = HomeFleetRule(
    "humidity_drift", 3, DriftSettings(), evaluate_drift
)

HOME_FLEET_RULES: tuple[HomeFleetRule[Any], ...] = (DRIFT,)

RULES_BY_KEY: dict[str, Rule[Any]] = {rule.key: rule for rule in RULES}
