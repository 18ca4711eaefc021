"""Psychrometrics and internal-surface conditions (docs/detectors.md; BS EN ISO 13788; BRE IP1/06).

Every function is vectorised: it takes floats or array-likes and returns a float64 array
(0-dimensional for scalar input; `float(...)` it where a Python float is wanted).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# ISO 13788 saturation vapour pressure: psat = P0·exp(a·θ/(b+θ)), over water (θ ≥ 0) and ice.
PSAT_P0_PA = 610.5
PSAT_A_WATER, PSAT_B_WATER_C = 17.269, 237.3
PSAT_A_ICE, PSAT_B_ICE_C = 21.875, 265.5

# Magnus dew point coefficients (docs/detectors.md).
MAGNUS_A, MAGNUS_B_C = 17.62, 243.12

# BRE IP1/06: critical temperature factor for UK dwellings.
CRITICAL_FRSI = 0.75


def _as_float(values: npt.ArrayLike) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


def psat_pa(theta_c: npt.ArrayLike) -> FloatArray:
    """Saturation vapour pressure in Pa, ISO 13788 form: over water for θ ≥ 0, over ice below."""
    theta = _as_float(theta_c)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        over_water = PSAT_P0_PA * np.exp(PSAT_A_WATER * theta / (PSAT_B_WATER_C + theta))
        over_ice = PSAT_P0_PA * np.exp(PSAT_A_ICE * theta / (PSAT_B_ICE_C + theta))
    return _as_float(np.where(theta >= 0.0, over_water, over_ice))


def vapour_pressure_pa(theta_c: npt.ArrayLike, rh_pct: npt.ArrayLike) -> FloatArray:
    """Partial vapour pressure in Pa: pv = RH/100 · psat(θ)."""
    return _as_float(_as_float(rh_pct) / 100.0 * psat_pa(theta_c))


def dew_point_c(theta_c: npt.ArrayLike, rh_pct: npt.ArrayLike) -> FloatArray:
    """Dew point in °C (Magnus, a = 17.62, b = 243.12 °C); NaN where RH ≤ 0."""
    theta = _as_float(theta_c)
    rh = _as_float(rh_pct)
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma = np.log(np.where(rh > 0.0, rh, np.nan) / 100.0) + MAGNUS_A * theta / (
            MAGNUS_B_C + theta
        )
        return _as_float(MAGNUS_B_C * gamma / (MAGNUS_A - gamma))


def surface_temperature_c(
    theta_i: npt.ArrayLike, theta_e: npt.ArrayLike, f_rsi: npt.ArrayLike
) -> FloatArray:
    """Internal-surface temperature θsi = θe + fRsi·(θi − θe) (ISO 13788, BRE IP1/06)."""
    inside = _as_float(theta_i)
    outside = _as_float(theta_e)
    return _as_float(outside + _as_float(f_rsi) * (inside - outside))


def surface_rh_pct(
    theta_i: npt.ArrayLike, rh_i: npt.ArrayLike, theta_e: npt.ArrayLike, f_rsi: npt.ArrayLike
) -> FloatArray:
    """Surface RH in %: the room's vapour pressure over psat(θsi); above 100 means condensation."""
    theta_si = surface_temperature_c(theta_i, theta_e, f_rsi)
    return _as_float(100.0 * vapour_pressure_pa(theta_i, rh_i) / psat_pa(theta_si))


def is_condensing(
    theta_i: npt.ArrayLike, rh_i: npt.ArrayLike, theta_e: npt.ArrayLike, f_rsi: npt.ArrayLike
) -> npt.NDArray[np.bool_]:
    """True where the surface is at or below the room air's dew point (θsi ≤ Td)."""
    theta_si = surface_temperature_c(theta_i, theta_e, f_rsi)
    result: npt.NDArray[Any] = theta_si <= dew_point_c(theta_i, rh_i)
    return np.asarray(result, dtype=np.bool_)
