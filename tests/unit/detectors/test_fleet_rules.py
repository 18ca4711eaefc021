"""The fast path's surface RH, TM59 adaptive and humidity-drift rules against hand-worked values."""

from datetime import UTC, datetime

import numpy as np
import pytest

from detectors.fleet import (
    BIT,
    FleetState,
    HourBatch,
    SiteInfo,
    drift_tasks,
    fold_hours,
    running_mean_update,
)
from detectors.psychro import humidity_from_wme_pct, psat_pa

pytestmark = pytest.mark.unit

H = 3600
WINTER = datetime(2026, 1, 5, tzinfo=UTC)  # local midnight (GMT)
SUMMER = datetime(2026, 7, 1, 23, tzinfo=UTC)  # local midnight of 2 July (BST)


def _fold(
    t,
    rh,
    *,
    start=WINTER,
    outdoor=None,
    room="kitchen",
    vulnerable=False,
    sites=None,
    rows_n=1,
    wme=None,
    active_bits=0,
):
    """Fold one sensor's hourly series (or several sensors' columns); findings with their hour index."""
    t, rh = np.atleast_2d(np.asarray(t, float).T).T, np.atleast_2d(np.asarray(rh, float).T).T
    if t.ndim == 1 or (t.shape[0] == 1 and rows_n == 1):
        t, rh = t.reshape(-1, 1), rh.reshape(-1, 1)
    state = FleetState()
    keys = [("gw", f"s{k}") for k in range(t.shape[1])]
    rows = state.rows(keys)
    state["active"][rows] |= active_bits
    sites = sites or [SiteInfo("home", room, vulnerable)]
    found = []
    start_s = int(start.timestamp())
    for i in range(t.shape[0]):
        n = t.shape[1]
        out = np.full(n, np.nan) if outdoor is None else np.full(n, outdoor[i])
        batch = HourBatch(
            rows,
            np.full(n, start_s + i * H, dtype=np.int64),
            t[i],
            rh[i],
            np.full(n, np.nan) if wme is None else np.full(n, wme[i]),
            np.full(n, np.nan),
            out,
        )
        found += [(i, f) for f in fold_hours(state, batch, sites).findings]
    return state, found


def _first(found, key):
    hits = [i for i, f in found if f.rule_key == key]
    return hits[0] if hits else None


def test_surface_rh_over_80_for_half_a_week_fires_at_the_84th_hour():
    _, found = _fold(np.full(100, 20.0), np.full(100, 85.0))
    assert (
        _first(found, "surface_humidity") == 83
    )  # 84 hours ≥ 80 % within today and the 6 days before
    (f,) = [f for _, f in found if f.rule_key == "surface_humidity"]
    assert f.figures["hours_over_threshold_7d_h"] == 84
    assert "fell back to room-air" in f.evidence_basis


def test_surface_rh_30_day_mean_fires_once_coverage_allows():
    # Each day 10 h at 86 % then 14 h at 76 %: 70 h a week over 80 % (< 84) but a mean of 80.17 %.
    day_rh = [86.0] * 10 + [76.0] * 14
    rh = np.array(day_rh * 25)
    _, found = _fold(np.full(rh.size, 20.0), rh)
    i = _first(found, "surface_humidity")
    # Coverage 0.66 × 720 h = 475.2 h, so the 476th hour; mean then (19·1924 + 10·86 + 10·76)/476 = 80.20 %.
    assert i == 475
    (f,) = [f for _, f in found if f.rule_key == "surface_humidity"]
    assert f.figures["surface_rh_pct_mean_30d"] == pytest.approx(38176 / 476, abs=1e-3)
    assert f.figures["hours_over_threshold_7d_h"] < 84


def test_surface_rh_30_day_mean_does_not_apply_below_5_c():
    day_rh = [86.0] * 10 + [76.0] * 14
    rh = np.array(day_rh * 25)
    _, found = _fold(np.full(rh.size, 4.0), rh)
    assert _first(found, "surface_humidity") is None


def test_surface_rh_uses_surface_conditions_with_outdoor_temperature():
    # docs/detectors.md: 20 °C, 60 %, outdoors 5 °C, fRsi 0.75 → RHsi ≈ 75.9 % (< 80: nothing);
    # at 0 °C outside θsi = 15 °C and RHsi = 60·psat(20)/psat(15) ≈ 82 % (≥ 80: fires at hour 84).
    hours = 100
    _, found = _fold(np.full(hours, 20.0), np.full(hours, 60.0), outdoor=np.full(hours, 5.0))
    assert _first(found, "surface_humidity") is None
    assert 60.0 * float(psat_pa(20.0)) / float(psat_pa(15.0)) == pytest.approx(82.0, abs=0.3)
    _, found = _fold(np.full(hours, 20.0), np.full(hours, 60.0), outdoor=np.full(hours, 0.0))
    assert _first(found, "surface_humidity") == 83


def test_a_wall_probe_reads_the_surface_a_junction_worse_than_the_critical_fsi_hides():
    # 20 °C, 60 %, outdoors 5 °C: RHsi ≈ 75.9 % at fRsi 0.75, nothing from the air alone; a damp
    # probe on that wall reading 17 %WME implies ≈ 82 % at the surface (16.25 °C, Wood Handbook
    # EMC), so the surface criterion holds from hour 84. A probe at 14 %WME (≈ 73 %) adds nothing.
    hours = 100
    air = (np.full(hours, 20.0), np.full(hours, 60.0))
    out = np.full(hours, 5.0)
    assert float(humidity_from_wme_pct(16.25, 17.0)) == pytest.approx(82.2, abs=0.1)
    _, found = _fold(*air, outdoor=out, wme=np.full(hours, 14.0), room="bedroom")
    assert _first(found, "surface_humidity") is None
    _, found = _fold(*air, outdoor=out, wme=np.full(hours, 17.0), room="bedroom")
    assert _first(found, "surface_humidity") == 83


def test_a_sensor_under_a_drift_task_raises_no_air_finding_but_its_probe_still_counts():
    hours = 100
    humid = (np.full(hours, 20.0), np.full(hours, 85.0))
    _, found = _fold(*humid, active_bits=BIT["humidity_drift"])
    assert found == []
    _, found = _fold(*humid)
    assert {f.rule_key for _, f in found} >= {"sustained_humidity", "surface_humidity"}
    wet = np.full(hours, 30.0)
    _, found = _fold(*humid, wme=wet, active_bits=BIT["humidity_drift"])
    assert {f.rule_key for _, f in found} == {"damp_wme"}


def test_running_mean_outdoor_temperature_update():
    # Trm = 0.2·25 + 0.8·20 = 21.0; the first day starts Trm at its mean; a day without data keeps it.
    out = running_mean_update([20.0, np.nan, 18.0], [25.0 * 24, 15.0 * 24, 0.0], [24, 24, 0], 0.8)
    np.testing.assert_allclose(out, [21.0, 15.0, 18.0], rtol=1e-6)


def test_tm59_adaptive_bedroom_limit_is_3_percent_of_season_hours():
    # Outdoor 20 °C every hour: from day 2, Trm 20 → Tmax = 0.33·20 + 21.8 = 28.4 °C; 29.5 °C exceeds by 1.1 K.
    # Bedroom occupied 24 h: limit 0.03·153·24 = 110.16 h → the 111th hour, index 24 + 110.
    hours = 24 * 8
    _, found = _fold(
        np.full(hours, 29.5),
        np.full(hours, 50.0),
        start=SUMMER,
        outdoor=np.full(hours, 20.0),
        room="bedroom",
    )
    assert _first(found, "tm59_adaptive") == 134
    (f,) = [f for _, f in found if f.rule_key == "tm59_adaptive"]
    assert f.figures["limit_hours_h"] == pytest.approx(110.16)
    assert f.figures["running_mean_outdoor_c"] == pytest.approx(20.0)
    assert f.hazard == "excess_heat"


def test_tm59_adaptive_living_room_counts_occupied_hours_and_vulnerable_limit():
    # Living room 09–22 (13 h a day): limit 0.03·153·13 = 59.67 → 60th occupied hour = day 6, hour 9 + 7.
    hours = 24 * 8
    out = np.full(hours, 20.0)
    _, found = _fold(
        np.full(hours, 29.5), np.full(hours, 50.0), start=SUMMER, outdoor=out, room="living"
    )
    assert _first(found, "tm59_adaptive") == 5 * 24 + 16
    # 28.5 °C: 0.1 K over Tmax 28.4 (no count) — but 1.1 K over the vulnerable Tmax 27.4 °C.
    _, found = _fold(
        np.full(hours, 28.5), np.full(hours, 50.0), start=SUMMER, outdoor=out, room="bedroom"
    )
    assert _first(found, "tm59_adaptive") is None
    _, found = _fold(
        np.full(hours, 28.5),
        np.full(hours, 50.0),
        start=SUMMER,
        outdoor=out,
        room="bedroom",
        vulnerable=True,
    )
    assert _first(found, "tm59_adaptive") == 134


def test_tm59_adaptive_is_skipped_without_outdoor_temperature_and_out_of_season():
    hours = 24 * 8
    _, found = _fold(np.full(hours, 35.0), np.full(hours, 50.0), start=SUMMER, room="bedroom")
    assert _first(found, "tm59_adaptive") is None  # no Trm: the criterion cannot run
    _, found = _fold(
        np.full(hours, 35.0),
        np.full(hours, 50.0),
        start=WINTER,
        outdoor=np.full(hours, 20.0),
        room="bedroom",
    )
    assert _first(found, "tm59_adaptive") is None  # May–September only


ROOMS = ("living", "bedroom", "kitchen", "bathroom")


def _home(rh_of_sensor_0, *, stuck_from_h: int | None = None, rh_of_others=lambda _h: 50.0):
    """Four sensors at 20 °C / 50 % (with a little noise: real sensors are never stuck) for 17
    days; sensor 0's RH from a function of the hour (and the others' too, if given)."""
    days = 17
    hours = 24 * days
    rng = np.random.default_rng(0)
    t = 20.0 + rng.normal(
        0.0, 0.05, (hours, 4)
    )  # each measurement moves (stuck is per measurement)
    rh = 50.0 + rng.normal(0.0, 0.3, (hours, 4))
    rh[:, 1:] += np.array([rh_of_others(h) - 50.0 for h in range(hours)])[:, None]
    rh[:, 0] += [rh_of_sensor_0(h) - 50.0 for h in range(hours)]
    if stuck_from_h is not None:  # a wet spell from day 8; sensor 0 repeats one value
        wet = 1.5 * np.maximum(np.arange(hours) - 24 * 8, 0) / 24
        rh[:, 1:] += wet[:, None]
        rh[:, 0] += wet
        rh[stuck_from_h:, 0] = rh[stuck_from_h, 0]
    sites = [SiteInfo("home", room) for room in ROOMS]
    state, _ = _fold(t, rh, sites=sites, rows_n=4)
    return state, sites


NOW = datetime(2026, 1, 22, tzinfo=UTC)
PSAT_20 = 2336.9  # Pa at 20 °C (ISO 13788)


def test_humidity_drift_is_a_steady_move_away_from_the_home_s_other_sensors():
    # +1.5 % RH a day from day 3 (the simulator's drift): 35 Pa a day at 20 °C, every day.
    state, sites = _home(lambda h: 50.0 + 1.5 * max(h - 72, 0) / 24)
    tasks = drift_tasks(state, sites, now=NOW)
    assert [t.sensor.sensor_id for t in tasks] == ["s0"]
    (task,) = tasks
    assert task.kind == "drift"
    assert task.rule_version == 3
    # The window is the 14 complete days before today (days 2–15): head days 2–4, tail days 13–15.
    head = np.mean([max(24 * d + 11.5 - 72, 0) for d in (2, 3, 4)]) / 24 * 1.5
    tail = np.mean([24 * d + 11.5 - 72 for d in (13, 14, 15)]) / 24 * 1.5
    expected = (tail - head) / 100 * PSAT_20
    assert task.figures["vapour_pressure_offset_change_pa"] == pytest.approx(expected, abs=2.0)
    assert task.figures["vapour_pressure_offset_rate_pa_per_day"] == pytest.approx(
        0.015 * PSAT_20, abs=1.0
    )
    assert drift_tasks(state, sites, now=NOW) == []  # once per episode


def test_a_step_in_one_room_is_a_moisture_source_not_drift():
    # 8 % RH (187 Pa) more from day 10 and then steady: a leak or clothes drying in that room.
    state, sites = _home(lambda h: 58.0 if h >= 24 * 10 else 50.0)
    assert drift_tasks(state, sites, now=NOW) == []


def test_a_room_aired_through_a_warm_spell_follows_the_weather_not_drift():
    # A damp home in a heatwave from day 10: the outdoor air gets wetter, so the home's rooms
    # rise 0.5 % RH a day; the bedroom, its window open day and night, follows the outdoor air
    # instead and loses 2 % RH a day on its home (≈ 47 Pa a day) for the 6 days so far — a
    # change of about 200 Pa over the window, still moving on each of the last 5 days. Drift
    # rule version 2 raised this; a weather spell lasts days, a drifting sensor keeps going.
    def spell(h: int) -> float:
        return max(h - 24 * 10, 0) / 24

    state, sites = _home(
        lambda h: 50.0 + 0.5 * spell(h) - 2.0 * spell(h),
        rh_of_others=lambda h: 50.0 + 0.5 * spell(h),
    )
    assert drift_tasks(state, sites, now=NOW) == []


def test_slow_or_small_moves_are_within_tolerance():
    # 0.4 % RH a day (9 Pa a day): under 150 Pa over the window's edges.
    state, sites = _home(lambda h: 50.0 + 0.4 * h / 24)
    assert drift_tasks(state, sites, now=NOW) == []


def test_a_stuck_sensor_is_left_to_its_stuck_task():
    # Its offset falls steadily as the home gets wetter around it, but it has its stuck task.
    state, sites = _home(lambda _h: 50.0, stuck_from_h=24 * 4)
    assert state["active"][0] & BIT["stuck_value"]
    assert drift_tasks(state, sites, now=NOW) == []


def test_a_drifted_sensor_that_stops_moving_stays_under_its_task_until_it_reads_with_its_home():
    # Sensor 0 drifts +1.5 % RH a day from day 3, pins at 80 % (day 23) and is replaced on day 45.
    state = FleetState()
    rows = state.rows([("gw", f"s{k}") for k in range(4)])
    sites = [SiteInfo("home", room) for room in ROOMS]
    start_s = int(WINTER.timestamp())
    raised, drifting_at = [], {}
    rng = np.random.default_rng(0)
    noise = rng.normal(0.0, 0.3, (24 * 60, 4))  # real sensors: never stuck
    t_noise = rng.normal(0.0, 0.05, (24 * 60, 4))  # (stuck is judged per measurement)
    for h in range(24 * 60):
        rh0 = 50.0 if h >= 24 * 45 else min(50.0 + 1.5 * max(h - 72, 0) / 24, 80.0)
        batch = HourBatch(
            rows,
            np.full(4, start_s + h * H, dtype=np.int64),
            np.full(4, 20.0) + t_noise[h],
            np.array([rh0, 50.0, 50.0, 50.0]) + noise[h],
            np.full(4, np.nan),
            np.full(4, np.nan),
            np.full(4, np.nan),
        )
        fold_hours(state, batch, sites)
        if (h + 1) % 24 == 0:
            day = (h + 1) // 24
            now = datetime.fromtimestamp(start_s + (h + 1) * H, UTC)
            raised += [(day, t.sensor.sensor_id) for t in drift_tasks(state, sites, now=now)]
            drifting_at[day] = bool(state["active"][0] & BIT["humidity_drift"])
    assert len(raised) == 1  # one task for the whole episode …
    first = raised[0][0]
    assert raised[0][1] == "s0"
    assert first == 14  # the first day whose 14-day window has its head days measured
    # … and the sensor stays under it while pinned (day 23 on; the window is flat from day 38),
    assert all(drifting_at[d] for d in range(first, 46))
    # then reads with its home again once replaced, after the window has forgotten the drift.
    assert not drifting_at[60]
