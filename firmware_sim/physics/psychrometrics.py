"""Psychrometrics and internal-surface conditions (docs/detectors.md, BS EN ISO 13788, BRE IP1/06).

Every function accepts floats or numpy arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from firmware_sim.physics import Numeric

# Specific gas constant of water vapour, J/(kg·K) (CIBSE Guide C).
WATER_VAPOUR_GAS_CONSTANT_J_PER_KG_K = 461.5
KELVIN_OFFSET = 273.15

# BS EN ISO 13788 saturation vapour pressure coefficients (Pa, °C).
_PSAT_P0_PA = 610.5
_PSAT_A_WATER, _PSAT_B_WATER_C = 17.269, 237.3
_PSAT_A_ICE, _PSAT_B_ICE_C = 21.875, 265.5

# Magnus dew point coefficients (docs/detectors.md: a = 17.62, b = 243.12 °C).
_MAGNUS_A, _MAGNUS_B_C = 17.62, 243.12

# BRE IP1/06: critical temperature factor for dwellings.
CRITICAL_FRSI = 0.75


def psat_pa(temperature_c: Numeric) -> Any:
    """Saturation vapour pressure in Pa over water (θ ≥ 0) or ice (θ < 0), BS EN ISO 13788."""
    t = np.asarray(temperature_c, dtype=float)
    over_water = _PSAT_P0_PA * np.exp(_PSAT_A_WATER * t / (_PSAT_B_WATER_C + t))
    if t.ndim and t.size and t.min() >= 0.0:  # no ice anywhere: skip the second branch
        return over_water
    over_ice = _PSAT_P0_PA * np.exp(_PSAT_A_ICE * t / (_PSAT_B_ICE_C + t))
    result = np.where(t >= 0.0, over_water, over_ice)
    return float(result) if result.ndim == 0 else result


def vapour_pressure_pa(temperature_c: Numeric, humidity_pct: Numeric) -> Any:
    """Partial vapour pressure in Pa: pv = RH/100 · psat(θ)."""
    return np.asarray(humidity_pct, dtype=float) / 100.0 * psat_pa(temperature_c)


def humidity_pct_from_vapour_pressure(vapour_pressure_pa_: Numeric, temperature_c: Numeric) -> Any:
    """Relative humidity in % from vapour pressure and temperature, capped at 100."""
    rh = 100.0 * np.asarray(vapour_pressure_pa_, dtype=float) / psat_pa(temperature_c)
    result = np.minimum(rh, 100.0)
    return float(result) if np.ndim(result) == 0 else result


def vapour_density_kg_m3(vapour_pressure_pa_: Numeric, temperature_c: Numeric) -> Any:
    """Water-vapour density in kg/m³ from the ideal-gas law ρv = pv / (Rv·T)."""
    t_k = np.asarray(temperature_c, dtype=float) + KELVIN_OFFSET
    return np.asarray(vapour_pressure_pa_, dtype=float) / (
        WATER_VAPOUR_GAS_CONSTANT_J_PER_KG_K * t_k
    )


def vapour_pressure_from_density_pa(vapour_density_kg_m3_: Numeric, temperature_c: Numeric) -> Any:
    """Vapour pressure in Pa from vapour density (inverse of `vapour_density_kg_m3`)."""
    t_k = np.asarray(temperature_c, dtype=float) + KELVIN_OFFSET
    return (
        np.asarray(vapour_density_kg_m3_, dtype=float) * WATER_VAPOUR_GAS_CONSTANT_J_PER_KG_K * t_k
    )


def dew_point_c(temperature_c: Numeric, humidity_pct: Numeric) -> Any:
    """Dew point in °C by the Magnus formula (a = 17.62, b = 243.12 °C)."""
    t = np.asarray(temperature_c, dtype=float)
    gamma = np.log(np.asarray(humidity_pct, dtype=float) / 100.0) + _MAGNUS_A * t / (
        _MAGNUS_B_C + t
    )
    result = _MAGNUS_B_C * gamma / (_MAGNUS_A - gamma)
    return float(result) if result.ndim == 0 else result


def surface_temperature_c(indoor_c: Numeric, outdoor_c: Numeric, frsi: Numeric) -> Any:
    """Internal-surface temperature θsi = θe + fRsi·(θi − θe) (BS EN ISO 13788, BRE IP1/06)."""
    return outdoor_c + frsi * (np.asarray(indoor_c, dtype=float) - outdoor_c)


def surface_humidity_pct(
    indoor_c: Numeric, indoor_humidity_pct: Numeric, outdoor_c: Numeric, frsi: Numeric
) -> Any:
    """Surface RH in % at a junction of factor fRsi: the room's vapour pressure over psat(θsi)."""
    theta_si = surface_temperature_c(indoor_c, outdoor_c, frsi)
    return humidity_pct_from_vapour_pressure(
        vapour_pressure_pa(indoor_c, indoor_humidity_pct), theta_si
    )
