"""Physics against hand-worked and published values."""

from __future__ import annotations

import math

import pytest

from firmware_sim.physics import thermal
from firmware_sim.physics.damp_probe import equilibrium_moisture_content_pct
from firmware_sim.physics.moisture import (
    steady_state_vapour_density_kg_m3,
    step_vapour_density_kg_m3,
)
from firmware_sim.physics.mould import MouldState, critical_humidity_pct, step_mould_hour
from firmware_sim.physics.psychrometrics import (
    dew_point_c,
    psat_pa,
    surface_humidity_pct,
    surface_temperature_c,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("theta_c", "expected_pa"),
    [
        (0.0, 610.5),
        (20.0, 2337.0),
        (10.0, 1227.0),
        (-10.0, 260.0),
    ],  # ISO 13788 / CIBSE Guide C tables
)
def test_psat_matches_tabulated_values(theta_c, expected_pa):
    assert psat_pa(theta_c) == pytest.approx(expected_pa, rel=0.01)


def test_dew_point_of_20c_60pct_is_12c():
    assert dew_point_c(20.0, 60.0) == pytest.approx(12.0, abs=0.05)


def test_surface_worked_check_from_detectors_md():
    assert surface_temperature_c(20.0, 5.0, 0.75) == pytest.approx(16.25)
    assert surface_humidity_pct(20.0, 60.0, 5.0, 0.75) == pytest.approx(75.9, abs=0.15)


def test_steady_state_of_a_simple_room():
    # 40 m³ room, UA 20 W/K, 0.5 ach → Hv = 0.33·0.5·40 = 6.6 W/K; 1 kW into it at 0 °C outside
    h = 20.0 + thermal.ventilation_conductance_w_per_k(40.0, 0.5)
    assert h == pytest.approx(26.6)
    assert thermal.steady_state_temperature_c(0.0, 1000.0, h) == pytest.approx(1000 / 26.6)
    theta = 10.0
    for _ in range(6000):
        theta = thermal.step_temperature_c(theta, 0.0, 1000.0, h, 4e6, 300)
    assert theta == pytest.approx(1000 / 26.6, abs=0.01)


def test_room_step_is_exponential_with_time_constant_c_over_h():
    tau_s = 4e6 / 26.6
    theta = thermal.step_temperature_c(20.0, 0.0, 0.0, 26.6, 4e6, tau_s)
    assert theta == pytest.approx(20.0 / math.e)


def test_thermostat_holds_setpoint_when_power_suffices_and_falls_short_when_not():
    theta = 15.0
    for _ in range(200):
        p = thermal.thermostat_power_w(theta, 0.0, 0.0, 21.0, 2000.0, 26.6, 4e6, 300)
        theta = thermal.step_temperature_c(theta, 0.0, p, 26.6, 4e6, 300)
    assert theta == pytest.approx(21.0, abs=0.01)
    for _ in range(5000):
        p = thermal.thermostat_power_w(theta, 0.0, 0.0, 21.0, 300.0, 26.6, 4e6, 300)
        theta = thermal.step_temperature_c(theta, 0.0, p, 26.6, 4e6, 300)
    assert theta == pytest.approx(300 / 26.6, abs=0.05)


def test_moisture_steady_state_is_generation_over_ventilation():
    # 0.1 kg/h into 30 m³ at 1 ach → +0.1/30 kg/m³ above outdoors
    assert steady_state_vapour_density_kg_m3(0.006, 0.1 / 3600, 30.0, 1.0, 0.0) == pytest.approx(
        0.006 + 0.1 / 30
    )
    rho = 0.006
    for _ in range(5000):
        rho = step_vapour_density_kg_m3(rho, 0.006, 0.1 / 3600, 30.0, 1.0, 0.0, 300)
    assert rho == pytest.approx(0.006 + 0.1 / 30, rel=1e-6)


def test_extract_fan_lowers_the_steady_state():
    without = steady_state_vapour_density_kg_m3(0.006, 0.4 / 3600, 12.0, 0.5, 0.0)
    with_fan = steady_state_vapour_density_kg_m3(0.006, 0.4 / 3600, 12.0, 0.5, 0.015)
    assert with_fan < without


def test_wood_emc_matches_wood_handbook_table():
    # USDA Wood Handbook (2010) Table 4-2: 70 °F (21.1 °C), 65 % → 12.0 %; 90 % → 20.5 %
    assert equilibrium_moisture_content_pct(21.1, 65.0) == pytest.approx(12.0, abs=0.2)
    assert equilibrium_moisture_content_pct(21.1, 90.0) == pytest.approx(20.5, abs=0.4)


@pytest.mark.parametrize(("weeks", "expected"), [(1, 0.147), (4, 0.586), (12, 1.50)])
def test_vtt_published_check_values(weeks, expected):
    state = MouldState.zeros(1)
    for _ in range(weeks * 7 * 24):
        state = step_mould_hour(state, 22.0, 90.0)
    assert float(state.index[0]) == pytest.approx(expected, abs=0.01)


def test_vtt_declines_in_dry_conditions_and_never_below_zero():
    state = MouldState.zeros(1)
    for _ in range(12 * 7 * 24):
        state = step_mould_hour(state, 22.0, 90.0)
    grown = float(state.index[0])
    for _ in range(24 * 60):
        state = step_mould_hour(state, 22.0, 50.0)
    assert 0.0 <= float(state.index[0]) < grown


def test_vtt_critical_humidity_floor():
    assert float(critical_humidity_pct(30.0, 80.0)) == pytest.approx(80.0)
    assert float(critical_humidity_pct(-1.0, 80.0)) == 100.0
