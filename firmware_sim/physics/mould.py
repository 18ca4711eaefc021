"""VTT mould growth model (Hukka & Viitanen 1999; Ojanen et al. 2010), hourly steps.

Formulas and class table as in docs/detectors.md. Vectorised over rooms: `MouldState` carries the
index M and the hours since growth conditions last held.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from firmware_sim.physics import Numeric


@dataclass(frozen=True)
class SensitivityClass:
    """One VTT sensitivity class (Ojanen et al. 2010, Table 1)."""

    key: str
    k1_below_1: float
    k1_from_1: float
    a: float
    b: float
    c: float
    rh_min_pct: float
    usual_cmat: float


SENSITIVITY_CLASSES: tuple[SensitivityClass, ...] = (
    SensitivityClass("very_sensitive", 1.0, 2.0, 1.0, 7.0, 2.0, 80.0, 1.0),
    SensitivityClass("sensitive", 0.578, 0.386, 0.3, 6.0, 1.0, 80.0, 0.25),
    SensitivityClass("medium_resistant", 0.072, 0.097, 0.0, 5.0, 1.5, 85.0, 0.1),
    SensitivityClass("resistant", 0.033, 0.014, 0.0, 3.0, 1.0, 85.0, 0.1),
)
SENSITIVITY_BY_KEY = {c.key: c for c in SENSITIVITY_CLASSES}

# Painted plaster / wallpaper on a cold external wall: "sensitive" (docs/detectors.md table).
DEFAULT_SENSITIVITY = SENSITIVITY_BY_KEY["sensitive"]
MOULD_INDEX_GROWTH_STARTS = 1.0  # M = 1: microscopic growth


def critical_humidity_pct(temperature_c: Numeric, rh_min_pct: float) -> Any:
    """RHcrit = max(−0.00267T³ + 0.160T² − 3.13T + 100, RHmin) for T ≥ 0; 100 below 0 °C."""
    t = np.asarray(temperature_c, dtype=float)
    poly = -0.00267 * t**3 + 0.160 * t**2 - 3.13 * t + 100.0
    return np.where(t >= 0.0, np.maximum(poly, rh_min_pct), 100.0)


@dataclass
class MouldState:
    """Mould index and hours since growth stopped, one element per surface."""

    index: np.ndarray
    hours_since_growth: np.ndarray

    @classmethod
    def zeros(cls, n: int) -> MouldState:
        """A clean surface for each of n rooms."""
        return cls(np.zeros(n), np.zeros(n))


def step_mould_hour(
    state: MouldState,
    temperature_c: Numeric,
    humidity_pct: Numeric,
    sensitivity: SensitivityClass = DEFAULT_SENSITIVITY,
    cmat: float | None = None,
) -> MouldState:
    """Advance the VTT mould index by one hour at the given surface temperature and RH."""
    cmat = sensitivity.usual_cmat if cmat is None else cmat
    t = np.asarray(temperature_c, dtype=float) * np.ones_like(state.index)
    rh = np.asarray(humidity_pct, dtype=float) * np.ones_like(state.index)
    m = state.index
    rh_crit = critical_humidity_pct(t, sensitivity.rh_min_pct)
    growing = (t > 0.0) & (t < 50.0) & (rh >= rh_crit)

    t_safe = np.clip(t, 0.1, 49.9)
    rh_safe = np.clip(rh, 1.0, 100.0)
    tm_weeks = np.exp(-0.68 * np.log(t_safe) - 13.9 * np.log(rh_safe) + 66.02)
    k1 = np.where(m < 1.0, sensitivity.k1_below_1, sensitivity.k1_from_1)
    denom = np.where(np.abs(rh_crit - 100.0) < 1e-9, -1e-9, rh_crit - 100.0)
    x = (rh_crit - rh) / denom
    m_max = np.maximum(sensitivity.a + sensitivity.b * x - sensitivity.c * x**2, 0.0)
    k2 = np.maximum(1.0 - np.exp(2.3 * (m - m_max)), 0.0)
    growth_per_h = k1 * k2 / (7.0 * tm_weeks) / 24.0

    hours = np.where(growing, 0.0, state.hours_since_growth + 1.0)
    decline_per_day = np.where(hours <= 6.0, -0.032, np.where(hours <= 24.0, 0.0, -0.016))
    decline_per_h = decline_per_day / 24.0 * cmat

    new_m = np.where(growing, m + growth_per_h, np.maximum(m + decline_per_h, 0.0))
    return MouldState(new_m, hours)
