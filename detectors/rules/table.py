"""The rule tables: one entry per rule, versioned; a new rule or threshold is a new entry."""

from __future__ import annotations

from typing import Any

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
)
MOULD_GROWTH: Rule[MouldGrowthSettings] = Rule(
    "mould_growth", 1, DAMP_AND_MOULD, MouldGrowthSettings(), evaluate_mould_growth
)
SURFACE_HUMIDITY: Rule[SurfaceHumiditySettings] = Rule(
    "surface_humidity", 1, DAMP_AND_MOULD, SurfaceHumiditySettings(), evaluate_surface_humidity
)
VENTILATION: Rule[VentilationSettings] = Rule(
    "ventilation_adf", 1, DAMP_AND_MOULD, VentilationSettings(), evaluate_ventilation
)
EXCESS_COLD_RULE: Rule[ExcessColdSettings] = Rule(
    "excess_cold", 2, EXCESS_COLD, ExcessColdSettings(), evaluate_excess_cold
)
BEDROOM_NIGHT_HEAT: Rule[BedroomNightSettings] = Rule(
    "tm59_bedroom_night", 1, EXCESS_HEAT, BedroomNightSettings(), evaluate_bedroom_night
)
ADAPTIVE_HEAT: Rule[AdaptiveSettings] = Rule(
    "tm59_adaptive", 1, EXCESS_HEAT, AdaptiveSettings(), evaluate_adaptive
)
DAMP: Rule[DampSettings] = Rule("damp_wme", 1, DAMP_AND_MOULD, DampSettings(), evaluate_damp)
LEAK_STEP: Rule[LeakSettings] = Rule("leak_step", 1, LEAK, LeakSettings(), evaluate_leak)

RULES: tuple[Rule[Any], ...] = (
    SUSTAINED_HUMIDITY,
    MOULD_GROWTH,
    SURFACE_HUMIDITY,
    VENTILATION,
    EXCESS_COLD_RULE,
    BEDROOM_NIGHT_HEAT,
    ADAPTIVE_HEAT,
    DAMP,
    LEAK_STEP,
)

FLEET_RULES: tuple[FleetRule[Any], ...] = (
    FleetRule("stuck_value", 1, StuckSettings(), evaluate_stuck),
    FleetRule("out_of_range", 1, OutOfRangeSettings(), evaluate_out_of_range),
    FleetRule("flat_battery", 1, BatterySettings(), evaluate_battery),
    FleetRule("silent", 1, SilenceSettings(), evaluate_silence),
)

DRIFT: HomeFleetRule[DriftSettings] = HomeFleetRule(
    "humidity_drift", 2, DriftSettings(), evaluate_drift
)

HOME_FLEET_RULES: tuple[HomeFleetRule[Any], ...] = (DRIFT,)

RULES_BY_KEY: dict[str, Rule[Any]] = {rule.key: rule for rule in RULES}
