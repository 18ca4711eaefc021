"""Scenarios: each a declared entry with the ground truth it should produce, and the fleet mix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# SAP 10.2 Table 9: demand temperature 21 °C in the living area, heating 07:00–09:00 and
# 16:00–23:00 on weekdays, 07:00–23:00 at weekends; bedrooms taken at 19 °C here (a setting).
LIVING_SETPOINT_C = 21.0
OTHER_SETPOINT_C = 19.0


@dataclass(frozen=True)
class Scenario:
    """One kind of home: its physics settings, faults, and the hazards its truth must show."""

    key: str
    description: str
    mix_weight: float
    truth_keys: tuple[str, ...]
    climate: str = "real"  # "real" | "heating_season" | "heatwave": which season the physics replays
    heating: str = "sap"  # "sap" | "minimal" | "off"
    living_setpoint_c: float = LIVING_SETPOINT_C
    other_setpoint_c: float = OTHER_SETPOINT_C
    infiltration_ach: float = 0.7  # CIBSE Guide A Table 4.20 (*secondary*): 0.5–1 ach, dwellings with trickle vents
    extract_fans_work: bool = True
    clothes_drying_indoors: bool = False
    occupants: int = 2
    cold_corner_frsi: float = 0.80  # BRE IP1/06: ≥ 0.75 in a sound home
    ua_scale: float = 1.0
    leak_onset_fraction: float | None = None  # of the published window
    penetrating_damp: bool = False
    top_floor_heat: bool = False
    fault: str | None = None
    fault_onset_fraction: float = 0.3
    gateway_offline_s: int = 0
    clock_skew_s: int = 0


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("healthy", "a sound, heated, ventilated home", 0.55, ()),
    Scenario(
        "under_heated", "fuel poverty: heating barely used, rooms cold for days", 0.08, ("excess_cold",),
        climate="heating_season", heating="minimal", living_setpoint_c=16.0, other_setpoint_c=12.0,
    ),
    Scenario(
        "condensation", "blocked vents, dead extract fans, clothes dried indoors, cold external wall",
        0.10, ("damp_and_mould",), climate="heating_season", heating="minimal", living_setpoint_c=19.0,
        other_setpoint_c=15.0, infiltration_ach=0.4, extract_fans_work=False, clothes_drying_indoors=True,
        occupants=3, cold_corner_frsi=0.55, ua_scale=1.2,
    ),
    Scenario("leak", "a pipe bursts under the kitchen sink", 0.03, ("leak", "damp_and_mould"), leak_onset_fraction=0.6),
    Scenario(
        "penetrating_damp", "rain driven through a defective external wall, slow to dry", 0.05,
        ("damp_and_mould",), penetrating_damp=True,
    ),
    Scenario(
        "overheating", "top-floor flat with big west glazing in a heatwave, windows shut at night", 0.04,
        ("excess_heat",), climate="heatwave", heating="off", infiltration_ach=1.0, top_floor_heat=True,
    ),
    Scenario("stuck_value", "one sensor repeats the same value", 0.03, ("stuck_value",), fault="stuck_value"),
    Scenario("drift", "one sensor drifts away from the truth", 0.03, ("drift",), fault="drift"),
    Scenario("dropout", "one sensor drops out for hours at a time", 0.03, ("dropout",), fault="dropout"),
    Scenario("dead_battery", "one sensor's battery runs flat and it falls silent", 0.02, ("dead_battery",), fault="dead_battery"),
    Scenario(
        "gateway_offline", "gateway offline for three days, then replays its backlog", 0.02,
        ("gateway_offline",), gateway_offline_s=3 * 86400,
    ),
    Scenario("clock_skew", "gateway clock an hour slow", 0.02, ("clock_skew",), clock_skew_s=-3600),
)
SCENARIO_BY_KEY = {s.key: s for s in SCENARIOS}


def scenario_for(key: str) -> Scenario:
    """The scenario of a key; KeyError names the known ones."""
    try:
        return SCENARIO_BY_KEY[key]
    except KeyError:
        raise KeyError(f"unknown scenario {key!r}; known: {', '.join(SCENARIO_BY_KEY)} or mix") from None


def mix_scenarios(homes: int, seed: int) -> list[Scenario]:
    """Scenarios for a fleet in the set proportions (largest remainder), shuffled by seed."""
    weights = np.array([s.mix_weight for s in SCENARIOS])
    quotas = weights / weights.sum() * homes
    counts = np.floor(quotas).astype(int)
    for i in np.argsort(-(quotas - counts), kind="stable")[: homes - counts.sum()]:
        counts[i] += 1
    chosen = [s for s, n in zip(SCENARIOS, counts, strict=True) for _ in range(n)]
    order = np.random.default_rng([seed, 3]).permutation(homes)
    return [chosen[i] for i in order]


def scenarios_for(name: str, homes: int, seed: int) -> list[Scenario]:
    """The scenario of each home for a CLI scenario name (one key, or `mix`)."""
    if name == "mix":
        return mix_scenarios(homes, seed)
    return [scenario_for(name)] * homes
