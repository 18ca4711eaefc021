"""Pure parts of interop: the TSM financial year (April to March, UK local time) and the data
model's code lists (ids are positions in the published INSERTs; written from the model's
all_component.sql, MIT)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from interop import enums, tsm

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text", ["2025", "2025/26", "2025-26", "2025-2026", " 2025 "])
def test_a_financial_year_runs_from_1_april_local_time(text):
    year = tsm.financial_year(text, "Europe/London")
    assert year.label == "2025/26"
    # 1 April is in British Summer Time: the year starts at 23:00 UTC on 31 March
    assert year.start.astimezone(UTC) == datetime(2025, 3, 31, 23, 0, tzinfo=UTC)
    assert year.end.astimezone(UTC) == datetime(2026, 3, 31, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2025/27", "25", "last year", "2025-2027", "1900"])
def test_other_years_are_refused_with_a_reason(text):
    with pytest.raises(ValueError, match="year"):
        tsm.financial_year(text, "Europe/London")


def test_the_year_a_day_falls_in():
    assert tsm.year_of(date(2026, 3, 31)) == 2025
    assert tsm.year_of(date(2026, 4, 1)) == 2026


def test_rp02_rows_carry_numerator_denominator_and_percentage():
    rows = tsm.rows((3, 4), (0, 0))
    assert [(r.numerator, r.denominator, r.percentage) for r in rows] == [
        (3, 4, 75.0),
        (0, 0, None),
    ]
    text = tsm.to_csv(rows, tsm.financial_year("2025", "Europe/London"))
    assert text.splitlines()[0].split(",")[:3] == ["measure", "description", "year"]
    assert ",3,4,75.0," in text
    assert ",0,0,," in text


def test_code_ids_are_positions_in_the_published_lists():
    assert enums.code_id(enums.TRIGGER_SOURCES, "Environmental Sensor") == 3
    assert enums.code_id(enums.INVESTIGATION_TYPES, "Emergency") == 4
    assert enums.code_id(enums.ESCALATION_TYPES, "Alternative Accommodation") == 4
    assert enums.code_id(enums.NOTIFICATION_METHODS, "Phone Call") == 3
    assert enums.code_name(enums.REPORT_STATUSES, 3) == "Made Safe"
    with pytest.raises(KeyError):
        enums.code_id(enums.TRIGGER_SOURCES, "Drone")
    assert enums.code_rows(enums.SEVERITIES, "severity")[0] == {
        "severity_id": 1,
        "severity": "High",
    }


def test_every_homesafe_value_maps_onto_a_code():
    assert set(enums.TRIGGER_SOURCE_FOR) == {"sensor", "tenant", "staff", "contractor"}
    for mapped, codes in (
        (enums.TRIGGER_SOURCE_FOR.values(), enums.TRIGGER_SOURCES),
        (enums.INVESTIGATION_TYPE_FOR.values(), enums.INVESTIGATION_TYPES),
        (enums.SEVERITY_FOR_OUTCOME.values(), enums.SEVERITIES),
        (enums.NOTIFICATION_METHOD_FOR.values(), enums.NOTIFICATION_METHODS),
        (enums.INVESTIGATION_STATUS_FOR_EVENT.values(), enums.INVESTIGATION_STATUSES),
        (enums.WORK_STATUS_FOR.values(), enums.WORK_STATUSES),
    ):
        assert set(mapped) <= set(codes)
    from compliance.enums import EVENT_TYPES

    assert set(EVENT_TYPES) | {"triage_confirmed"} == set(enums.INVESTIGATION_STATUS_FOR_EVENT)
