"""Each scenario produces its hazard in the ground truth; healthy homes do not; same seed, same data."""

from __future__ import annotations

from collections import Counter, defaultdict

import orjson
import pytest

from firmware_sim.homes import (
    HOMES_CSV_COLUMNS,
    HOUSEHOLDS_CSV_COLUMNS,
    homes_rows,
    households_rows,
    plan_homes,
)
from firmware_sim.physics.weather import heatwave_start_epoch_s
from firmware_sim.runner import FleetRun
from firmware_sim.scenarios import SCENARIOS, expected_truth_keys, mix_scenarios

pytestmark = pytest.mark.unit

END_S = 1_795_545_600  # 2026-11-24T00:00Z: late autumn, in the heating season
DAYS = 30
SUMMER_END_S = (
    heatwave_start_epoch_s(1, 2026) + 10 * 86400
)  # a July window holding seed 1's heatwave


def _run(seed: int = 1, scenarios=SCENARIOS, days: int = DAYS, end_s: int = END_S):
    plans = plan_homes([*scenarios, SCENARIOS[0]], seed)
    run = FleetRun(plans, seed=seed, window_start_s=end_s - days * 86400, window_end_s=end_s)
    payloads = [(b.ts, h, p) for b in run.batches() for h, p in b.messages if p is not None]
    return plans, run, payloads


@pytest.fixture(scope="module")
def fleet():
    return _run()


@pytest.fixture(scope="module")
def summer_fleet():
    return _run(end_s=SUMMER_END_S)


def _truth_by_home(run) -> dict[str, set[str]]:
    truth: dict[str, set[str]] = defaultdict(set)
    for r in run.truth_records():
        truth[r["home_id"]].add(r["hazard"])
    return truth


@pytest.mark.parametrize("which", ["fleet", "summer_fleet"])
def test_each_scenario_produces_its_declared_truth_in_season_and_none_out_of_it(which, request):
    plans, run, _ = request.getfixturevalue(which)
    truth = _truth_by_home(run)
    seasonal = {"excess_cold", "excess_heat"}
    for plan in plans:
        expected = set(expected_truth_keys(plan.scenario, run.window_start_s, run.window_end_s))
        assert expected <= truth[plan.home_id], (plan.scenario.key, truth[plan.home_id])
        phantom = (set(plan.scenario.truth_keys) - expected) & seasonal & truth[plan.home_id]
        assert not phantom, (plan.scenario.key, phantom)


def test_seasons_follow_the_calendar(fleet, summer_fleet):
    by_key = {p.scenario.key: p for p in fleet[0]}
    assert "excess_heat" not in expected_truth_keys(
        by_key["overheating"].scenario, END_S - DAYS * 86400, END_S
    )
    assert "excess_cold" not in expected_truth_keys(
        by_key["under_heated"].scenario, SUMMER_END_S - DAYS * 86400, SUMMER_END_S
    )
    winter_truth, summer_truth = _truth_by_home(fleet[1]), _truth_by_home(summer_fleet[1])
    assert all("excess_heat" not in v for v in winter_truth.values())  # no heatwave in November
    assert all("excess_cold" not in v for v in summer_truth.values())  # nor cold in July


@pytest.mark.parametrize("which", ["fleet", "summer_fleet"])
def test_healthy_homes_have_no_hazard_or_fault(which, request):
    plans, run, _ = request.getfixturevalue(which)
    healthy = {p.home_id for p in plans if p.scenario.key == "healthy"}
    assert len(healthy) == 2
    assert [r for r in run.truth_records() if r["home_id"] in healthy] == []


def test_leak_is_an_emergency_from_its_onset(fleet):
    _, run, _ = fleet
    leaks = [r for r in run.truth_records() if r["hazard"] == "leak"]
    assert len(leaks) == 1
    assert leaks[0]["category"] == "emergency"
    assert leaks[0]["room"] == "kitchen"
    assert leaks[0]["start_ts"] == pytest.approx(END_S - DAYS * 86400 * 0.4, abs=3600)


def test_every_message_fits_the_contract_shape(fleet):
    _, _, payloads = fleet
    for ts, _, payload in payloads:
        assert len(payload) <= 64 * 1024
        msg = orjson.loads(payload)
        assert msg["v"] == 1
        assert isinstance(msg["seq"], int)
        assert 1 <= len(msg["readings"]) <= 500
        sensors = [r["sensor"] for r in msg["readings"]]
        assert len(sensors) == len(set(sensors))
        for r in msg["readings"]:
            assert ts - 35 * 86400 <= r["ts"] <= ts + 300
            assert -40 <= r["temperature_c"] <= 85
            assert 0 <= r["humidity_pct"] <= 100
            assert 0 <= r["battery_pct"] <= 100
            assert "wme_pct" not in r or 0 <= r["wme_pct"] <= 100
            assert all(round(r[k], 1) == r[k] for k in r if k.endswith(("_c", "_pct")))


def test_messages_pass_the_ingest_contract_validator(fleet):
    contract = pytest.importorskip("ingest.contract")
    _, _, payloads = fleet
    for ts, h, payload in payloads[:: max(1, len(payloads) // 3000)]:
        decoded = contract.decode_telemetry(
            f"homesafe/v1/gw/gw-H{h + 1:05d}/telemetry",
            payload,
            received_at_s=ts,
            known_gateway=lambda _g: "H",
        )
        assert not decoded.rejections, decoded.rejections


def test_seq_rises_by_one_per_message_per_gateway(fleet):
    _, _, payloads = fleet
    seqs = defaultdict(list)
    for _, h, p in payloads:
        seqs[h].append(orjson.loads(p)["seq"])
    for values in seqs.values():
        assert values == list(range(len(values)))


def test_same_seed_same_readings_and_another_seed_differs():
    scenarios = (SCENARIOS[0], SCENARIOS[2])
    a = _run(seed=5, scenarios=scenarios, days=2)[2]
    b = _run(seed=5, scenarios=scenarios, days=2)[2]
    c = _run(seed=6, scenarios=scenarios, days=2)[2]
    assert a == b
    assert a != c


def test_mix_is_mostly_healthy_in_set_proportions():
    drawn = Counter(s.key for s in mix_scenarios(1000, 3))
    for s in SCENARIOS:
        assert abs(drawn[s.key] - 1000 * s.mix_weight) <= 1
    assert mix_scenarios(50, 3) == mix_scenarios(50, 3)


def test_registry_rows_follow_the_contract_vocabularies():
    plans = plan_homes(mix_scenarios(40, 2), 2)
    homes, households = homes_rows(plans), households_rows(plans, 2)
    assert all(tuple(r) == HOMES_CSV_COLUMNS for r in homes)
    assert len(homes) == 40 * 4
    assert all(tuple(r) == HOUSEHOLDS_CSV_COLUMNS for r in households)
    assert len(households) == 40
    assert {r["archetype"] for r in homes} <= {
        "flat",
        "maisonette",
        "house",
        "bungalow",
        "bedsit",
        "other",
    }
    assert {r["room"] for r in homes} <= {
        "living",
        "bedroom",
        "kitchen",
        "bathroom",
        "hall",
        "other",
    }
    assert all(1 <= int(r["imd_decile"]) <= 10 for r in homes)
    assert homes[0]["home_id"] == "H00001"
    assert homes[0]["gateway_id"] == "gw-H00001"
    assert homes[0]["sensor_id"] == "s1"
    assert {r["ethnicity"] for r in households} <= {
        "Asian",
        "Black",
        "Mixed",
        "White",
        "Other",
        "Not known",
    }
    for key in ("disability", "children_under_5", "over_65"):
        assert {r[key] for r in households} <= {"yes", "no", "not known"}
