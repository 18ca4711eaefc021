"""Room moisture balance: vapour from occupants and activities, removal by ventilation and fans.

Well-mixed room of volume V with outdoor air exchange n (1/h) plus extract q (m³/s):
dρ/dt = G/(V·b) − (n/3600 + q/V)/b · (ρ − ρe), b the moisture-buffer factor; solved exactly
per step. When room air would exceed saturation the excess is taken to condense (RH ≤ 100 %).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from firmware_sim.physics import Numeric
from firmware_sim.physics.psychrometrics import (
    humidity_pct_from_vapour_pressure,
    psat_pa,
    vapour_density_kg_m3,
    vapour_pressure_from_density_pa,
)

# Moisture generation rates, kg/h unless stated. BS 5250:2011+A1:2016 Annex C and
# BS EN ISO 13788 Annex (both *secondary*: figures as summarised in BRE BR 497 / CIBSE Guide A).
PERSON_ASLEEP_KG_PER_H = 0.040
PERSON_AWAKE_KG_PER_H = 0.055
COOKING_GAS_KG_PER_DAY = 3.0
COOKING_ELECTRIC_KG_PER_DAY = 2.0
SHOWER_KG_PER_SHOWER = 0.2
CLOTHES_DRYING_KG_PER_DAY = 1.5

# Approved Document F (2010) Table 5.1a: intermittent extract rates.
KITCHEN_EXTRACT_M3_PER_S = 0.030  # 30 l/s cooker hood
BATHROOM_EXTRACT_M3_PER_S = 0.015  # 15 l/s

# Hygroscopic buffering of finishes and furniture slows RH swings (effective-capacitance
# method, IEA ECBCS Annex 41 — *secondary*, a modelling setting, not a standard's value).
MOISTURE_BUFFER_FACTOR = 3.0


def step_vapour_density_kg_m3(
    indoor_kg_m3: Numeric,
    outdoor_kg_m3: Numeric,
    generation_kg_per_s: Numeric,
    volume_m3: Numeric,
    air_changes_per_h: Numeric,
    extract_m3_per_s: Numeric,
    dt_s: float,
) -> Any:
    """Room vapour density after dt_s (exact first-order solution of the moisture balance)."""
    removal_per_s = (
        np.asarray(air_changes_per_h, dtype=float) / 3600.0 + extract_m3_per_s / volume_m3
    )
    equilibrium = outdoor_kg_m3 + generation_kg_per_s / (volume_m3 * removal_per_s)
    decay = np.exp(-removal_per_s * dt_s / MOISTURE_BUFFER_FACTOR)
    return equilibrium + (indoor_kg_m3 - equilibrium) * decay


def steady_state_vapour_density_kg_m3(
    outdoor_kg_m3: Numeric,
    generation_kg_per_s: Numeric,
    volume_m3: Numeric,
    air_changes_per_h: Numeric,
    extract_m3_per_s: Numeric,
) -> Any:
    """Steady-state vapour density ρe + G/(V·(n/3600) + q)."""
    removal_m3_per_s = (
        volume_m3 * np.asarray(air_changes_per_h, dtype=float) / 3600.0 + extract_m3_per_s
    )
    return outdoor_kg_m3 + generation_kg_per_s / removal_m3_per_s


def cap_at_saturation_kg_m3(vapour_kg_m3: Numeric, temperature_c: Numeric) -> Any:
    """Vapour density limited to saturation at the room temperature (excess condenses)."""
    return np.minimum(vapour_kg_m3, vapour_density_kg_m3(psat_pa(temperature_c), temperature_c))


def room_humidity_pct(vapour_kg_m3: Numeric, temperature_c: Numeric) -> Any:
    """Room RH in % from vapour density and air temperature."""
    return humidity_pct_from_vapour_pressure(
        vapour_pressure_from_density_pa(vapour_kg_m3, temperature_c), temperature_c
    )
