"""Psychrometrics against the worked values of docs/detectors.md and ISO 13788's tabulated psat."""

import numpy as np
import pytest

from detectors.psychro import (
    dew_point_c,
    humidity_from_wme_pct,
    is_condensing,
    psat_pa,
    surface_rh_pct,
    surface_temperature_c,
    vapour_pressure_pa,
    wood_emc_pct,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("theta_c", "expected_pa"),
    # Standard saturation vapour pressures (ISO 13788 Annex / steam tables), to ~0.3 %.
    [(20.0, 2337.0), (0.0, 610.5), (10.0, 1227.0), (-10.0, 259.9), (30.0, 4243.0)],
)
def test_psat_matches_tabulated_values(theta_c, expected_pa):
    assert float(psat_pa(theta_c)) == pytest.approx(expected_pa, rel=3e-3)


def test_psat_uses_the_ice_branch_below_zero():
    over_water_at_minus_10 = 610.5 * np.exp(17.269 * -10.0 / (237.3 - 10.0))
    assert float(psat_pa(-10.0)) < over_water_at_minus_10
    assert float(psat_pa(-10.0)) == pytest.approx(610.5 * np.exp(21.875 * -10.0 / 255.5))


def test_psat_is_vectorised():
    out = psat_pa(np.array([-5.0, 0.0, 20.0]))
    assert out.shape == (3,)
    assert np.all(np.diff(out) > 0)


def test_dew_point_at_20c_60pct_is_12c():
    assert float(dew_point_c(20.0, 60.0)) == pytest.approx(12.0, abs=0.05)


def test_dew_point_at_saturation_is_air_temperature():
    assert np.allclose(dew_point_c([5.0, 15.0, 25.0], 100.0), [5.0, 15.0, 25.0])


def test_vapour_pressure():
    assert float(vapour_pressure_pa(20.0, 60.0)) == pytest.approx(0.6 * 2337.0, rel=3e-3)


def test_worked_surface_check():
    """θi 20 °C, RH 60 %, θe 5 °C, fRsi 0.75 → θsi 16.25 °C, RHsi ≈ 75.9 % (docs/detectors.md)."""
    assert float(surface_temperature_c(20.0, 5.0, 0.75)) == pytest.approx(16.25)
    assert float(surface_rh_pct(20.0, 60.0, 5.0, 0.75)) == pytest.approx(75.9, abs=0.05)


def test_condensation_when_surface_below_dew_point():
    # 20 °C / 60 % air has Td ≈ 12 °C; θe −10 °C with fRsi 0.6 gives θsi 8 °C.
    assert bool(is_condensing(20.0, 60.0, -10.0, 0.6))
    assert float(surface_rh_pct(20.0, 60.0, -10.0, 0.6)) > 100.0
    assert not bool(is_condensing(20.0, 60.0, 5.0, 0.75))


def test_wood_emc_matches_the_wood_handbook_table():
    # USDA Wood Handbook (2010) Table 4-2, 70 °F (21.1 °C): 65 % → 12.0 %, 80 % → 16.0 %, 90 % → 20.5 %
    np.testing.assert_allclose(wood_emc_pct(21.1, [65.0, 80.0, 90.0]), [12.0, 16.0, 20.5], atol=0.3)


def test_humidity_from_wme_inverts_the_emc():
    rh = np.array([40.0, 60.0, 80.0, 95.0])
    np.testing.assert_allclose(humidity_from_wme_pct(12.0, wood_emc_pct(12.0, rh)), rh, atol=1e-3)
    assert float(humidity_from_wme_pct(20.0, 40.0)) == 100.0  # liquid water: saturated surface
    assert np.isnan(humidity_from_wme_pct(20.0, np.nan))
