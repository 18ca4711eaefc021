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


def wood_emc_pct(temperature_c: npt.ArrayLike, humidity_pct: npt.ArrayLike) -> FloatArray:
    """Wood equilibrium moisture content in % at a temperature and RH (Hailwood–Horrobin, USDA
    Wood Handbook FPL-GTR-190 (2010) Eq. 4-5, SI coefficients): what a %WME probe reads on a
    surface in equilibrium with that air, with no liquid water."""
    t = _as_float(temperature_c)
    h = np.clip(_as_float(humidity_pct) / 100.0, 0.0, 0.98)
    w = 349.0 + 1.29 * t + 0.0135 * t**2
    k = 0.805 + 0.000736 * t - 0.00000273 * t**2
    k1 = 6.27 - 0.00938 * t - 0.000303 * t**2
    k2 = 1.91 + 0.0407 * t - 0.000293 * t**2
    kh = k * h
    return np.asarray(
        1800.0
        / w
        * (kh / (1.0 - kh) + (k1 * kh + 2.0 * k1 * k2 * kh**2) / (1.0 + k1 * kh + k1 * k2 * kh**2)),
        dtype=np.float64,
    )


def humidity_from_wme_pct(temperature_c: npt.ArrayLike, wme_pct: npt.ArrayLike) -> FloatArray:
    """The surface RH in % a damp probe's %WME implies: `wood_emc_pct` inverted (bisection; the
    EMC rises with RH). Readings at or above the EMC of 98 % RH (liquid water) give 100; NaN stays NaN.
    """
    t = _as_float(temperature_c)
    wme = _as_float(wme_pct)
    t, wme = np.broadcast_arrays(t, wme)
    low, high = np.zeros(wme.shape), np.full(wme.shape, 98.0)
    for _ in range(20):  # 98 / 2²⁰ ≈ 0.0001 % RH: far below a probe's resolution
        mid = (low + high) / 2.0
        below = wood_emc_pct(t, mid) < wme
        low, high = np.where(below, mid, low), np.where(below, high, mid)
    rh = np.where(wme >= wood_emc_pct(t, 98.0), 100.0, (low + high) / 2.0)
    return np.asarray(np.where(np.isfinite(wme) & np.isfinite(t), rh, np.nan), dtype=np.float64)
