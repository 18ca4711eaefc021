"""VTT mould index: published check values, decline rules, real series (data: TRH-tietokanta, CC BY 4.0)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from detectors.mould import MouldState, mould_index, run_mould, step_mould

pytestmark = pytest.mark.unit

TRH_DIR = Path(__file__).resolve().parents[3] / "data" / "trh"  # data/trh/README.md
HOURS_PER_WEEK = 24 * 7


@pytest.mark.parametrize(
    ("weeks", "published_m", "digits"),
    [(1, 0.147, 3), (4, 0.586, 3), (12, 1.50, 2)],
)
def test_published_check_values(weeks, published_m, digits):
    """Constant 22 °C / 90 %, sensitive, Cmat 0.25 (docs/detectors.md).

    Tolerance: the published figures are rounded, so the model must round to the same
    digits (±0.0005 for 0.147 and 0.586, ±0.005 for 1.50); hourly stepping of the daily
    rate is the only other difference and is far smaller.
    """
    hours = weeks * HOURS_PER_WEEK
    index_m = mould_index(np.full(hours, 22.0), np.full(hours, 90.0), "sensitive", 0.25)
    assert round(float(index_m[-1]), digits) == pytest.approx(published_m)


def test_element_i_is_the_index_at_the_end_of_hour_i():
    index_m = mould_index([22.0, 22.0], [90.0, 90.0])
    assert index_m[0] > 0.0
    assert index_m[1] == pytest.approx(2 * index_m[0], rel=1e-3)


def test_unknown_sensitivity_is_refused():
    with pytest.raises(ValueError, match="sensitivity"):
        mould_index([22.0], [90.0], sensitivity="wallpaper")


def test_below_critical_humidity_never_grows():
    # RHcrit at 22 °C is 80.15 %: 80.0 % must not grow; nor any drier hour.
    for rh in (40.0, 70.0, 80.0):
        assert mould_index(np.full(2000, 22.0), np.full(2000, rh)).max() == 0.0


def test_at_or_below_freezing_never_grows():
    for t in (0.0, -5.0):
        assert mould_index(np.full(2000, t), np.full(2000, 100.0)).max() == 0.0


def test_at_50c_and_above_never_grows():
    assert mould_index(np.full(500, 50.0), np.full(500, 100.0)).max() == 0.0


def test_resistant_classes_grow_slower():
    t, rh = np.full(4000, 22.0), np.full(4000, 95.0)
    ends = [
        mould_index(t, rh, s)[-1]
        for s in ("very_sensitive", "sensitive", "medium_resistant", "resistant")
    ]
    assert ends == sorted(ends, reverse=True)
    assert ends[-1] > 0.0


def test_decline_profile_six_hours_then_pause_then_slow():
    """−0.032/24 per h for 6 h, 0 until 24 h, then −0.016/24 per h, times Cmat."""
    cmat = 0.5
    dry = np.full(48, 20.0), np.full(48, 50.0)
    index_m = mould_index(*dry, decline_factor=cmat, initial=2.0)
    steps = np.diff(np.concatenate([[2.0], index_m]))
    assert np.allclose(steps[:6], -0.032 / 24 * cmat)
    assert np.allclose(steps[6:24], 0.0)
    assert np.allclose(steps[24:], -0.016 / 24 * cmat)


def test_decline_clock_restarts_after_growth_and_m_never_goes_negative():
    t = np.concatenate([np.full(24, 22.0), np.full(24 * 200, 20.0)])
    rh = np.concatenate([np.full(24, 95.0), np.full(24 * 200, 40.0)])
    index_m = mould_index(t, rh, decline_factor=1.0)
    assert index_m[23] > 0.0
    assert index_m[23 + 6] < index_m[23]
    assert index_m[23 + 24] == pytest.approx(index_m[23 + 6])
    assert index_m.min() >= 0.0
    assert index_m[-1] == 0.0


def test_missing_hours_hold_the_index():
    index_m = mould_index([22.0, np.nan, 22.0], [95.0, 95.0, np.nan])
    assert index_m[0] > 0.0
    assert index_m[1] == index_m[0] == index_m[2]


def test_step_mould_matches_mould_index_over_many_surfaces():
    rng = np.random.default_rng(7)
    hours, surfaces = 2000, 5
    t = rng.uniform(-5.0, 30.0, (hours, surfaces))
    rh = rng.uniform(60.0, 100.0, (hours, surfaces))
    rh[rng.random((hours, surfaces)) < 0.02] = np.nan
    state = MouldState.clean(surfaces)
    for hour in range(hours):
        state = step_mould(state, t[hour], rh[hour])
    for s in range(surfaces):
        expected, hours_since = run_mould(t[:, s], rh[:, s])
        assert state.index_m[s] == pytest.approx(expected[-1], rel=1e-9, abs=1e-12)
        assert state.hours_since_growth_h[s] == hours_since


def test_resuming_from_a_state_equals_one_run():
    t = np.concatenate([np.full(300, 22.0), np.full(100, 18.0)])
    rh = np.concatenate([np.full(300, 92.0), np.full(100, 60.0)])
    whole = mould_index(t, rh)
    first, hours_since = run_mould(t[:350], rh[:350])
    rest, _ = run_mould(
        t[350:], rh[350:], initial_m=first[-1], initial_hours_since_growth_h=hours_since
    )
    assert np.allclose(np.concatenate([first, rest]), whole)


def _trh(name):
    frame = pd.read_csv(TRH_DIR / name)
    return frame["T"].to_numpy(), frame["RH"].to_numpy()


@pytest.mark.parametrize(
    "name", ["R3_omakotitalo_YP2_indoor1.csv", "R4_omakotitalo_YP1_indoor1.csv"]
)
def test_occupied_rooms_stay_near_zero(name):
    """Real room air of two occupied Finnish homes. Data: TRH-tietokanta (CC BY 4.0)."""
    t, rh = _trh(name)
    assert mould_index(t, rh, "very_sensitive", 1.0).max() < 0.05


@pytest.mark.parametrize(
    "name",
    ["R3_omakotitalo_YP2_roofleft_infrontofeave.csv", "R4_omakotitalo_YP1_roofnorth_airtop.csv"],
)
def test_roof_spaces_give_sensible_indices(name):
    """Ventilated roof spaces near saturation. Data: TRH-tietokanta (CC BY 4.0).

    Measured: max M (sensitive, Cmat 0.25) 0.75 in R3 and 0.66 in R4 — growth starts but
    winter cold holds it below visible growth (M 3), as expected of a sound cold roof.
    """
    t, rh = _trh(name)
    by_class = {
        s: mould_index(t, rh, s, c).max()
        for s, c in (("very_sensitive", 1.0), ("sensitive", 0.25), ("medium_resistant", 0.1))
    }
    assert 0.3 < by_class["sensitive"] < 3.0
    assert by_class["very_sensitive"] >= by_class["sensitive"] > by_class["medium_resistant"]
    assert by_class["very_sensitive"] < 3.0
