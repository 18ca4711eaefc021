"""VTT mould growth model, hourly (Hukka & Viitanen 1999; Ojanen et al. 2010; docs/detectors.md).

Two forms that give identical results: `mould_index` runs a whole hourly series for one
surface; `step_mould` advances a `MouldState` of many surfaces by one hour, so a runner can
resume where the last pass stopped with two numbers per surface.
A missing hour (NaN temperature or humidity) leaves M and the decline clock unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class SensitivityClass:
    """One VTT sensitivity class (Ojanen et al. 2010, Table 1, as in docs/detectors.md)."""

    key: str
    k1_below_1: float
    k1_from_1: float
    a: float
    b: float
    c: float
    rh_min_pct: float


SENSITIVITY_CLASSES: dict[str, SensitivityClass] = {
    c.key: c
    for c in (
        SensitivityClass("very_sensitive", 1.0, 2.0, 1.0, 7.0, 2.0, 80.0),
        SensitivityClass("sensitive", 0.578, 0.386, 0.3, 6.0, 1.0, 80.0),
        SensitivityClass("medium_resistant", 0.072, 0.097, 0.0, 5.0, 1.5, 85.0),
        SensitivityClass("resistant", 0.033, 0.014, 0.0, 3.0, 1.0, 85.0),
    )
}

# Decline of M when growth conditions do not hold, per day before × Cmat (docs/detectors.md).
DECLINE_FIRST_PER_DAY, DECLINE_FIRST_H = -0.032, 6.0
DECLINE_PAUSE_UNTIL_H = 24.0
DECLINE_LATER_PER_DAY = -0.016


def sensitivity_class(sensitivity: str) -> SensitivityClass:
    """The named sensitivity class; ValueError for an unknown name."""
    try:
        return SENSITIVITY_CLASSES[sensitivity]
    except KeyError:
        known = ", ".join(SENSITIVITY_CLASSES)
        raise ValueError(f"unknown sensitivity {sensitivity!r}; one of {known}") from None


def critical_rh_pct(temperature_c: npt.ArrayLike, rh_min_pct: float) -> FloatArray:
    """RHcrit = max(−0.00267T³ + 0.160T² − 3.13T + 100, RHmin) for T ≥ 0; 100 below 0 °C."""
    t = np.asarray(temperature_c, dtype=np.float64)
    poly = -0.00267 * t**3 + 0.160 * t**2 - 3.13 * t + 100.0
    return np.asarray(np.where(t >= 0.0, np.maximum(poly, rh_min_pct), 100.0), dtype=np.float64)


@dataclass(frozen=True)
class GrowthDrivers:
    """The state-independent part of each hour: whether it grows, its base rate and Mmax."""

    valid: BoolArray  # both inputs present
    growing: BoolArray  # 0 < T < 50 and RH ≥ RHcrit
    rate_per_h: FloatArray  # 1/(7·tm)/24, multiplied by k1·k2 in the step
    m_max: FloatArray


def growth_drivers(
    temperature_c: npt.ArrayLike, humidity_pct: npt.ArrayLike, cls: SensitivityClass
) -> GrowthDrivers:
    """Vectorised per-hour growth conditions, rate and Mmax (tm in weeks, dM/dt per day ÷ 24)."""
    t = np.asarray(temperature_c, dtype=np.float64)
    rh = np.minimum(np.asarray(humidity_pct, dtype=np.float64), 100.0)
    t, rh = np.broadcast_arrays(t, rh)
    valid = np.isfinite(t) & np.isfinite(rh)
    rh_crit = critical_rh_pct(t, cls.rh_min_pct)
    growing = valid & (t > 0.0) & (t < 50.0) & (rh >= rh_crit)
    t_safe = np.where(growing, t, 20.0)
    rh_safe = np.where(growing, rh, 90.0)
    tm_weeks = np.exp(-0.68 * np.log(t_safe) - 13.9 * np.log(rh_safe) + 66.02)
    rate_per_h = 1.0 / (7.0 * tm_weeks) / 24.0
    span = np.where(growing & (rh_crit < 100.0), rh_crit - 100.0, -1.0)
    x = np.where(growing, (rh_crit - rh_safe) / span, 0.0)
    m_max = np.maximum(cls.a + cls.b * x - cls.c * x**2, 0.0)
    return GrowthDrivers(
        valid=np.asarray(valid, dtype=np.bool_),
        growing=np.asarray(growing, dtype=np.bool_),
        rate_per_h=np.asarray(np.where(growing, rate_per_h, 0.0), dtype=np.float64),
        m_max=np.asarray(m_max, dtype=np.float64),
    )


def decline_per_h(hours_since_growth_h: npt.ArrayLike, decline_factor: float) -> FloatArray:
    """Hourly decline at the given hour since growth stopped (1 = first hour without growth)."""
    hours = np.asarray(hours_since_growth_h, dtype=np.float64)
    per_day = np.where(
        hours <= DECLINE_FIRST_H,
        DECLINE_FIRST_PER_DAY,
        np.where(hours <= DECLINE_PAUSE_UNTIL_H, 0.0, DECLINE_LATER_PER_DAY),
    )
    return np.asarray(per_day / 24.0 * decline_factor, dtype=np.float64)


@dataclass(frozen=True)
class MouldState:
    """Mould index M and hours since growth stopped, one element per surface."""

    index_m: FloatArray
    hours_since_growth_h: FloatArray

    @classmethod
    def clean(cls, surfaces: int, index_m: float = 0.0) -> MouldState:
        """A state for `surfaces` surfaces at index `index_m`, growth just stopped."""
        return cls(
            np.full(surfaces, index_m, dtype=np.float64), np.zeros(surfaces, dtype=np.float64)
        )


def step_mould(
    state: MouldState,
    temperature_c: npt.ArrayLike,
    humidity_pct: npt.ArrayLike,
    sensitivity: str = "sensitive",
    decline_factor: float = 0.25,
) -> MouldState:
    """Advance every surface of `state` by one hour at the given temperature (°C) and RH (%)."""
    cls = sensitivity_class(sensitivity)
    drivers = growth_drivers(temperature_c, humidity_pct, cls)
    m = state.index_m
    k1 = np.where(m < 1.0, cls.k1_below_1, cls.k1_from_1)
    k2 = np.maximum(1.0 - np.exp(2.3 * (m - drivers.m_max)), 0.0)
    hours_next = state.hours_since_growth_h + 1.0
    declined = np.maximum(m + decline_per_h(hours_next, decline_factor), 0.0)
    new_m = np.where(drivers.growing, m + k1 * k2 * drivers.rate_per_h, declined)
    new_hours = np.where(drivers.growing, 0.0, hours_next)
    return MouldState(
        index_m=np.asarray(np.where(drivers.valid, new_m, m), dtype=np.float64),
        hours_since_growth_h=np.asarray(
            np.where(drivers.valid, new_hours, state.hours_since_growth_h), dtype=np.float64
        ),
    )


def run_mould(
    temperature_c: npt.ArrayLike,
    humidity_pct: npt.ArrayLike,
    sensitivity: str = "sensitive",
    decline_factor: float = 0.25,
    initial_m: float = 0.0,
    initial_hours_since_growth_h: float = 0.0,
) -> tuple[FloatArray, float]:
    """M at the end of each hour of one surface's series, and the hours since growth at the end."""
    cls = sensitivity_class(sensitivity)
    drivers = growth_drivers(
        np.asarray(temperature_c, dtype=np.float64).ravel(),
        np.asarray(humidity_pct, dtype=np.float64).ravel(),
        cls,
    )
    n = drivers.growing.size
    first = DECLINE_FIRST_PER_DAY / 24.0 * decline_factor
    later = DECLINE_LATER_PER_DAY / 24.0 * decline_factor
    valid = drivers.valid.tolist()
    growing = drivers.growing.tolist()
    rate = drivers.rate_per_h.tolist()
    m_max = drivers.m_max.tolist()
    out = [0.0] * n
    m = float(initial_m)
    hours = float(initial_hours_since_growth_h)
    for i in range(n):  # sequential by nature: k1 and k2 depend on M
        if valid[i]:
            if growing[i]:
                k1 = cls.k1_below_1 if m < 1.0 else cls.k1_from_1
                k2 = max(1.0 - math.exp(2.3 * (m - m_max[i])), 0.0)
                m += k1 * k2 * rate[i]
                hours = 0.0
            else:
                hours += 1.0
                if hours <= DECLINE_FIRST_H:
                    m = max(m + first, 0.0)
                elif hours > DECLINE_PAUSE_UNTIL_H:
                    m = max(m + later, 0.0)
        out[i] = m
    return np.asarray(out, dtype=np.float64), hours


def mould_index(
    temperature_c: npt.ArrayLike,
    humidity_pct: npt.ArrayLike,
    sensitivity: str = "sensitive",
    decline_factor: float = 0.25,
    initial: float = 0.0,
) -> FloatArray:
    """VTT mould index for hourly T (°C) and RH (%): element i is M at the end of hour i."""
    index_m, _ = run_mould(temperature_c, humidity_pct, sensitivity, decline_factor, initial)
    return index_m
