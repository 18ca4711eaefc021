"""Single-zone room heat balance: fabric and ventilation loss, heating, solar and internal gains.

The room is one lumped node of heat capacity C (J/K) losing heat through a conductance
H = UA + Hv (W/K) to outdoors. Over a step with constant inputs the exact solution is
θ(t+dt) = θeq + (θ − θeq)·exp(−H·dt/C), with θeq = θe + Q/H (CIBSE Guide A §5, steady state;
the exponential form is the textbook first-order RC solution). Accepts floats or numpy arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from firmware_sim.physics import Numeric

# Volumetric heat capacity of air ρ·cp = 1.2 kg/m³ × 1005 J/(kg·K) ≈ 1206 J/(m³·K);
# per air change an hour that is 1206/3600 ≈ 0.335 W/(m³·K) — CIBSE Guide A uses 0.33.
AIR_HEAT_PER_ACH_W_PER_M3_K = 0.33

# SAP 10.2 Table 6b/6c: double glazing g⊥ = 0.76 × 0.9 (angle factor) ≈ 0.68 (take 0.63 with
# dirt); frame factor 0.7 for PVC-U frames.
GLAZING_G_VALUE = 0.63
GLAZING_FRAME_FACTOR = 0.7


def ventilation_conductance_w_per_k(volume_m3: Numeric, air_changes_per_h: Numeric) -> Any:
    """Ventilation heat-loss coefficient Hv = 0.33·n·V in W/K (CIBSE Guide A)."""
    return AIR_HEAT_PER_ACH_W_PER_M3_K * np.asarray(air_changes_per_h, dtype=float) * volume_m3


def solar_gain_w(window_area_m2: Numeric, vertical_irradiance_w_m2: Numeric) -> Any:
    """Solar gain through glazing: g·Ff·A·I (SAP 10.2 Appendix U / §6)."""
    return GLAZING_G_VALUE * GLAZING_FRAME_FACTOR * window_area_m2 * vertical_irradiance_w_m2


def steady_state_temperature_c(
    outdoor_c: Numeric, gains_w: Numeric, conductance_w_per_k: Numeric
) -> Any:
    """Steady-state room temperature θeq = θe + Q/H."""
    return outdoor_c + np.asarray(gains_w, dtype=float) / conductance_w_per_k


def step_temperature_c(
    indoor_c: Numeric,
    outdoor_c: Numeric,
    gains_w: Numeric,
    conductance_w_per_k: Numeric,
    capacity_j_per_k: Numeric,
    dt_s: float,
) -> Any:
    """Room temperature after dt_s with constant inputs (exact first-order solution)."""
    theta_eq = steady_state_temperature_c(outdoor_c, gains_w, conductance_w_per_k)
    decay = np.exp(-np.asarray(conductance_w_per_k, dtype=float) * dt_s / capacity_j_per_k)
    return theta_eq + (indoor_c - theta_eq) * decay


def thermostat_power_w(
    indoor_c: Numeric,
    outdoor_c: Numeric,
    free_gains_w: Numeric,
    setpoint_c: Numeric,
    max_power_w: Numeric,
    conductance_w_per_k: Numeric,
    capacity_j_per_k: Numeric,
    dt_s: float,
) -> Any:
    """Heater power that brings the room to its setpoint by the end of the step, within 0..max_power_w.

    An ideal thermostat with a power-limited emitter: when the emitter is too small (or the
    heating is off, max 0 W) the room falls short of the setpoint, as an under-heated home does.
    """
    decay = np.exp(-np.asarray(conductance_w_per_k, dtype=float) * dt_s / capacity_j_per_k)
    theta_eq_needed = (setpoint_c - indoor_c * decay) / np.maximum(1.0 - decay, 1e-12)
    power = conductance_w_per_k * (theta_eq_needed - outdoor_c) - free_gains_w
    return np.clip(power, 0.0, max_power_w)


# Two-node room (air + structure), the simple-hourly idea of ISO 13790:2008 §C.2 reduced to two
# capacities: the air node holds the air and furniture, the mass node the room's thermal mass.
# Coupling air↔mass: h_ms = 9.1 W/(m²K) over A_m = 2.5·A_floor (ISO 13790 §12.2.2, Table 12, medium).
MASS_COUPLING_W_PER_M2_K = 9.1
MASS_AREA_PER_FLOOR_AREA = 2.5
# Air-node capacity: air ρ·cp plus furnishings, 10 kJ/(m²K) of floor area (ISO 52016-1:2017 §6.5.6.2, *secondary*).
AIR_HEAT_CAPACITY_J_PER_M3_K = 1206.0
FURNITURE_HEAT_CAPACITY_J_PER_M2_K = 10_000.0


def two_node_step_c(
    air_c: Numeric,
    mass_c: Numeric,
    outdoor_c: Numeric,
    air_gains_w: Numeric,
    mass_gains_w: Numeric,
    h_air_out_w_per_k: Numeric,
    h_air_mass_w_per_k: Numeric,
    h_mass_out_w_per_k: Numeric,
    c_air_j_per_k: Numeric,
    c_mass_j_per_k: Numeric,
    dt_s: float,
) -> Any:
    """Air and mass temperatures after dt_s (implicit Euler: unconditionally stable).

    Air exchanges heat with outdoors through windows and ventilation (h_air_out) and with the
    mass (h_air_mass); the mass loses through the opaque fabric (h_mass_out).
    """
    a11 = c_air_j_per_k / dt_s + h_air_out_w_per_k + h_air_mass_w_per_k
    a22 = c_mass_j_per_k / dt_s + h_air_mass_w_per_k + h_mass_out_w_per_k
    r1 = c_air_j_per_k / dt_s * air_c + h_air_out_w_per_k * outdoor_c + air_gains_w
    r2 = c_mass_j_per_k / dt_s * mass_c + h_mass_out_w_per_k * outdoor_c + mass_gains_w
    det = a11 * a22 - h_air_mass_w_per_k**2
    return (r1 * a22 + h_air_mass_w_per_k * r2) / det, (a11 * r2 + h_air_mass_w_per_k * r1) / det


def two_node_thermostat_power_w(
    air_c: Numeric,
    mass_c: Numeric,
    outdoor_c: Numeric,
    air_gains_w: Numeric,
    mass_gains_w: Numeric,
    setpoint_c: Numeric,
    max_power_w: Numeric,
    h_air_out_w_per_k: Numeric,
    h_air_mass_w_per_k: Numeric,
    h_mass_out_w_per_k: Numeric,
    c_air_j_per_k: Numeric,
    c_mass_j_per_k: Numeric,
    dt_s: float,
) -> Any:
    """Heater power into the air node that brings the air to its setpoint by the end of the step, within 0..max."""
    free_air_c, _ = two_node_step_c(
        air_c,
        mass_c,
        outdoor_c,
        air_gains_w,
        mass_gains_w,
        h_air_out_w_per_k,
        h_air_mass_w_per_k,
        h_mass_out_w_per_k,
        c_air_j_per_k,
        c_mass_j_per_k,
        dt_s,
    )
    a11 = c_air_j_per_k / dt_s + h_air_out_w_per_k + h_air_mass_w_per_k
    a22 = c_mass_j_per_k / dt_s + h_air_mass_w_per_k + h_mass_out_w_per_k
    kelvin_per_w = a22 / (a11 * a22 - h_air_mass_w_per_k**2)
    return np.clip((setpoint_c - free_air_c) / kelvin_per_w, 0.0, max_power_w)
