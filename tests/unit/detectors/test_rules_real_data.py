"""Damp and mould rules stay quiet on real occupied rooms (data: TRH-tietokanta, CC BY 4.0)."""

from pathlib import Path

import pandas as pd
import pytest

from detectors.rules.table import MOULD_GROWTH, SURFACE_HUMIDITY, SUSTAINED_HUMIDITY, VENTILATION

from .factories import context

pytestmark = pytest.mark.unit
TRH = Path(__file__).resolve().parents[3] / "data" / "trh"  # data/trh/README.md


def _frame(name, weather=None):
    raw = pd.read_csv(TRH / name)
    index = pd.DatetimeIndex(pd.to_datetime(raw["t_UTC+2"]) - pd.Timedelta(hours=2)).tz_localize(
        "UTC"
    )
    frame = pd.DataFrame(
        {"temperature_c": raw["T"].to_numpy(), "humidity_pct": raw["RH"].to_numpy()}, index=index
    )
    if weather:
        outdoor = pd.read_csv(TRH / weather)
        frame["outdoor_temperature_c"] = outdoor["Te"].to_numpy()[: len(frame)]
    return frame


@pytest.mark.parametrize(
    ("name", "weather"),
    [
        ("R3_omakotitalo_YP2_indoor1.csv", "R3_omakotitalo_YP2_fmi.csv"),
        ("R4_omakotitalo_YP1_indoor1.csv", None),
    ],
)
def test_occupied_rooms_raise_no_damp_findings(name, weather):
    frame = _frame(name, weather)
    state, findings = None, []
    for now in pd.date_range(frame.index[0] + pd.Timedelta(days=1), frame.index[-1], freq="7D"):
        ctx = context(now.to_pydatetime(), room="living")
        evaluation = MOULD_GROWTH.run(frame, ctx, state)
        state = evaluation.state
        for rule in (SUSTAINED_HUMIDITY, SURFACE_HUMIDITY, VENTILATION):
            findings += rule.run(frame, ctx).findings
        findings += evaluation.findings
    assert findings == []
    assert state.index_m < 0.05
