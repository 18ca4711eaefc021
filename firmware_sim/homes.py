"""Home plans: identities, rooms and sensors, the physical parameters of each room, and the
registry rows (docs/operations.md, "Registering homes") of the fleet. Deterministic from the seed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from firmware_sim.scenarios import Scenario


@dataclass(frozen=True)
class RoomKind:
    """A room as built: geometry and fabric of a typical 1960s–90s two-bedroom social home."""

    room: str
    sensor_id: str
    floor_area_m2: float
    volume_m3: float
    fabric_ua_w_per_k: float  # walls + windows + roof/floor share to outdoors
    window_area_m2: float
    damp_probe: bool


# Areas: English Housing Survey typical 2-bed ~ 70 m² (*secondary*); UA from U-values of the era
# (walls 1.0, double glazing 2.8 W/m²K; SAP 10.2 Table S6) over each room's exposed area.
ROOM_KINDS: tuple[RoomKind, ...] = (
    RoomKind("living", "s1", 16.0, 40.0, 22.0, 3.0, False),
    RoomKind("bedroom", "s2", 12.0, 30.0, 16.0, 1.8, True),  # probe on the cold external wall
    RoomKind("kitchen", "s3", 9.0, 22.0, 11.0, 1.2, True),  # probe under the sink
    RoomKind("bathroom", "s4", 5.0, 12.0, 7.0, 0.6, False),
)
# SAP 10.2 Table 1f: thermal mass parameter, medium 250 kJ/(m²K) of floor area.
THERMAL_MASS_J_PER_M2_K = 250_000.0
# Window U-value of the era's double glazing, W/(m²K) (SAP 10.2 Table 6e, PVC-U, 6 mm gap ≈ 2.8);
# the window share of fabric_ua couples to the room air directly, the rest through the mass.
WINDOW_U_W_PER_M2_K = 2.8
# Emitter sizing: BS EN 12831 design heat loss at −3 °C outside, 21 °C inside, ×1.5 for the usual
# oversizing and the reheat allowance of intermittent heating (BS EN 12831 Annex D f_RH ≈ 11–22 W/m²).
DESIGN_OUTDOOR_C = -3.0
EMITTER_MARGIN = 1.5

ARCHETYPES = ("flat", "maisonette", "house", "bungalow", "bedsit", "other")
ARCHETYPE_WEIGHTS = (
    0.42,
    0.10,
    0.33,
    0.08,
    0.05,
    0.02,
)  # EHS social-rented stock mix (*secondary*)
# Social renters live disproportionately in deprived areas (EHS / IoD 2019, *secondary*).
IMD_WEIGHTS = (0.20, 0.17, 0.14, 0.11, 0.09, 0.08, 0.07, 0.06, 0.05, 0.03)
ETHNICITIES = ("White", "Asian", "Black", "Mixed", "Other", "Not known")
ETHNICITY_WEIGHTS = (0.74, 0.08, 0.09, 0.04, 0.03, 0.02)  # Census 2021 social renters (*secondary*)
AGE_BANDS = ("18-24", "25-34", "35-49", "50-64", "65-74", "75+")
AGE_WEIGHTS = (0.06, 0.16, 0.25, 0.23, 0.15, 0.15)
POSTCODE_DISTRICTS = ("LS9", "M11", "B10", "NE6", "S2", "L6", "BS5", "E15", "SE15", "NG3")
VULNERABILITIES = ("", "", "", "", "mobility", "respiratory", "mental_health", "hearing")


@dataclass(frozen=True)
class HomePlan:
    """One simulated home: ids, scenario, registry attributes and its rooms."""

    index: int
    home_id: str
    gateway_id: str
    scenario: Scenario
    archetype: str
    floor_level: int
    build_year: int
    imd_decile: int
    uprn: str
    postcode: str
    rooms: tuple[RoomKind, ...] = ROOM_KINDS


def home_id_for(index: int) -> str:
    """Home id of the 1-based index: H00001."""
    return f"H{index:05d}"


def plan_homes(scenarios: list[Scenario], seed: int) -> list[HomePlan]:
    """Plans for homes 1..N with the given scenarios (deterministic from seed)."""
    plans = []
    for i, scenario in enumerate(scenarios, start=1):
        rng = np.random.default_rng([seed, i, 11])
        archetype = str(rng.choice(ARCHETYPES, p=ARCHETYPE_WEIGHTS))
        if scenario.top_floor_heat:
            archetype = "flat"
        floor = {"flat": int(rng.integers(0, 8)), "maisonette": int(rng.integers(0, 4))}.get(
            archetype, 0
        )
        if scenario.top_floor_heat:
            floor = int(rng.integers(6, 12))
        plans.append(
            HomePlan(
                index=i,
                home_id=home_id_for(i),
                gateway_id=f"gw-{home_id_for(i)}",
                scenario=scenario,
                archetype=archetype,
                floor_level=floor,
                build_year=int(
                    rng.choice(
                        [
                            rng.integers(1890, 1919),
                            rng.integers(1945, 1980),
                            rng.integers(1980, 2020),
                        ]
                    )
                ),
                imd_decile=int(rng.choice(np.arange(1, 11), p=IMD_WEIGHTS)),
                uprn=str(100_000_000_000 + int(rng.integers(0, 899_999_999_999))),
                postcode=f"{rng.choice(POSTCODE_DISTRICTS)} {rng.integers(1, 10)}{chr(65 + rng.integers(0, 26))}{chr(65 + rng.integers(0, 26))}",
            )
        )
    return plans


HOMES_CSV_COLUMNS = (
    "home_id",
    "uprn",
    "postcode",
    "archetype",
    "floor_level",
    "build_year",
    "imd_decile",
    "gateway_id",
    "sensor_id",
    "room",
)
HOUSEHOLDS_CSV_COLUMNS = (
    "home_id",
    "ethnicity",
    "disability",
    "age_band",
    "children_under_5",
    "over_65",
    "language_needs",
    "vulnerability",
)


def homes_rows(plans: list[HomePlan]) -> list[dict[str, str]]:
    """homes.csv rows: one per sensor (docs/operations.md, "Registering homes")."""
    return [
        {
            "home_id": p.home_id,
            "uprn": p.uprn,
            "postcode": p.postcode,
            "archetype": p.archetype,
            "floor_level": str(p.floor_level),
            "build_year": str(p.build_year),
            "imd_decile": str(p.imd_decile),
            "gateway_id": p.gateway_id,
            "sensor_id": r.sensor_id,
            "room": r.room,
        }
        for p in plans
        for r in p.rooms
    ]


def households_rows(plans: list[HomePlan], seed: int) -> list[dict[str, str]]:
    """households.csv rows: one per home, attributes drawn from set proportions (docs/operations.md, "Registering homes")."""
    rows = []
    for p in plans:
        rng = np.random.default_rng([seed, p.index, 13])
        age_weights = np.array(AGE_WEIGHTS)
        if p.scenario.key == "under_heated":  # fuel poverty falls hardest on older people
            age_weights = age_weights * np.array([0.5, 0.5, 0.7, 1.0, 2.0, 2.5])
        age = str(rng.choice(AGE_BANDS, p=age_weights / age_weights.sum()))
        over_65 = (
            "yes"
            if age in ("65-74", "75+")
            else str(rng.choice(["no", "yes", "not known"], p=[0.85, 0.1, 0.05]))
        )
        rows.append(
            {
                "home_id": p.home_id,
                "ethnicity": str(rng.choice(ETHNICITIES, p=ETHNICITY_WEIGHTS)),
                "disability": str(rng.choice(["yes", "no", "not known"], p=[0.35, 0.55, 0.10])),
                "age_band": age,
                "children_under_5": str(
                    rng.choice(["yes", "no", "not known"], p=[0.12, 0.85, 0.03])
                ),
                "over_65": over_65,
                "language_needs": str(rng.choice(["no", "yes"], p=[0.9, 0.1])),
                "vulnerability": str(rng.choice(VULNERABILITIES)),
            }
        )
    return rows


def vulnerable_household(row: dict[str, str]) -> bool:
    """Whether a households.csv row has someone the cold thresholds are raised for.

    Someone over 65, a child under 5, or a respiratory condition (docs/detectors.md, excess cold:
    "thresholds raised where the household has someone over 65, a child under 5 or a health
    condition"); the detectors read the same three registry fields.
    """
    return (
        row["over_65"] == "yes"
        or row["children_under_5"] == "yes"
        or row["vulnerability"] == "respiratory"
    )


def write_registry(directory: str, plans: list[HomePlan], seed: int) -> tuple[str, str]:
    """Write homes.csv and households.csv into a directory; returns their paths."""
    import csv
    import os

    os.makedirs(directory, exist_ok=True)
    homes_path = os.path.join(directory, "homes.csv")
    households_path = os.path.join(directory, "households.csv")
    for path, columns, rows in (
        (homes_path, HOMES_CSV_COLUMNS, homes_rows(plans)),
        (households_path, HOUSEHOLDS_CSV_COLUMNS, households_rows(plans, seed)),
    ):
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    return homes_path, households_path
