"""Damp probe reading in % wood moisture equivalent (%WME).

A probe reads the wood-equivalent moisture of the wall or floor it sits on. With no liquid
water that is the equilibrium moisture content (EMC) at the surface's temperature and RH
(Hailwood–Horrobin form, USDA Wood Handbook FPL-GTR-190 (2010) Eq. 4-5, SI coefficients).
Liquid water (a leak, rain through a wall) drives it towards a wet target; it wets in hours
and dries over weeks (docs/detectors.md: >20 % wet, ≥28 % fibre saturation).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from firmware_sim.physics import Numeric

WME_WET_PCT = 20.0  # docs/detectors.md: above 20 % wet
WME_FIBRE_SATURATION_PCT = 28.0  # docs/detectors.md
LEAK_WET_TARGET_PCT = (
    40.0  # a soaked substrate: resistance meters read off the top of their wood scale
)
PENETRATING_DAMP_TARGET_PCT = 30.0  # masonry soaked by driven rain, reads above fibre saturation
LEAK_WETTING_TIME_CONSTANT_H = 3.0  # "a step rise of several %WME within hours" (docs/detectors.md)
RAIN_WETTING_TIME_CONSTANT_H = 36.0  # heuristic (docs/detectors.md: rises after rain) — a setting
DRYING_TIME_CONSTANT_H = 24.0 * 21  # slow drying of masonry: weeks — a setting
HYGROSCOPIC_TIME_CONSTANT_H = 24.0 * 3  # surface layer follows ambient RH over days — a setting


def equilibrium_moisture_content_pct(temperature_c: Numeric, humidity_pct: Numeric) -> Any:
    """Wood EMC in % (Hailwood–Horrobin, Wood Handbook 2010 Eq. 4-5, T in °C)."""
    t = np.asarray(temperature_c, dtype=float)
    h = np.clip(np.asarray(humidity_pct, dtype=float) / 100.0, 0.0, 0.98)
    w = 349.0 + 1.29 * t + 0.0135 * t**2
    k = 0.805 + 0.000736 * t - 0.00000273 * t**2
    k1 = 6.27 - 0.00938 * t - 0.000303 * t**2
    k2 = 1.91 + 0.0407 * t - 0.000293 * t**2
    kh = k * h
    emc = (
        1800.0
        / w
        * (kh / (1.0 - kh) + (k1 * kh + 2.0 * k1 * k2 * kh**2) / (1.0 + k1 * kh + k1 * k2 * kh**2))
    )
    return float(emc) if emc.ndim == 0 else emc


def step_wme_pct(
    wme_pct: Numeric,
    surface_c: Numeric,
    surface_humidity_pct: Numeric,
    liquid_target_pct: Numeric,
    wetting_time_constant_h: Numeric,
    dt_s: float,
) -> Any:
    """%WME after dt_s: towards liquid_target where water is present (0 = none), else dries to EMC."""
    emc = equilibrium_moisture_content_pct(surface_c, surface_humidity_pct)
    return step_wme_towards_pct(wme_pct, emc, liquid_target_pct, wetting_time_constant_h, dt_s)


def step_wme_towards_pct(
    wme_pct: Numeric,
    emc_pct: Numeric,
    liquid_target_pct: Numeric,
    wetting_time_constant_h: Numeric,
    dt_s: float,
) -> Any:
    """%WME after dt_s given the surface's EMC (which changes slowly, so callers may reuse it)."""
    emc = np.asarray(emc_pct, dtype=float)
    target = np.maximum(emc, liquid_target_pct)
    wme = np.asarray(wme_pct, dtype=float)
    wetting = target > wme
    tau_h = np.where(
        wetting,
        np.where(liquid_target_pct > emc, wetting_time_constant_h, HYGROSCOPIC_TIME_CONSTANT_H),
        np.where(wme > WME_WET_PCT, DRYING_TIME_CONSTANT_H, HYGROSCOPIC_TIME_CONSTANT_H),
    )
    return target + (wme - target) * np.exp(-dt_s / (tau_h * 3600.0))
