"""Rule sets as data: hazards, phases, the rule set in force."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from compliance.enums import CLOCK_KINDS
from compliance.rules import (
    HAZARDS,
    PHASE_1,
    PHASE_2,
    PHASE_3_PENDING,
    RULE_SETS,
    ComplianceSettings,
    OutOfScope,
    rule_set_for,
)

pytestmark = pytest.mark.unit
LONDON = ZoneInfo("Europe/London")


def test_hhsrs_2005_has_29_hazards_numbered_1_to_29() -> None:
    assert [h.number_2005 for h in HAZARDS] == list(range(1, 30))
    assert len({h.key for h in HAZARDS}) == 29
    by_number = {h.number_2005: h.key for h in HAZARDS}
    # Fixed points of the 2005 Schedule 1 order.
    assert (by_number[1], by_number[2], by_number[3]) == (
        "damp_and_mould",
        "excess_cold",
        "excess_heat",
    )
    assert by_number[11] == "crowding_and_space"
    assert by_number[18] == "water_supply"
    assert by_number[24] == "fire"
    assert by_number[29] == "structural_collapse"


def test_contract_hazard_keys_exist() -> None:
    keys = {h.key for h in HAZARDS}
    contract = {
        "damp_and_mould",
        "excess_cold",
        "excess_heat",
        "falls_baths",
        "falls_level",
        "falls_stairs",
        "falls_between_levels",
        "structural_collapse",
        "explosions",
        "fire",
        "electrical",
        "domestic_hygiene",
        "personal_hygiene",
        "food_safety",
        "water_supply",
        "carbon_monoxide",
    }
    assert contract <= keys


def test_overcrowding_is_never_in_scope() -> None:
    for rule_set in (*RULE_SETS, PHASE_3_PENDING):
        assert "crowding_and_space" not in rule_set.emergency_hazards
        assert "crowding_and_space" not in rule_set.significant_hazards
        assert len(rule_set.emergency_hazards) == 28


def test_phase_2_adds_the_listed_hazards() -> None:
    added = PHASE_2.significant_hazards - PHASE_1.significant_hazards
    assert PHASE_1.significant_hazards == {"damp_and_mould"}
    assert added == {
        "excess_cold",
        "excess_heat",
        "falls_baths",
        "falls_level",
        "falls_stairs",
        "falls_between_levels",
        "structural_collapse",
        "explosions",
        "fire",
        "electrical",
        "domestic_hygiene",
        "personal_hygiene",
        "food_safety",
    }
    assert PHASE_1.covers("excess_cold", "emergency")
    assert not PHASE_1.covers("excess_cold", "potential")
    assert PHASE_2.covers("excess_cold", "potential")
    assert not PHASE_2.covers("noise", "significant")


@pytest.mark.parametrize(
    ("aware_at", "key"),
    [
        (datetime(2025, 10, 27, 0, 0, tzinfo=LONDON), "phase_1"),
        (datetime(2026, 11, 29, 23, 59, 59, tzinfo=LONDON), "phase_1"),
        (datetime(2026, 11, 30, 0, 0, tzinfo=LONDON), "phase_2"),
        (datetime(2030, 1, 1, 12, tzinfo=UTC), "phase_2"),
        # BST ended on 26 Oct 2025, so 27 Oct 00:00 in London is 00:00Z.
        (datetime(2025, 10, 27, 0, 0, tzinfo=UTC), "phase_1"),
    ],
)
def test_rule_set_by_local_awareness_date(aware_at: datetime, key: str) -> None:
    assert rule_set_for(aware_at, "Europe/London").key == key


def test_rule_set_uses_the_local_date_not_the_utc_date() -> None:
    # 2026-11-29T23:30Z is 23:30 GMT on the 29th in London but 00:30 on the 30th in Paris.
    at = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
    assert rule_set_for(at, "Europe/London").key == "phase_1"
    assert rule_set_for(at, ZoneInfo("Europe/Paris")).key == "phase_2"


def test_before_the_law_is_out_of_scope() -> None:
    with pytest.raises(OutOfScope, match="2025-10-26"):
        rule_set_for(datetime(2025, 10, 26, 23, 59, tzinfo=LONDON), "Europe/London")


def test_phase_3_is_one_entry() -> None:
    phase_3 = replace(PHASE_3_PENDING, effective_from=date(2027, 10, 1))
    rule_sets = (*RULE_SETS, phase_3)
    assert (
        rule_set_for(datetime(2027, 9, 30, 12, tzinfo=UTC), "Europe/London", rule_sets).key
        == "phase_2"
    )
    chosen = rule_set_for(datetime(2027, 10, 1, 12, tzinfo=UTC), "Europe/London", rule_sets)
    assert chosen.key == "phase_3"
    assert chosen.covers("noise", "significant")
    assert rule_set_for(datetime(2099, 1, 1, tzinfo=UTC), "Europe/London").key == "phase_2"


def test_every_clock_kind_has_a_rule() -> None:
    for rule_set in RULE_SETS:
        assert {rule.kind for rule in rule_set.clocks} == set(CLOCK_KINDS)
    assert PHASE_1.clock("investigate").duration == 10
    assert PHASE_1.clock("investigate").unit == "working_days"
    assert PHASE_1.clock("emergency_action").duration == 24
    assert PHASE_1.clock("emergency_action").unit == "hours"
    with pytest.raises(KeyError):
        PHASE_1.clock("reinvestigate")


def test_settings_defaults_are_the_cautious_ones() -> None:
    settings = ComplianceSettings()
    assert settings.emergency_clock_start == "awareness"
    assert settings.supplementary_work_days == 84
    assert settings.awareness_from_sensors == "on_detection"
    assert settings.reinvestigation_working_days == 10
    assert (settings.warning_working_days, settings.warning_hours) == (2, 4)
