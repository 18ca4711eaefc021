"""Registry CSV validation (contract section 2): every bad row reported by line, with its reason."""

from __future__ import annotations

import pytest

from registry.service import parse_homes, parse_households
from tests.factories import homes_csv, households_csv

pytestmark = pytest.mark.unit


def test_a_good_file_gives_homes_gateways_and_sensors():
    homes, sensors, errors = parse_homes(homes_csv(homes=3, sensors_per_home=4))
    assert errors == []
    assert [h.home_id for h in homes] == ["H0001", "H0002", "H0003"]
    assert len(sensors) == 12
    assert {s.gateway_id for s in sensors} == {"gw-0001", "gw-0002", "gw-0003"}


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("archetype", "castle", "archetype 'castle' is not one of"),
        ("room", "attic", "room 'attic' is not one of"),
        ("imd_decile", "0", "imd_decile 0 is outside 1..10"),
        ("imd_decile", "11", "imd_decile 11 is outside 1..10"),
        ("imd_decile", "five", "imd_decile 'five' is not a whole number"),
        ("gateway_id", "gw 1", "gateway_id 'gw 1' must be 1-64"),
        ("sensor_id", "s" * 65, "sensor_id"),
        ("postcode", "NOTAPOSTCODE", "is not a UK postcode"),
        ("uprn", "12ab", "uprn '12ab' must be up to 12 digits"),
        ("build_year", "19", "build_year 19 is outside"),
    ],
)
def test_each_bad_value_is_reported_with_its_line(column, value, reason):
    text = homes_csv(homes=1, sensors_per_home=1)
    lines = text.splitlines()
    lines.append(homes_csv(homes=2, sensors_per_home=1, **{column: value}).splitlines()[-1])
    _, _, errors = parse_homes("\n".join(lines) + "\n")
    assert len(errors) == 1
    assert errors[0].line == 3
    assert reason in errors[0].reason


def test_empty_imd_decile_is_allowed_and_vocabularies_ignore_case():
    homes, sensors, errors = parse_homes(
        homes_csv(homes=1, sensors_per_home=1, imd_decile="", archetype="Flat", room="Bedroom")
    )
    assert errors == []
    assert homes[0].imd_decile is None
    assert homes[0].archetype == "flat"
    assert sensors[0].room == "bedroom"


def test_a_missing_column_is_reported_on_the_header_line():
    text = homes_csv(homes=1).replace("imd_decile,", "", 1)
    _, _, errors = parse_homes(text)
    assert errors[0].line == 1
    assert "imd_decile" in errors[0].reason


def test_a_home_that_changes_between_its_rows_is_refused():
    text = homes_csv(homes=1, sensors_per_home=2)
    lines = text.splitlines()
    lines[2] = lines[2].replace(",flat,", ",house,")
    _, _, errors = parse_homes("\n".join(lines))
    assert [(e.line, "differs" in e.reason) for e in errors] == [(3, True)]


def test_a_gateway_in_two_homes_and_a_repeated_sensor_are_refused():
    first = homes_csv(homes=1, sensors_per_home=1).splitlines()
    moved = first[1].replace("H0001", "H0009")
    _, _, errors = parse_homes("\n".join([*first, moved, first[1]]))
    assert [e.line for e in errors] == [3, 4]
    assert "already belongs to home H0001" in errors[0].reason
    assert "repeats" in errors[1].reason


def test_households_name_known_homes_and_use_the_vocabularies():
    text = households_csv(["H0001", "H0002", "H0003"])
    lines = text.splitlines()
    lines[2] = lines[2].replace("Black", "Purple")
    households, errors = parse_households("\n".join(lines), known_homes={"H0001", "H0002"})
    assert [h.home_id for h in households] == ["H0001"]
    assert [(e.line, e.reason.split(" ")[0]) for e in errors] == [(3, "ethnicity"), (4, "home")]


def test_ethnicity_not_known_and_disability_not_known_are_valid():
    households, errors = parse_households(
        households_csv(["H0001"], ethnicity="Not known", disability="not known"),
        known_homes={"H0001"},
    )
    assert errors == []
    assert households[0].ethnicity == "Not known"
