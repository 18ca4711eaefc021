"""Cold, heat, moisture and sensor-health rules on hand-built series."""

import numpy as np
import pandas as pd
import pytest

from detectors.findings import SensorRef
from detectors.rules import FLEET_RULES, HOME_FLEET_RULES, Household
from detectors.rules.table import (
    ADAPTIVE_HEAT,
    BEDROOM_NIGHT_HEAT,
    DAMP,
    EXCESS_COLD_RULE,
    LEAK_STEP,
)

from .factories import context, hourly_frame, utc

pytestmark = pytest.mark.unit
WINTER = utc(2026, 1, 15, 12)
FLEET = {rule.key: rule for rule in FLEET_RULES}


def test_cold_home_never_reaching_18c_with_heating_off():
    frame = hourly_frame(
        WINTER, 168, temperature_c=15.0 + 0.5 * np.sin(np.arange(168) / 24 * 2 * np.pi)
    )
    (finding,) = EXCESS_COLD_RULE.run(frame, context(WINTER)).findings
    assert finding.hazard == "excess_cold"
    assert finding.category == "potential"
    assert "heating appears off" in finding.evidence_basis
    assert finding.figures["hours_below_serious_threshold_h"] == 168


def test_cold_home_with_heating_on_says_so():
    t = np.full(168, 14.0)
    for day in range(7):  # the heating comes on at 17:00 and lifts the room 3 K by 19:00
        t[day * 24 + 17 : day * 24 + 21] = [15.0, 16.5, 17.0, 17.0]
    (finding,) = EXCESS_COLD_RULE.run(
        hourly_frame(WINTER, 168, temperature_c=t), context(WINTER)
    ).findings
    assert "heating on but the home does not warm up" in finding.evidence_basis


def test_warm_home_kitchen_and_summer_are_quiet():
    warm = hourly_frame(WINTER, 168, temperature_c=20.0)
    assert EXCESS_COLD_RULE.run(warm, context(WINTER)).findings == ()
    cold = hourly_frame(WINTER, 168, temperature_c=15.0)
    assert EXCESS_COLD_RULE.run(cold, context(WINTER, room="kitchen")).findings == ()
    july = utc(2026, 7, 15)
    assert (
        EXCESS_COLD_RULE.run(hourly_frame(july, 168, temperature_c=15.0), context(july)).findings
        == ()
    )


def test_cold_thresholds_rise_for_a_vulnerable_household():
    frame = hourly_frame(WINTER, 168, temperature_c=18.5)  # reaches 18, never 19
    assert EXCESS_COLD_RULE.run(frame, context(WINTER)).findings == ()
    (finding,) = EXCESS_COLD_RULE.run(
        frame, context(WINTER, household=Household(over_65=True))
    ).findings
    assert finding.figures["health_threshold_c"] == 19.0


def test_hypothermia_risk_for_an_older_person_is_an_emergency():
    frame = hourly_frame(WINTER, 168, temperature_c=8.0)
    (finding,) = EXCESS_COLD_RULE.run(
        frame, context(WINTER, household=Household(over_65=True))
    ).findings
    assert finding.category == "emergency"


def _nights(now, days, hot_hours_per_night):
    t = np.full(24 * days, 22.0)
    frame = hourly_frame(now, 24 * days, temperature_c=t)
    local_hour = frame.index.tz_convert("Europe/London").hour
    hot = np.isin(local_hour, [22, 23, 0, 1, 2, 3, 4, 5, 6][:hot_hours_per_night])
    frame.loc[hot, "temperature_c"] = 27.0
    frame.loc[(local_hour == 14), "temperature_c"] = 30.0  # hot afternoons do not count
    return frame


def test_tm59_bedroom_night_hours_over_32_trigger():
    now = utc(2026, 7, 31, 12)
    four_nights = _nights(now, 8, 4)  # 8 nights × 4 h = 32 h: not more than 1 %
    assert BEDROOM_NIGHT_HEAT.run(four_nights, context(now, room="bedroom")).findings == ()
    five = _nights(now, 8, 5)  # 40 h
    (finding,) = BEDROOM_NIGHT_HEAT.run(five, context(now, room="bedroom")).findings
    assert finding.figures["hours_over_threshold_h"] == 40
    assert "not the operative temperature" in finding.evidence_basis
    assert BEDROOM_NIGHT_HEAT.run(five, context(now, room="living")).findings == ()


def test_tm59_count_carries_across_passes():
    now = utc(2026, 7, 31, 12)
    frame = _nights(now, 8, 5)
    state = None
    for day in range(7, -1, -1):
        evaluation = BEDROOM_NIGHT_HEAT.run(
            frame, context(now - pd.Timedelta(days=day), "bedroom"), state
        )
        state = evaluation.state
    assert state.hours_h == 40
    assert evaluation.findings


def test_tm59_adaptive_exceedance():
    """Outdoor 20 °C: Trm 20, Tmax = 0.33·20 + 21.8 = 28.4; 29.4 °C and above exceeds by 1 K."""
    now = utc(2026, 7, 31)
    hot = hourly_frame(now, 24 * 31, temperature_c=29.5, outdoor_temperature_c=20.0)
    (finding,) = ADAPTIVE_HEAT.run(hot, context(now, room="living")).findings
    assert finding.figures["running_mean_outdoor_c"] == pytest.approx(20.0)
    assert finding.figures["limit_hours_h"] == pytest.approx(0.03 * 153 * 13)
    cool = hourly_frame(now, 24 * 31, temperature_c=29.3, outdoor_temperature_c=20.0)
    assert ADAPTIVE_HEAT.run(cool, context(now, room="living")).findings == ()
    assert ADAPTIVE_HEAT.run(cool, context(now, "living", Household(over_65=True))).findings
    no_outdoor = hourly_frame(now, 24 * 31, temperature_c=35.0)
    assert ADAPTIVE_HEAT.run(no_outdoor, context(now, room="living")).findings == ()


def test_damp_wme_sustained_over_20():
    (finding,) = DAMP.run(
        hourly_frame(WINTER, 168, wme_pct=np.linspace(18, 23, 168)), context(WINTER)
    ).findings
    assert finding.figures["wme_pct_trend_per_day"] == pytest.approx(5 / 167 * 24, rel=1e-3)
    assert DAMP.run(hourly_frame(WINTER, 168, wme_pct=19.5), context(WINTER)).findings == ()


def test_leak_step_is_an_emergency_found_within_the_hour():
    wme = np.full(5, 15.0)
    wme[-1] = 22.0  # the sim's leak: 25 %WME towards 40 with a 3 h time constant → +7 in 1 h
    frame = hourly_frame(WINTER, 5, wme_pct=wme, humidity_pct=55.0)
    (finding,) = LEAK_STEP.run(frame, context(WINTER)).findings
    assert finding.category == "emergency"
    assert finding.hazard == "leak"
    assert finding.window_end == WINTER


def test_leak_not_raised_by_slow_rise_or_humid_room():
    slow = hourly_frame(WINTER, 5, wme_pct=[15.0, 15.5, 16.0, 16.5, 17.0], humidity_pct=55.0)
    assert LEAK_STEP.run(slow, context(WINTER)).findings == ()
    steamy = hourly_frame(
        WINTER,
        5,
        wme_pct=[15.0, 15.0, 15.0, 15.0, 20.0],
        humidity_pct=[50.0, 50.0, 50.0, 50.0, 95.0],
    )
    assert LEAK_STEP.run(steamy, context(WINTER)).findings == ()


def test_stuck_value_but_not_saturated_humidity():
    frame = hourly_frame(WINTER, 72, temperature_c=19.0, humidity_pct=100.0)
    (task,) = FLEET["stuck_value"].run(frame, context(WINTER))
    assert task.kind == "stuck_value"
    assert "temperature_c" in task.description
    jitter = hourly_frame(
        WINTER,
        72,
        temperature_c=19.0 + np.arange(72) % 3 * 0.1,
        humidity_pct=60.0 + np.arange(72) % 2,
        wme_pct=15.0 + np.arange(72) % 2 * 0.1,
    )
    assert FLEET["stuck_value"].run(jitter, context(WINTER)) == ()


def test_out_of_range_burst_flat_battery_and_silence():
    t = np.full(25, 20.0)
    t[[10, 11]] = 80.0
    bursts = FLEET["out_of_range"].run(hourly_frame(WINTER, 25, temperature_c=t), context(WINTER))
    assert bursts[0].kind == "out_of_range"
    assert (
        FLEET["out_of_range"].run(hourly_frame(WINTER, 25, temperature_c=20.0), context(WINTER))
        == ()
    )
    assert FLEET["flat_battery"].run(
        hourly_frame(WINTER, 3, battery_pct=[30, 12, 8]), context(WINTER)
    )
    assert (
        FLEET["flat_battery"].run(hourly_frame(WINTER, 3, battery_pct=[8, 12, 30]), context(WINTER))
        == ()
    )
    quiet_since = hourly_frame(WINTER - pd.Timedelta(hours=7), 24, temperature_c=20.0)
    (task,) = FLEET["silent"].run(quiet_since, context(WINTER))
    assert task.figures["silent_h"] == 7
    assert FLEET["silent"].run(hourly_frame(WINTER, 24, temperature_c=20.0), context(WINTER)) == ()
    assert FLEET["silent"].run(pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC")), context(WINTER))


def test_drift_against_the_other_sensors():
    hours = 24 * 14
    drifting = 55.0 + np.linspace(0, 12, hours)
    frames = {
        SensorRef("gw", f"s{i}"): hourly_frame(
            WINTER, hours, temperature_c=20.0, humidity_pct=55.0 + i
        )
        for i in range(3)
    }
    frames[SensorRef("gw", "s9")] = hourly_frame(
        WINTER, hours, temperature_c=20.0, humidity_pct=drifting
    )
    (drift,) = HOME_FLEET_RULES
    tasks = drift.run(frames, "home-1", WINTER)
    assert [t.sensor.sensor_id for t in tasks] == ["s9"]
