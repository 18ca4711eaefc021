"""Damp and mould rules on hand-built series that must and must not trigger."""

import numpy as np
import pandas as pd
import pytest

from detectors.rules.table import MOULD_GROWTH, SURFACE_HUMIDITY, SUSTAINED_HUMIDITY, VENTILATION

from .factories import context, hourly_frame, utc

pytestmark = pytest.mark.unit
NOW = utc(2026, 1, 15, 12)


def _rh(hours, values):
    return hourly_frame(NOW, hours, temperature_c=20.0, humidity_pct=values)


def test_sustained_humidity_six_of_twelve_hours_triggers():
    rh = [60.0] * 6 + [80.0] * 6
    (finding,) = SUSTAINED_HUMIDITY.run(_rh(12, rh), context(NOW)).findings
    assert finding.hazard == "damp_and_mould"
    assert finding.category == "potential"
    assert finding.figures["hours_over_threshold_h"] == 6
    assert finding.window_end == NOW
    assert finding.rule_key == "sustained_humidity"


def test_sustained_humidity_five_hours_or_old_hours_do_not_trigger():
    assert SUSTAINED_HUMIDITY.run(_rh(12, [60.0] * 7 + [85.0] * 5), context(NOW)).findings == ()
    old = _rh(24, [90.0] * 12 + [50.0] * 12)  # humid, but more than 12 h ago
    assert SUSTAINED_HUMIDITY.run(old, context(NOW)).findings == ()


@pytest.mark.parametrize(
    ("over70", "over90", "fires"),
    [
        (2, 0, False),
        (3, 0, True),
        (1, 1, False),
        (2, 2, True),
    ],
)
def test_approved_document_f(over70, over90, fires):
    """RH > 70 % for more than 2 h, or > 90 % for more than 1 h, in any 12 h (AD F 2006)."""
    rh = np.full(35, 55.0)
    rh[10 : 10 + over70] = 75.0
    rh[10 : 10 + over90] = 95.0
    findings = VENTILATION.run(_rh(35, rh), context(NOW)).findings
    assert bool(findings) is fires


def test_approved_document_f_hours_spread_beyond_12h_do_not_add_up():
    rh = np.full(35, 55.0)
    rh[[5, 18, 31]] = 75.0  # three hours over 70 %, no two within 12 h of each other
    assert VENTILATION.run(_rh(35, rh), context(NOW)).findings == ()


def test_surface_humidity_uses_outdoor_temperature_for_the_surface():
    """20 °C / 65 %: pv 1519 Pa; θe 0 °C, fRsi 0.75 → θsi 15 °C, psat 1704 Pa → RHsi 89.1 %."""
    frame = hourly_frame(
        NOW, 24 * 7, temperature_c=20.0, humidity_pct=65.0, outdoor_temperature_c=0.0
    )
    (finding,) = SURFACE_HUMIDITY.run(frame, context(NOW)).findings
    assert finding.evidence_basis == "surface conditions from outdoor temperature"
    assert finding.figures["surface_rh_pct_mean_7d"] == pytest.approx(89.1, abs=0.1)
    mild = hourly_frame(
        NOW, 24 * 7, temperature_c=20.0, humidity_pct=65.0, outdoor_temperature_c=12.0
    )
    assert SURFACE_HUMIDITY.run(mild, context(NOW)).findings == ()


def test_surface_humidity_falls_back_to_room_air_and_says_so():
    frame = hourly_frame(NOW, 24 * 7, temperature_c=18.0, humidity_pct=85.0)
    (finding,) = SURFACE_HUMIDITY.run(frame, context(NOW)).findings
    assert finding.evidence_basis.startswith("room air: no outdoor temperature")
    assert (
        SURFACE_HUMIDITY.run(
            hourly_frame(NOW, 24 * 7, temperature_c=18.0, humidity_pct=65.0), context(NOW)
        ).findings
        == ()
    )


def test_mould_growth_finds_a_damp_corner_before_m_reaches_one():
    """Room 18 °C / 70 %, outdoor 2 °C: corner ~14 °C / ~90 %. Feed it a day at a time."""
    state, first_found = None, None
    for day in range(1, 120):
        now = utc(2026, 1, 1) + pd.Timedelta(days=day)
        frame = hourly_frame(
            now, 24, temperature_c=18.0, humidity_pct=70.0, outdoor_temperature_c=2.0
        )
        evaluation = MOULD_GROWTH.run(frame, context(now), state)
        state = evaluation.state
        if evaluation.findings and first_found is None:
            first_found = (day, evaluation.findings[0])
    assert first_found is not None
    day, finding = first_found
    assert finding.figures["mould_index"] < 1.0
    assert state.index_m > 1.0  # the corner really does reach M 1 later
    assert "surface conditions" in finding.evidence_basis
    assert day <= 14


def test_mould_growth_state_resumes_without_double_counting():
    now = utc(2026, 3, 1)
    frame = hourly_frame(now, 24 * 20, temperature_c=22.0, humidity_pct=90.0)
    whole = MOULD_GROWTH.run(frame, context(now)).state
    state = None
    for day in range(20, 0, -1):
        end = now - pd.Timedelta(days=day - 1)
        state = MOULD_GROWTH.run(frame, context(end), state).state  # overlapping frames each time
    assert state.index_m == pytest.approx(whole.index_m)
    assert state.index_m == pytest.approx(20 / 7 * 0.1466, rel=0.01)


def test_mould_growth_quiet_on_a_dry_room_and_reports_fallback():
    frame = hourly_frame(NOW, 24 * 28, temperature_c=20.0, humidity_pct=50.0)
    evaluation = MOULD_GROWTH.run(frame, context(NOW))
    assert evaluation.findings == ()
    assert evaluation.state.index_m == 0.0
    humid = hourly_frame(NOW, 24 * 28, temperature_c=22.0, humidity_pct=95.0)
    (finding,) = MOULD_GROWTH.run(humid, context(NOW)).findings
    assert finding.evidence_basis.count("room air") == 1
