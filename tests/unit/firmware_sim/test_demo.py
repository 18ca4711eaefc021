"""The demo fleet: home 1 clearly damp, the others healthy, registry rows for exactly those homes."""

from __future__ import annotations

import orjson
import pytest

from firmware_sim.demo import DEMO_SPINUP_S, demo_plans, demo_registry_rows
from firmware_sim.runner import FleetRun

pytestmark = pytest.mark.unit

NOW_S = 1_795_545_600


def _last_12h_humidity(home: int, sensor: str) -> list[float]:
    plans = demo_plans(4, 1)
    run = FleetRun(plans, seed=1, window_start_s=NOW_S - 48 * 3600, window_end_s=NOW_S + 365 * 86400,
                   interval_s=900, spinup_s=DEMO_SPINUP_S)
    values = []
    for batch in run.batches(NOW_S):
        for h, payload in batch.messages:
            if h == home and payload and batch.ts > NOW_S - 12 * 3600:
                values += [r["humidity_pct"] for r in orjson.loads(payload)["readings"] if r["sensor"] == sensor]
    return values


def test_home_1_bedroom_is_clearly_damp_for_most_of_the_last_12_hours():
    values = _last_12h_humidity(0, "s2")
    assert len(values) == 48
    assert sum(v >= 85.0 for v in values) / len(values) >= 0.75
    # damp, not a cloud: a bedroom with condensing windows sits around 85–95 %, not 100 % for hours
    assert 85.0 <= sorted(values)[len(values) // 2] <= 97.0
    assert sum(v >= 99.5 for v in values) <= 4


def test_other_demo_homes_are_not_damp():
    values = _last_12h_humidity(1, "s2")
    assert sum(v >= 80.0 for v in values) < 6 * 4  # the placeholder rule: ≥ 80 % for ≥ 6 of 12 h


def test_demo_registry_rows_cover_exactly_the_demo_homes():
    homes, households = demo_registry_rows(3, 1)
    assert sorted({r["home_id"] for r in homes}) == ["H00001", "H00002", "H00003"]
    assert [r["home_id"] for r in households] == ["H00001", "H00002", "H00003"]
    assert {r["gateway_id"] for r in homes} == {"gw-H00001", "gw-H00002", "gw-H00003"}
