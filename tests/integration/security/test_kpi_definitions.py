"""An officer's KPI definition can no longer break the public page (issue 12): definitions are
validated on write (fields, operators and operand types), a stored definition that cannot be
computed shows as such without taking the repairs page, the transparency page or the KPI APIs
down, and a definition can be deleted."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert

from registry.clock import utc_now
from repairs.models import RepairKpi
from tests.integration.api.site import Site, build_site

pytestmark = pytest.mark.integration


@pytest.fixture
def site(tmp_path) -> Site:
    site = build_site(tmp_path)
    officer = site.client("officer", bearer=True)
    contractor = officer.post("/api/v1/contractors", json={"name": "Damp Co"}).json()
    made = officer.post(
        "/api/v1/work-orders",
        json={
            "case_id": site.case_id,
            "kind": "safety",
            "contractor_id": contractor["id"],
            "priority": "urgent",
        },
    )
    assert made.status_code == 201, made.text
    return site


BAD: list[dict[str, Any]] = [
    {"hours_to_dispatch": {"in": 5}},
    {"hours_to_dispatch": {"ge": "soon"}},
    {"hours_to_dispatch": {"ge": True}},
    {"priority": {"gt": 3}},
    {"priority": {"in": "emergency"}},
    {"priority": [{"nested": 1}]},
    {"emergency": "yes"},
    {"reported_at": {"ge": "2026-01-01"}},
    {"satisfaction_score": {"le": [5]}},
    {"no_such_field": 1},
    {"priority": {"like": "e%"}},
]


@pytest.mark.parametrize("condition", BAD)
def test_a_definition_that_could_not_be_computed_is_refused_on_write(
    site: Site, condition: dict[str, Any]
) -> None:
    officer = site.client("officer", bearer=True)
    for part in ("numerator", "filter"):
        body = {"name": "bad", "numerator": {"completed": True}, part: condition}
        answer = officer.post("/api/v1/repairs/kpis", json=body)
        assert answer.status_code == 422, (part, answer.text)
    assert officer.get("/api/v1/repairs/kpis").json()["resident_defined"] == {}


def test_good_definitions_still_work(site: Site) -> None:
    officer = site.client("officer", bearer=True)
    body = {
        "name": "fast urgent",
        "numerator": {"hours_to_dispatch": {"le": 24}},
        "denominator": {"priority": ["urgent", "emergency"]},
        "filter": {"emergency": False, "first_time_fix": None, "satisfaction_score": {"ge": 3}},
    }
    assert officer.post("/api/v1/repairs/kpis", json=body).status_code == 201
    assert "fast urgent" in officer.get("/api/v1/repairs/kpis").json()["resident_defined"]


def test_a_stored_broken_definition_takes_no_page_down(site: Site) -> None:
    # As left by an earlier version, or an edit in the database: it cannot be computed.
    with site.context.sessions.begin() as session:
        session.execute(
            insert(RepairKpi).values(
                name="broken",
                numerator={"completed": True},
                denominator={},
                filter={"hours_to_dispatch": {"in": 5}},
                created_at=utc_now(),
            )
        )
    officer = site.client("officer", bearer=True)
    kpis = officer.get("/api/v1/repairs/kpis")
    assert kpis.status_code == 200
    assert "error" in kpis.json()["resident_defined"]["broken"]
    assert site.client("officer").get("/repairs").status_code == 200
    assert "cannot be computed" in site.client("officer").get("/repairs").text
    assert site.client().get("/transparency").status_code == 200
    assert site.client("viewer", bearer=True).get("/api/v1/transparency").status_code == 200


def test_a_definition_can_be_deleted(site: Site) -> None:
    officer = site.client("officer", bearer=True)
    body = {"name": "to go", "numerator": {"completed": True}}
    assert officer.post("/api/v1/repairs/kpis", json=body).status_code == 201
    assert (
        site.client("viewer", bearer=True).delete("/api/v1/repairs/kpis/to go").status_code == 403
    )
    assert officer.delete("/api/v1/repairs/kpis/to go").status_code == 204
    assert officer.get("/api/v1/repairs/kpis").json()["resident_defined"] == {}
    assert officer.delete("/api/v1/repairs/kpis/to go").status_code == 404
