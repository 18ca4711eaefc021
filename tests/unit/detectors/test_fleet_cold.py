"""The fast path's excess-cold rule: the 18 °C criterion per home, the sustained 16 °C criterion per room."""

from datetime import UTC, datetime

import numpy as np
import pytest

from detectors.fleet import FleetState, HourBatch, SiteInfo, fold_hours
from detectors.rules.table import EXCESS_COLD_RULE

pytestmark = pytest.mark.unit

H = 3600
START = datetime(2026, 1, 5, tzinfo=UTC)  # local midnight (GMT), heating season
DAYS = 8


def _fold(columns: dict[str, np.ndarray], *, vulnerable: bool = False, start: datetime = START):
    """Fold one home's rooms (room → hourly temperatures); excess-cold findings with their hour index."""
    state = FleetState()
    rooms = list(columns)
    rows = state.rows([("gw", f"s-{room}") for room in rooms])
    sites = [SiteInfo("home", room, vulnerable) for room in rooms]
    t = np.column_stack([columns[r] for r in rooms]).astype(float)
    n = len(rooms)
    found = []
    start_s = int(start.timestamp())
    for i in range(t.shape[0]):
        batch = HourBatch(
            rows,
            np.full(n, start_s + i * H, dtype=np.int64),
            t[i],
            np.full(n, 55.0),
            np.full(n, np.nan),
            np.full(n, np.nan),
            np.full(n, np.nan),
        )
        found += [
            (i, f) for f in fold_hours(state, batch, sites).findings if f.hazard == "excess_cold"
        ]
    return state, found


def _daily(night_c: float, day_c: float, days: int = DAYS) -> np.ndarray:
    """Heating off 23:00–07:00 (8 h at night_c), on otherwise (day_c), local = UTC in January."""
    day = np.full(24, day_c)
    day[23:] = night_c
    day[:7] = night_c
    return np.tile(day, days)


def test_healthy_bedroom_cooling_overnight_with_a_warm_living_room_raises_nothing():
    bedroom = _daily(15.0, 19.0)
    state, found = _fold({"living": _daily(17.0, 20.0), "bedroom": bedroom})
    assert found == []
    # The bedroom really spent 8 h a day below 16 °C (the old "≥ 8 h on 3 days" rule fired on this).
    assert int(state["day_below_serious_h"][1, -2]) == 8


def test_home_whose_rooms_stay_at_17c_all_week_raises_one_finding():
    week = np.full(24 * DAYS, 17.0)
    _, found = _fold({"living": week, "bedroom": week.copy()})
    assert len(found) == 1
    at, finding = found[0]
    assert finding.room == "living"  # one finding for the home, on its living room
    assert "home never reached" in finding.evidence_basis
    assert finding.figures["home_temperature_c_max_7d"] == 17.0
    assert finding.figures["health_threshold_c"] == 18.0
    # Raised once 5 days of ≥ 18 measured hours are in hand (min_days), not before.
    th = EXCESS_COLD_RULE.thresholds
    assert at == 24 * (th.min_days - 1) + th.min_hours_per_day_h - 1


def test_one_warm_room_clears_the_home_criterion():
    _, found = _fold({"living": np.full(24 * DAYS, 17.0), "bedroom": np.full(24 * DAYS, 18.5)})
    assert found == []


def test_vulnerable_household_at_18_5c_all_week_raises_one_with_a_19c_threshold():
    week = np.full(24 * DAYS, 18.5)
    _, calm = _fold({"living": week, "bedroom": week.copy()})
    assert calm == []
    _, found = _fold({"living": week, "bedroom": week.copy()}, vulnerable=True)
    assert len(found) == 1
    assert found[0][1].figures["health_threshold_c"] == 19.0


def test_a_room_held_below_16c_is_raised_even_when_the_living_room_is_warm():
    _, found = _fold({"living": np.full(24 * DAYS, 20.0), "bedroom": np.full(24 * DAYS, 15.0)})
    assert [f.room for _, f in found] == ["bedroom"]
    ((_, finding),) = found
    assert "sustained hours a day below the serious threshold" in finding.evidence_basis
    assert finding.figures["hours_per_day_below_serious_threshold_7d_h"] == pytest.approx(24.0)
    assert "heating appears off" in finding.evidence_basis


def test_twelve_hours_a_day_below_16c_is_the_sustained_edge():
    def series(hours_cold: int) -> np.ndarray:
        day = np.full(24, 18.5)
        day[:hours_cold] = 15.0
        return np.tile(day, DAYS)

    warm_living = np.full(24 * DAYS, 20.0)
    _, eleven = _fold({"living": warm_living, "bedroom": series(11)})
    assert eleven == []
    _, twelve = _fold({"living": warm_living, "bedroom": series(12)})
    assert [f.room for _, f in twelve] == ["bedroom"]


def test_hypothermia_and_summer():
    _, found = _fold({"living": np.full(24 * 2, 8.0)})
    ((_, finding),) = found  # < 10 °C for 6 h in the last 24 h, before any week is in hand
    assert "hypothermia" in finding.evidence_basis
    _, summer = _fold({"living": np.full(24 * DAYS, 8.0)}, start=datetime(2026, 7, 1, tzinfo=UTC))
    assert summer == []


def test_a_silent_living_room_leaves_the_home_finding_to_the_bedroom():
    living = np.full(24 * DAYS, np.nan)
    living[:24] = 17.0  # reports for a day, then falls silent
    _, found = _fold({"living": living, "bedroom": np.full(24 * DAYS, 17.0)})
    assert [f.room for _, f in found] == ["bedroom"]
    assert "home never reached" in found[0][1].evidence_basis
