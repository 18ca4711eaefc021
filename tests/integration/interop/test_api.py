"""Interop through the HTTP API on SQLite and PostgreSQL: the exports by role, TSM RP02,
external references, and work-order updates matched by reference, validated whole and driving
the same service functions as the pages (so the case's clocks and RP02 follow)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import add_user, create_token
from api.deps import AppContext
from compliance import repository as cases
from ingest.store import open_telemetry_store
from interop import data_model
from repairs import repository as work_orders
from tests.integration.interop.conftest import Store
from tests.interop_fleet import NOW

pytestmark = pytest.mark.integration

ROLES = ("officer", "compliance", "analyst", "admin", "viewer")


@dataclass
class Api:
    store: Store
    client: TestClient
    tokens: dict[str, str]

    def h(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def api(store: Store, tmp_path: Path) -> Iterator[Api]:
    tokens = {}
    with store.sessions.begin() as session:
        for role in ROLES:
            add_user(session, name=f"{role}-api", role=role, now=NOW)
            tokens[role] = create_token(session, name=f"{role}-api", now=NOW)
    telemetry = open_telemetry_store(f"sqlite:///{tmp_path / 'telemetry.db'}")
    app = create_app(AppContext(store.sessions, telemetry, store.engine, clock=lambda: NOW))
    with TestClient(app) as client:
        yield Api(store, client, tokens)
    telemetry.close()


EXPORT = "/api/v1/exports/damp-and-mould?from=2025-10-01&to=2026-03-31&component="


def test_the_exports_are_for_compliance_and_admin_and_validate(api):
    for role in ("officer", "analyst", "viewer"):
        assert api.client.get(EXPORT + "investigation", headers=api.h(role)).status_code == 403
    for component in ("investigation", "work_order"):
        answer = api.client.get(EXPORT + component, headers=api.h("compliance"))
        assert answer.status_code == 200
        assert data_model.errors(component, answer.json()) == []
    assert api.client.get(EXPORT + "tenant", headers=api.h("admin")).status_code == 422
    bad = api.client.get(
        "/api/v1/exports/damp-and-mould?from=2026-03-01&to=2026-02-01", headers=api.h("admin")
    )
    assert bad.status_code == 422


def test_tsm_rp02_for_the_financial_year_with_numerators_and_denominators(api):
    assert (
        api.client.get("/api/v1/exports/tsm.csv?year=2025", headers=api.h("officer")).status_code
        == 403
    )
    answer = api.client.get("/api/v1/exports/tsm.csv?year=2025/26", headers=api.h("compliance"))
    assert answer.status_code == 200
    rows = {r["measure"]: r for r in csv.DictReader(io.StringIO(answer.text))}
    # Completed in 2025/26: the emergency order completed after no access and a follow-on
    # (late), the emergency one completed in 6 hours (on time); the urgent safety order (7 days
    # from the report: 3 hours late) and the routine supplementary one (28 days: 6 hours late).
    assert (rows["RP02 emergency"]["numerator"], rows["RP02 emergency"]["denominator"]) == (
        "1",
        "2",
    )
    assert rows["RP02 emergency"]["percentage"] == "50.0"
    assert (rows["RP02 non-emergency"]["numerator"], rows["RP02 non-emergency"]["denominator"]) == (
        "0",
        "2",
    )
    assert rows["RP02 emergency"]["period_from"] == "2025-04-01"
    assert rows["RP02 emergency"]["period_to"] == "2026-03-31"
    empty = api.client.get("/api/v1/exports/tsm.csv?year=2024", headers=api.h("admin"))
    assert [r["denominator"] for r in csv.DictReader(io.StringIO(empty.text))] == ["0", "0"]
    assert (
        api.client.get("/api/v1/exports/tsm.csv?year=2025/27", headers=api.h("admin")).status_code
        == 422
    )


def _reference(api, entity_type, entity_id, value, system="NEC Housing", role="admin"):
    return api.client.post(
        "/api/v1/references",
        json={
            "entity_type": entity_type,
            "entity_id": str(entity_id),
            "allocated_by": system,
            "value": value,
        },
        headers=api.h(role),
    )


def test_references_attach_to_any_entity_and_are_found_by_system_and_value(api):
    fleet = api.store.fleet
    case = fleet.cases["sensor_full"]
    assert _reference(api, "case", case, "REP-1", role="officer").status_code == 403
    assert _reference(api, "case", case, "REP-1").status_code == 201
    assert _reference(api, "case", case, "REP-1").status_code == 201  # the same again: no change
    assert _reference(api, "home", "H0001", "PROP-77").status_code == 201
    assert _reference(api, "tenancy", "T-H0001", "TEN-5").status_code == 201
    assert (
        _reference(
            api, "work_order", fleet.work_orders["booked"], "JOB-9", system="Dampfix"
        ).status_code
        == 201
    )
    clash = _reference(api, "case", fleet.cases["reopened"], "REP-1")
    assert clash.status_code == 422
    assert "already names case" in clash.json()["detail"]
    assert _reference(api, "case", 9999, "REP-2").status_code == 404
    found = api.client.get(
        "/api/v1/references?allocated_by=NEC%20Housing&value=REP-1", headers=api.h("officer")
    ).json()
    assert [(r["entity_type"], r["entity_id"], r["path"]) for r in found] == [
        ("case", str(case), f"/api/v1/cases/{case}")
    ]
    assert api.client.get("/api/v1/references", headers=api.h("viewer")).status_code == 403
    # the export carries them in the model's reference table
    document = api.client.get(EXPORT + "investigation", headers=api.h("admin")).json()
    values = {(r["id"], r["allocated_by"]) for r in document["reference"]}
    assert {
        ("REP-1", "NEC Housing"),
        ("PROP-77", "NEC Housing"),
        ("TEN-5", "NEC Housing"),
    } <= values
    reference_id = found[0]["id"]
    assert (
        api.client.delete(f"/api/v1/references/{reference_id}", headers=api.h("admin")).status_code
        == 204
    )


def _updates(api, updates, system="Dampfix", role="admin"):
    return api.client.post(
        "/api/v1/work-orders/updates",
        json={"allocated_by": system, "updates": updates},
        headers=api.h(role),
    )


def test_updates_are_validated_whole_and_each_bad_one_reported(api):
    fleet = api.store.fleet
    _reference(api, "work_order", fleet.work_orders["booked"], "JOB-4", system="Dampfix")
    _reference(
        api, "work_order", fleet.work_orders["completed_verified"], "JOB-1", system="Dampfix"
    )
    answer = _updates(
        api,
        [
            {"reference": "JOB-4", "status": "dispatched", "at": "2026-03-02T08:00:00Z"},
            {"reference": "JOB-404", "status": "dispatched", "at": "2026-03-02T08:00:00Z"},
            {"reference": "JOB-4", "status": "no_access", "at": "2026-03-02T09:00:00Z"},
            {
                "reference": "JOB-1",
                "status": "completed",
                "at": "2026-03-02T09:00:00Z",
                "work_done": "x",
            },
            {"reference": "JOB-4", "status": "repainted", "at": "2026-03-02T09:00:00Z"},
        ],
    )
    assert answer.status_code == 422
    errors = answer.json()["detail"]["errors"]
    assert [e["line"] for e in errors] == [2, 3, 4, 5]
    assert "no work order carries Dampfix reference 'JOB-404'" in errors[0]["reason"]
    assert "method and the reason" in errors[1]["reason"]
    assert "is completed" in errors[2]["reason"]
    assert "status 'repainted'" in errors[3]["reason"]
    with api.store.sessions() as session:
        order = work_orders.get_work_order(session, fleet.work_orders["booked"])
        assert order.status == "booked"  # nothing written
        assert order.dispatched_at is None
    assert (
        _updates(
            api,
            [{"reference": "JOB-4", "status": "dispatched", "at": "2026-03-02T08:00:00Z"}],
            role="officer",
        ).status_code
        == 403
    )


def test_updates_drive_the_same_services_so_clocks_and_rp02_follow(api):
    fleet = api.store.fleet
    _reference(api, "work_order", fleet.work_orders["booked"], "JOB-4", system="Dampfix")
    before = api.client.get("/api/v1/repairs/kpis", headers=api.h("admin")).json()["rp02"]
    answer = _updates(
        api,
        [
            {
                "reference": "JOB-4",
                "status": "Scheduled",
                "at": "2026-03-01T10:00:00Z",
                "booked_for": "2026-03-02T09:00:00Z",
            },
            {"reference": "JOB-4", "status": "InProgress", "at": "2026-03-02T08:00:00Z"},
            {
                "reference": "JOB-4",
                "status": "Complete",
                "at": "2026-03-02T12:00:00Z",
                "work_done": "mould wash, vent fitted",
                "satisfaction": 5,
            },
        ],
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"applied": 3, "work_orders": [fleet.work_orders["booked"]]}
    with api.store.sessions() as session:
        order = work_orders.get_work_order(session, fleet.work_orders["booked"])
        assert order.status == "completed"
        assert order.verification == "watching"  # post-repair verification started
        assert order.satisfaction_score == 5
        case = cases.get_case(session, order.case_id)
        safety = [c for c in case.clocks if c.kind == "safety_work"][-1]
        assert safety.met_at is not None  # the case's safety work done, late: stays breached
        assert safety.status == "breached"
        assert [e.type for e in case.events][-2:] == [
            "safety_work_started",
            "safety_work_completed",
        ]
    after = api.client.get("/api/v1/repairs/kpis", headers=api.h("admin")).json()["rp02"]
    assert after["non_emergency"]["denominator"] == before["non_emergency"]["denominator"] + 1


def test_the_compliance_page_shows_the_same_rp02_figures(api):
    from sqlalchemy import select

    from api.models import User
    from api.session import COOKIE_NAME, start_session
    from registry.clock import utc_now

    with api.store.sessions.begin() as session:
        user = session.scalars(select(User).where(User.name == "compliance-api")).one()
        cookie, _ = start_session(
            session, user=user, now=utc_now()
        )  # sign-in runs on the wall clock
    api.client.cookies.set(COOKIE_NAME, cookie)
    page = api.client.get("/compliance")
    assert page.status_code == 200
    assert "TSM RP02, 2025/26" in page.text
    table = page.text[page.text.index('id="tsm-rp02"') :]
    table = table[: table.index("</table>")]
    assert '<th scope="row">RP02 emergency</th><td>1</td><td>2</td><td>50.0 %</td>' in table
    assert '<th scope="row">RP02 non-emergency</th><td>0</td><td>2</td><td>0.0 %</td>' in table
    download = api.client.get("/compliance/tsm.csv?year=2025")
    api.client.cookies.clear()
    assert download.status_code == 200
    assert (
        download.text
        == api.client.get("/api/v1/exports/tsm.csv?year=2025", headers=api.h("compliance")).text
    )
