"""Person alert codes (MHCLG/HACT, UK Housing Data Standards) on household rows: the optional
``alert_codes`` column of households.csv, and their Awaab-relevance flag in ``needs_of``.

The code list is Homesafe's copy of the published first draft's ``person_alert_codes`` rows
(github.com/data-futurists/UKHDS-person-alert-codes, ``person_alert_sql``, MIT)."""

from __future__ import annotations

import pytest

from registry.alert_codes import alert_codes, awaab_relevant, parse_alert_codes
from registry.models import Household
from registry.service import needs_of, parse_households
from tests.factories import households_csv

pytestmark = pytest.mark.unit


def household(**fields: str | None) -> Household:
    values: dict[str, str | None] = {
        "home_id": "H0001",
        "ethnicity": "White",
        "disability": "no",
        "children_under_5": "no",
        "over_65": "no",
        "language_needs": None,
        "vulnerability": None,
        "alert_codes": None,
    }
    values.update(fields)
    return Household(**values)


def test_the_published_list_is_all_there_with_its_flags():
    codes = alert_codes()
    assert len(codes) == 126
    assert codes["MED1.01"].subname == "Asthma"
    assert codes["MED1.01"].awaab_relevant
    assert not codes["MED2.01"].awaab_relevant  # hypertension
    assert not codes["RISK2.01"].awaab_relevant  # a risk to staff, not to the household


def test_a_cell_is_codes_separated_by_semicolons_case_and_space_forgiven():
    assert parse_alert_codes(" med1.01 ; AGE1.07;;MED1.01") == ("MED1.01", "AGE1.07")
    assert parse_alert_codes("") == ()
    assert parse_alert_codes("MED2") == ("MED2",)  # a top-level code is accepted


def test_an_unknown_code_is_a_bad_row_with_its_line():
    text = households_csv(["H0001", "H0002"], alert_codes="MED1.01;XYZ9.99")
    households, errors = parse_households(text, {"H0001", "H0002"})
    assert households == []
    assert [(e.line, "XYZ9.99" in e.reason) for e in errors] == [(2, True), (3, True)]


def test_the_column_is_optional_and_kept_normalised():
    rows, errors = parse_households(households_csv(["H0001"]), {"H0001"})
    assert errors == []
    assert rows[0].alert_codes is None
    rows, errors = parse_households(households_csv(["H0001"], alert_codes="copd"), {"H0001"})
    assert "COPD" in errors[0].reason
    rows, errors = parse_households(
        households_csv(["H0001"], alert_codes="med1.02; comm1.11"), {"H0001"}
    )
    assert errors == []
    assert rows[0].alert_codes == "MED1.02;COMM1.11"


@pytest.mark.parametrize(
    ("codes", "needs"),
    [
        ("MED1.01", ("health_or_disability",)),  # asthma
        ("AGE1.02", ("child_under_5",)),  # infant
        ("AGE1.07", ("over_65",)),
        ("COMM1.11", ("language",)),  # translation services
        ("MED2.01", ()),  # hypertension: not relevant to Awaab's Law
        ("RISK2.01", ()),  # risk to staff
        ("AGE1.05", ()),  # school age: not relevant
        ("MED2", ("health_or_disability",)),  # top-level: some subcodes are relevant
        ("PREG1.02;AGE1.01;COMM1.09", ("child_under_5", "health_or_disability", "language")),
    ],
)
def test_relevant_codes_raise_needs_with_the_same_keys(codes, needs):
    assert needs_of(household(alert_codes=codes)) == needs


def test_codes_add_to_the_other_fields_without_repeating_a_need():
    both = household(over_65="yes", alert_codes="AGE1.07;MED1.02")
    assert needs_of(both) == ("over_65", "health_or_disability")
    assert [c.subcode for c in awaab_relevant("MED1")] == [
        "MED1.01",
        "MED1.02",
        "MED1.03",
        "MED1.04",
        "MED1.05",
    ]
