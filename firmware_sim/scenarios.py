"""Scenarios: each a declared entry with the ground truth it should produce, and the fleet mix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# SAP 10.2 Table 9: demand temperature 21 °C in the living area; elsewhere Th2, which for a
# programmer and room thermostat (control type 2) is 21 − HLP + HLP²/12 with HLP the heat-loss
# parameter in W/(m²K) (≈ 19.4 °C for these homes; BREDEM-12 uses the same two-zone split).
# Heating 07:00–09:00 and 16:00–23:00 on weekdays, 07:00–23:00 at weekends (simulation.py).
LIVING_SETPOINT_C = 21.0
# Seasons in which a seasonal hazard can hold (local calendar months).
HEATING_SEASON_MONTHS = (10, 11, 12, 1, 2, 3)  # docs/detectors.md: 1 October – 31 March
TM59_SEASON_MONTHS = (5, 6, 7, 8, 9)  # CIBSE TM59: May–September
SEASON_MONTHS = {"heating": HEATING_SEASON_MONTHS, "summer": TM59_SEASON_MONTHS}


@dataclass(frozen=True)
class Scenario:
    """One kind of home: its physics settings, faults, and the hazards its truth must show."""

    key: str
    description: str
    mix_weight: float
    truth_keys: tuple[str, ...]
    season: str | None = (
        None  # "heating" | "summer": the hazard can only hold then (None: any time)
    )
    heating: str = "sap"  # "sap" | "minimal" | "constant" (no controls: always on) | "off"
    living_setpoint_c: float = LIVING_SETPOINT_C
    other_setpoint_c: float | None = None  # None: SAP 10.2 Th2 from the home's heat-loss parameter
    infiltration_ach: float = (
        0.7  # CIBSE Guide A Table 4.20 (*secondary*): 0.5–1 ach, dwellings with trickle vents
    )
    extract_fans_work: bool = True
    clothes_drying_indoors: bool = False
    occupants: int = 2
    cold_corner_frsi: float = 0.80  # BRE IP1/06: ≥ 0.75 in a sound home
    ua_scale: float = 1.0
    leak_onset_fraction: float | None = (
        None  # of the published window (negative: leaking before it)
    )
    leak_room: str = "kitchen"  # the room whose damp probe the leak wets
    penetrating_damp: bool = False
    top_floor_heat: bool = False
    # Window opening when a room is warm (> 22 °C and warmer than outdoors), as TM59 §3.3 assumes
    # of occupants; extra air changes an hour (*secondary*: single-sided opening 2–5 ach, CIBSE AM10).
    window_opening_ach: float = 4.0
    windows_open_at_night: bool = True
    curtains_drawn_when_warm: bool = True
    # A household change (heating rationed, clothes dried indoors, vents taped shut, extract fan
    # dead) at this fraction of the published window; before it the home runs on the healthy
    # defaults of heating, setpoints, ventilation, fans and drying.
    household_change_fraction: float | None = None
    fault: str | None = None
    fault_onset_fraction: float = 0.3
    gateway_offline_s: int = 0
    clock_skew_s: int = 0


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("healthy", "a sound, heated, ventilated home", 0.53, ()),
    Scenario(
        "under_heated",
        "fuel poverty: heating barely used, rooms cold for days",
        0.08,
        ("excess_cold",),
        season="heating",
        heating="minimal",
        living_setpoint_c=16.0,
        other_setpoint_c=12.0,
    ),
    Scenario(
        "condensation",
        "blocked vents, dead extract fans, clothes dried indoors, cold external wall",
        0.08,
        ("damp_and_mould",),
        season="heating",
        heating="minimal",
        living_setpoint_c=19.0,
        other_setpoint_c=15.0,
        infiltration_ach=0.4,
        extract_fans_work=False,
        clothes_drying_indoors=True,
        occupants=3,
        cold_corner_frsi=0.55,
        ua_scale=1.2,
    ),
    Scenario(
        "condensation_onset",
        "as condensation, but the change comes a fifth of the way into the window: the "
        "household starts rationing heat, drying clothes indoors, tapes the vents; the extract fan dies",
        0.04,
        ("damp_and_mould",),
        season="heating",
        heating="minimal",
        living_setpoint_c=19.0,
        other_setpoint_c=15.0,
        infiltration_ach=0.4,
        extract_fans_work=False,
        clothes_drying_indoors=True,
        occupants=3,
        cold_corner_frsi=0.55,
        ua_scale=1.2,
        household_change_fraction=0.2,
    ),
    Scenario(
        "leak",
        "a pipe bursts under the kitchen sink",
        0.03,
        ("leak", "damp_and_mould"),
        leak_onset_fraction=0.6,
    ),
    Scenario(
        "penetrating_damp",
        "rain driven through a defective external wall, slow to dry",
        0.05,
        ("damp_and_mould",),
        penetrating_damp=True,
    ),
    Scenario(
        "overheating",
        "top-floor flat with big west glazing in a heatwave, windows shut at night",
        0.04,
        ("excess_heat",),
        season="summer",
        infiltration_ach=1.0,
        top_floor_heat=True,
        window_opening_ach=1.0,
        windows_open_at_night=False,  # restrictors by day; shut at night (noise, security)
        curtains_drawn_when_warm=False,
    ),
    Scenario(
        "stuck_value",
        "one sensor repeats the same value",
        0.03,
        ("stuck_value",),
        fault="stuck_value",
    ),
    Scenario("drift", "one sensor drifts away from the truth", 0.03, ("drift",), fault="drift"),
    Scenario(
        "dropout", "one sensor drops out for hours at a time", 0.03, ("dropout",), fault="dropout"
    ),
    Scenario(
        "dead_battery",
        "one sensor's battery runs flat and it falls silent",
        0.02,
        ("dead_battery",),
        fault="dead_battery",
    ),
    Scenario(
        "gateway_offline",
        "gateway offline for three days, then replays its backlog",
        0.02,
        ("gateway_offline",),
        gateway_offline_s=3 * 86400,
    ),
    Scenario("clock_skew", "gateway clock an hour slow", 0.02, ("clock_skew",), clock_skew_s=-3600),
    # Not in the mix (weight 0): a named home for end-to-end tests.
    Scenario(
        "frugal",
        "heated modestly (19 °C living, 18 °C elsewhere) and kept dry: one occupant, good "
        "ventilation; cool but no hazard",
        0.0,
        (),
        living_setpoint_c=19.0,
        other_setpoint_c=18.0,
        occupants=1,
        infiltration_ach=0.9,
    ),
)
SCENARIO_BY_KEY = {s.key: s for s in SCENARIOS}


def scenario_for(key: str) -> Scenario:
    """The scenario of a key; KeyError names the known ones."""
    try:
        return SCENARIO_BY_KEY[key]
    except KeyError:
        raise KeyError(
            f"unknown scenario {key!r}; known: {', '.join(SCENARIO_BY_KEY)} or mix"
        ) from None


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


def expected_truth_keys(
    scenario: Scenario, window_start_s: int, window_end_s: int
) -> tuple[str, ...]:
    """The truth keys the scenario should show in a window: seasonal hazards only if it meets their season."""
    if scenario.season is None:
        return scenario.truth_keys
    months = SEASON_MONTHS[scenario.season]
    days = np.arange(window_start_s // 86400, window_end_s // 86400 + 1).astype("datetime64[D]")
    window_months = set((days.astype("datetime64[M]").astype(int) % 12 + 1).tolist())
    if window_months & set(months):
        return scenario.truth_keys
    return ()


def scenarios_for(name: str, homes: int, seed: int) -> list[Scenario]:
    """The scenario of each home for a CLI scenario name (one key, or `mix`)."""
    if name == "mix":
        return mix_scenarios(homes, seed)
    return [scenario_for(name)] * homes
