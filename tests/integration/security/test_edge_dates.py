"""Edge dates never answer 500 (issue 12): `to=9999-12-31`, `to=-62135596800` and their kin on
every route that takes a date or time, in the query or in the body, get a 4xx with a reason."""

from __future__ import annotations

import pytest

from tests.integration.api.site import Site, build_site

pytestmark = pytest.mark.integration

EDGES = [
    "9999-12-31",
    "0001-01-01",
    "-62135596800",
    "253402300800",
    "99999999999999999999",
    "9999-12-31T23:59:59+00:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
]
INSTANTS = [e for e in EDGES if "T" in e] + ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    site = build_site(tmp_path_factory.mktemp("dates"))
    officer = site.client("officer", bearer=True)
    contractor = officer.post("/api/v1/contractors", json={"name": "Edge Co"}).json()
    order = officer.post(
        "/api/v1/work-orders",
        json={
            "case_id": site.case_id,
            "kind": "safety",
            "contractor_id": contractor["id"],
            "priority": "urgent",
        },
    ).json()
    site.work_order_id = order["id"]  # type: ignore[attr-defined]
    return site


def _ok(answer) -> None:  # type: ignore[no-untyped-def]
    assert answer.status_code < 500, (answer.request.url, answer.status_code, answer.text[:200])


@pytest.mark.parametrize("edge", EDGES)
@pytest.mark.parametrize("name", ["from", "to"])
def test_query_dates(site: Site, edge: str, name: str) -> None:
    admin = site.client("admin", bearer=True)
    other = "to" if name == "from" else "from"
    for path, base in [
        (f"/api/v1/homes/{site.home_id}/telemetry", {}),
        ("/api/v1/compliance/report.csv", {other: "2026-01-01"}),
        ("/api/v1/compliance/summary", {other: "2026-01-01"}),
    ]:
        _ok(admin.get(path, params={**base, name: edge}))
    _ok(site.client("compliance").get("/compliance/report.csv", params={name: edge}))


@pytest.mark.parametrize("edge", INSTANTS)
def test_body_times(site: Site, edge: str) -> None:
    officer = site.client("officer", bearer=True)
    order = site.work_order_id  # type: ignore[attr-defined]
    _ok(
        officer.post(
            "/api/v1/reports",
            json={
                "home_id": "H0003",
                "hazard": "excess_cold",
                "source": "staff",
                "reported_at": edge,
                "description": "cold",
            },
        )
    )
    for event in ("investigation_booked", "access_failed", "investigation_concluded"):
        _ok(
            officer.post(
                f"/api/v1/cases/{site.case_id}/events",
                json={"type": event, "at": edge, "outcome": "significant"},
            )
        )
    _ok(officer.post(f"/api/v1/work-orders/{order}/appointments", json={"booked_for": edge}))
    _ok(officer.post(f"/api/v1/work-orders/{order}/dispatch", json={"at": edge}))
    _ok(
        officer.post(
            f"/api/v1/work-orders/{order}/visits",
            json={"outcome": "completed", "at": edge},
        )
    )
    _ok(officer.post(f"/api/v1/work-orders/{order}/satisfaction", json={"score": 3, "at": edge}))


@pytest.mark.parametrize("edge", ["9999-12-31T23:59", "0001-01-01T00:00", "10000-01-01T00:00"])
def test_form_times(site: Site, edge: str) -> None:
    client = site.client("officer")
    csrf = site.signed_in("officer")[1]
    _ok(
        client.post(
            f"/cases/{site.case_id}/events",
            data={"type": "investigation_booked", "at": edge, "csrf_token": csrf},
        )
    )
