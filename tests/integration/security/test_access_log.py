"""The access log of special-category data (issue 12): every read of a household's needs (health
and disability behind them) and every analysis by residents' groups is kept with who, when, what
and where; reads of nothing special are not; compliance and admins read the log."""

from __future__ import annotations

import pytest

from tests.integration.api.site import Site, build_site

pytestmark = pytest.mark.integration


@pytest.fixture
def site(tmp_path) -> Site:
    return build_site(tmp_path)


def _log(site: Site) -> list[dict]:
    answer = site.client("compliance", bearer=True).get("/api/v1/audit/special-category-reads")
    assert answer.status_code == 200
    return answer.json()


def test_reads_of_needs_and_group_analyses_are_logged(site: Site) -> None:
    assert _log(site) == []
    site.client("officer").get(f"/cases/{site.case_id}")
    site.client("officer", bearer=True).get(f"/api/v1/cases/{site.case_id}")
    site.client("analyst", bearer=True).get("/api/v1/equity/outcomes", params={"by": "ethnicity"})
    site.client("analyst").get("/equity", params={"by": "disability"})
    site.client("officer").get(f"/homes/{site.home_id}")
    log = _log(site)
    assert [(r["actor"], r["what"]) for r in reversed(log)] == [
        ("officer", "household_needs"),
        ("officer", "household_needs"),
        ("analyst", "equity_analysis"),
        ("analyst", "equity_analysis"),
        ("officer", "household_needs"),
    ]
    assert "ethnicity" in log[2]["subject"]
    assert "disability" in log[1]["subject"]
    assert site.home_id in log[0]["subject"]
    assert "admin" in site.client("admin").get("/admin").text  # the admin page lists them
    assert "Equity analysis: breached by ethnicity" in site.client("admin").get("/admin").text


def test_reads_without_special_category_data_are_not_logged(site: Site) -> None:
    site.client("viewer", bearer=True).get(f"/api/v1/cases/{site.case_id}")
    site.client("analyst", bearer=True).get("/api/v1/equity/outcomes", params={"by": "archetype"})
    assert _log(site) == []


def test_only_compliance_and_admins_read_the_log(site: Site) -> None:
    for role, code in [("viewer", 403), ("officer", 403), ("analyst", 403), ("admin", 200)]:
        answer = site.client(role, bearer=True).get("/api/v1/audit/special-category-reads")
        assert answer.status_code == code, role
