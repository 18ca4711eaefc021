"""The fleet fast path and the incremental runner: published values, episodes, late data."""

import warnings
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from detectors.engine.health import quiet_nanmedian
from detectors.fleet import BIT, FleetState, HourBatch, SiteInfo, fold_hours
from detectors.mould import mould_index
from detectors.runner import RunnerSettings, SensorSite, run_in_memory
from ingest.contract import Reading
from ingest.store import ReadingColumns, gateway_part

pytestmark = pytest.mark.unit

START = datetime(2026, 1, 5, tzinfo=UTC)
H = 3600


def _batch(rows, hour_s, t, rh, wme=np.nan, outdoor=np.nan):
    n = len(rows)
    full = lambda v: np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy()  # noqa: E731
    return HourBatch(
        np.asarray(rows, dtype=np.int64),
        np.full(n, hour_s, dtype=np.int64),
        full(t),
        full(rh),
        full(wme),
        full(np.nan),
        full(outdoor),
    )


def _fold_series(t, rh, wme=None, outdoor=None, room="kitchen"):
    state = FleetState()
    rows = state.rows([("gw", "s1")])
    sites = [SiteInfo("home", room)]
    findings = []
    start_s = int(START.timestamp())
    for i in range(len(t)):
        batch = _batch(
            rows,
            start_s + i * H,
            t[i],
            rh[i],
            np.nan if wme is None else wme[i],
            np.nan if outdoor is None else outdoor[i],
        )
        findings += [(i, f) for f in fold_hours(state, batch, sites).findings]
    return state, findings


def test_fast_path_mould_index_matches_the_published_check_values():
    hours = 24 * 7 * 4
    state, _ = _fold_series(np.full(hours, 22.0), np.full(hours, 90.0))
    assert float(state["mould_m"][0]) == pytest.approx(0.586, abs=0.01)  # docs/detectors.md
    series = mould_index(np.full(hours, 22.0), np.full(hours, 90.0))
    assert float(state["mould_m"][0]) == pytest.approx(float(series[-1]), rel=1e-9)


def test_mould_runs_on_surface_conditions_when_outdoor_temperature_is_given():
    # docs/detectors.md worked check: 20 °C, 60 %, outdoors 5 °C, fRsi 0.75 → RHsi ≈ 75.9 %: below RHcrit 80.
    hours = 24 * 14
    state, _ = _fold_series(np.full(hours, 20.0), np.full(hours, 60.0), outdoor=np.full(hours, 5.0))
    assert float(state["mould_m"][0]) == 0.0
    assert int(state["mould_room_air_h"][0]) == 0
    # 20 °C, 70 % with 0 °C outside: θsi 15 °C, RHsi ≈ 95 % → growth on the surface, none in room air.
    surface, _ = _fold_series(
        np.full(hours, 20.0), np.full(hours, 70.0), outdoor=np.full(hours, 0.0)
    )
    room, _ = _fold_series(np.full(hours, 20.0), np.full(hours, 70.0))
    assert float(surface["mould_m"][0]) > 0.1
    assert float(room["mould_m"][0]) == 0.0


def test_leak_step_is_an_emergency_within_two_hours_and_raised_once():
    hours = 30
    wme = np.full(hours, 15.0)
    wme[20:] = 15.0 + 25.0 * (
        1 - np.exp(-(np.arange(hours - 20) + 0.5) / 3.0)
    )  # τ 3 h towards 40 %
    _, findings = _fold_series(np.full(hours, 19.0), np.full(hours, 55.0), wme=wme)
    leaks = [(i, f) for i, f in findings if f.rule_key == "leak_step"]
    assert len(leaks) == 1
    at, finding = leaks[0]
    assert at - 20 <= 1  # folded at the end of the onset hour or the next
    assert finding.category == "emergency"
    assert finding.hazard == "leak"
    assert finding.figures["wme_pct_rise"] >= 4.0


def test_a_humid_shower_does_not_look_like_a_leak():
    wme = np.array([15.0] * 10 + [20.0] * 5)
    rh = np.array([55.0] * 10 + [75.0] * 5)  # RH rose 20 points with it: explained
    _, findings = _fold_series(np.full(15, 19.0), rh, wme=wme)
    assert not [f for _, f in findings if f.rule_key == "leak_step"]


def test_sustained_humidity_needs_six_of_twelve_hours():
    rh = np.array([60.0] * 12 + [85.0] * 5 + [60.0] * 7)
    _, findings = _fold_series(np.full(24, 20.0), rh)
    assert not findings
    rh = np.array([60.0] * 12 + [85.0] * 6 + [60.0] * 6)
    _, findings = _fold_series(np.full(24, 20.0), rh)
    ((i, finding),) = [(i, f) for i, f in findings if f.rule_key == "sustained_humidity"]
    assert i == 17
    assert finding.figures["hours_over_threshold_h"] == 6


def test_excess_cold_says_heating_never_on():
    hours = 24 * 8
    _, findings = _fold_series(np.full(hours, 14.5), np.full(hours, 60.0), room="living")
    cold = [f for _, f in findings if f.hazard == "excess_cold"]
    assert len(cold) == 1
    assert "heating appears off" in cold[0].evidence_basis
    _, kitchen = _fold_series(np.full(hours, 14.5), np.full(hours, 60.0), room="kitchen")
    assert not [f for _, f in kitchen if f.hazard == "excess_cold"]


class VisibleStore:
    """A telemetry store whose readings become visible at a given arrival time."""

    def __init__(self, readings: list[tuple[int, Reading]]):
        self.readings = readings
        self.now_s = 0

    def query(self, *, start, end, _home_id=None, gateway_id=None, _sensor=None, gateway_ids=None):
        lo, hi = int(start.timestamp()), int(end.timestamp())
        return sorted(
            (
                r
                for arrive, r in self.readings
                if arrive <= self.now_s
                and lo <= r.ts < hi
                and (gateway_id is None or r.gateway_id == gateway_id)
                and (gateway_ids is None or r.gateway_id in gateway_ids)
            ),
            key=lambda r: (r.ts, r.sensor, r.gateway_id),
        )

    def query_columns(self, *, start, end, gateway_ids=None, part=None):
        return ReadingColumns.from_readings(
            [
                r
                for r in self.query(start=start, end=end, gateway_ids=gateway_ids)
                if part is None or gateway_part(r.gateway_id, part[1]) == part[0]
            ]
        )


def _readings(offline: tuple[int, int] | None):
    """Two gateways, 15-minute readings for 5 days; gateway 2's leak on day 3 (during an outage)."""
    rng = np.random.default_rng(3)
    out = []
    start_s = int(START.timestamp())
    for k in range(5 * 96):
        ts = start_s + k * 900
        for gw in ("gw-1", "gw-2"):
            wme = 15.0 + (20.0 if gw == "gw-2" and k >= 230 else 0.0) * (
                1 - np.exp(-max(k - 230, 0) / 12)
            )
            rh = 70.0 + 15.0 * np.sin(k / 20.0) + rng.normal(0, 0.5)
            reading = Reading(
                gw, "s1", ts, round(18.0 + rng.normal(0, 0.2), 1), round(rh, 1), round(wme, 1), 80.0
            )
            arrive = ts
            if gw == "gw-2" and offline and offline[0] <= ts:
                # The gateway's buffer drains in order after the outage; live readings queue behind it.
                arrive = max(ts, offline[1] + (ts - offline[0]) // 100)
            out.append((arrive, reading))
    return out


def _run(offline):
    store = VisibleStore(_readings(offline))
    sites = [SensorSite("H1", "gw-1", "s1", "bedroom"), SensorSite("H2", "gw-2", "s1", "kitchen")]
    state = FleetState()
    findings, tasks = [], []
    now = START + timedelta(minutes=15)
    settings = RunnerSettings()
    while now <= START + timedelta(days=5, hours=2):
        store.now_s = int(now.timestamp())
        result = run_in_memory(store, state, sites, now=now, settings=settings)
        findings += result.findings
        tasks += result.tasks
        now += timedelta(minutes=15)
    return state, findings, tasks


def test_a_three_day_replay_gives_the_same_state_and_findings_as_on_time():
    start_s = int(START.timestamp())
    on_time, found_on_time, _ = _run(None)
    late, found_late, tasks = _run((start_s + 36 * H, start_s + 36 * H + 3 * 86400 - 12 * H))
    assert [t.sensor.gateway_id for t in tasks if t.kind == "silent"] == ["gw-2"]
    silent = BIT[
        "silent"
    ]  # silence is about arrival, not the data: the late run saw it, and it cleared
    assert (late["active"] & silent).sum() == 0
    for name, array in on_time.arrays.items():
        np.testing.assert_array_equal(array, late.arrays[name], err_msg=name)
    assert sorted(map(repr, found_on_time)) == sorted(map(repr, found_late))
    assert any(f.rule_key == "leak_step" and f.home_id == "H2" for f in found_late)


def test_late_readings_into_a_folded_hour_are_refolded():
    start_s = int(START.timestamp())
    readings = [
        (start_s + k * 900, Reading("gw-1", "s1", start_s + k * 900, 20.0, 50.0, 15.0, 80.0))
        for k in range(12)
    ]
    # A reading of 01:30 that only arrives at 02:40, after hour 01 was folded at the 02:20 pass.
    late = Reading("gw-1", "s1", start_s + 5400 + 60, 30.0, 90.0, 15.0, 80.0)
    readings.append((start_s + 2 * H + 40 * 60, late))
    store = VisibleStore(readings)
    sites = [SensorSite("H1", "gw-1", "s1", "kitchen")]
    settings = RunnerSettings(late_check_h=2)
    state = FleetState()
    counts = []
    for now in (START + timedelta(hours=2, minutes=20), START + timedelta(hours=2, minutes=45)):
        store.now_s = int(now.timestamp())
        counts.append(run_in_memory(store, state, sites, now=now, settings=settings).late_refolded)
    assert counts == [0, 1]  # the re-read of whole folded hours is not late; the added reading is
    assert float(state["temperature_ring"][0, -1]) == 22.0  # hour 01 re-folded: (3 × 20 + 30) / 4
    assert int(state["through_s"][0]) == start_s + 2 * H


def test_gap_hours_filled_later_are_refolded_and_raise_what_they_imply():
    start_s = int(START.timestamp())
    sites = [SensorSite("H1", "gw-1", "s1", "bathroom")]

    def at(hour: int, rh: float, arrive_h: int) -> list[tuple[int, Reading]]:
        return [
            (
                start_s + arrive_h * H,
                Reading("gw-1", "s1", start_s + hour * H + q * 900, 21.0, rh, None, 90.0),
            )
            for q in range(4)
        ]

    readings = [r for h in range(0, 10) for r in at(h, 55.0, h)]
    readings += [r for h in range(16, 20) for r in at(h, 55.0, h)]  # live again first
    readings += [r for h in range(10, 16) for r in at(h, 90.0, 19)]  # the buffer, uploaded after
    store = VisibleStore(readings)
    state = FleetState()
    found = []
    for now in (START + timedelta(hours=18, minutes=30), START + timedelta(hours=19, minutes=30)):
        store.now_s = int(now.timestamp())
        result = run_in_memory(store, state, sites, now=now)
        found.append(sorted(f.rule_key for f in result.findings))
    assert found == [[], ["sustained_humidity"]]
    assert result.late_refolded == 6


@pytest.mark.parametrize(
    ("outdoor_c", "conditions"), [(None, "room_air_fallback"), (2.0, "surface_model")]
)
def test_a_mould_finding_names_its_rule_version_figures_and_the_model_it_used(
    outdoor_c, conditions
):
    from detectors.findings import evidence
    from detectors.rules.table import MOULD_GROWTH

    hours = 24 * 7 * 4
    outdoor = None if outdoor_c is None else np.full(hours, outdoor_c)
    _, findings = _fold_series(np.full(hours, 20.0), np.full(hours, 85.0), outdoor=outdoor)
    (mould,) = [f for _, f in findings if f.rule_key == "mould_growth"]
    record = evidence(mould)
    assert record["rule"] == "mould_growth"
    assert record["rule_version"] == MOULD_GROWTH.version
    assert record["conditions"] == conditions
    assert record["figures"]["mould_index"] > 0  # type: ignore[index]
    _, findings = _fold_series(np.full(hours, 14.0), np.full(hours, 60.0), room="living")
    (cold,) = [f for _, f in findings if f.rule_key == "excess_cold"]
    assert evidence(cold)["conditions"] == "room_air"


def test_state_rows_look_known_keys_up_and_add_new_ones_in_order_of_first_appearance():
    state = FleetState()
    assert state.rows([("gw", "a"), ("gw", "b")]).tolist() == [0, 1]
    rows = state.rows([("gw", "b"), ("gw2", "c"), ("gw", "a"), ("gw2", "c"), ("gw", "d")])
    assert rows.tolist() == [1, 2, 0, 2, 3]
    assert state.keys == [("gw", "a"), ("gw", "b"), ("gw2", "c"), ("gw", "d")]
    assert state["through_s"].shape == (4,)
    assert state.rows([]).tolist() == []


def test_drift_median_of_other_sensors_is_numpys_nanmedian_without_its_warnings():
    rng = np.random.default_rng(3)
    for _ in range(200):
        shape = (int(rng.integers(1, 30)), int(rng.integers(1, 6)), int(rng.integers(1, 15)))
        values = np.round(rng.normal(0, 50, shape))  # ties, and zeros of either sign
        values[rng.random(shape) < rng.random()] = np.nan
        if rng.random() < 0.2:
            values[np.isfinite(values)] = -0.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = np.nanmedian(values, axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = quiet_nanmedian(values)
        assert np.array_equal(got, expected, equal_nan=True)
        assert np.array_equal(np.signbit(got), np.signbit(expected))
