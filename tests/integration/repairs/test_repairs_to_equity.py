"""End to end on SQLite and PostgreSQL: cases → work orders → visits → sensor verification →
contractor performance and KPIs → equity analysis, through the API with real tokens."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.auth import add_user, create_token
from api.deps import AppContext
from compliance import repository as cases
from compliance.calendar import WorkingDayCalendar
from compliance.schemas import FindingIn
from compliance.service import Engine
from homesafe.database import make_engine, make_sessionmaker
from homesafe.migrate import upgrade
from homesafe.models import metadata
from ingest.store import open_telemetry_store
from registry.clock import to_rfc3339, utc_now
from registry.service import import_registry
from repairs import service as repairs
from repairs.models import WorkOrder
from tests.factories import homes_csv, households_csv

pytestmark = pytest.mark.integration

ROLES = ("officer", "analyst", "viewer", "admin")


@dataclass
class World:
    sessions: sessionmaker[Session]
    engine: Engine
    client: TestClient
    tokens: dict[str, str]

    def h(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def world(case_db_url: str, tmp_path: Path) -> Iterator[World]:
    db = make_engine(case_db_url)
    upgrade(db)
    with db.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert [d for d in differences if "work_order" in str(d) or "contractor" in str(d)] == []
    sessions = make_sessionmaker(db)
    ids = [f"H{i:04d}" for i in range(1, 31)]
    with sessions.begin() as session:
        import_registry(
            session,
            homes_text=homes_csv(homes=30, sensors_per_home=1),
            households_text=households_csv(ids[:12])
            + households_csv(ids[12:], ethnicity="White").split("\n", 1)[1],
        )
    tokens = {}
    with sessions.begin() as session:
        for role in ROLES:
            add_user(session, name=f"{role}-1", role=role, now=utc_now())
            tokens[role] = create_token(session, name=f"{role}-1", now=utc_now())
    telemetry = open_telemetry_store(f"sqlite:///{tmp_path / 'telemetry.db'}")
    engine = Engine(WorkingDayCalendar("Europe/London"))
    with TestClient(create_app(AppContext(sessions, telemetry, engine))) as client:
        yield World(sessions, engine, client, tokens)
    telemetry.close()
    db.dispose()


def iso(at) -> str:  # type: ignore[no-untyped-def]
    return to_rfc3339(at)


def _case(world: World, home_id: str, reported) -> int:  # type: ignore[no-untyped-def]
    body = {
        "home_id": home_id,
        "hazard": "damp_and_mould",
        "source": "tenant",
        "reported_at": iso(reported),
        "description": "mould in the bedroom",
    }
    response = world.client.post("/api/v1/reports", json=body, headers=world.h("officer"))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _event(world: World, case_id: int, **body) -> None:  # type: ignore[no-untyped-def]
    response = world.client.post(
        f"/api/v1/cases/{case_id}/events", json=body, headers=world.h("officer")
    )
    assert response.status_code == 200, response.text


def _work_order(world: World, case_id: int, contractor_id: int) -> dict:
    response = world.client.post(
        "/api/v1/work-orders",
        json={
            "case_id": case_id,
            "kind": "safety",
            "contractor_id": contractor_id,
            "priority": "urgent",
        },
        headers=world.h("officer"),
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_cases_to_repairs_to_equity(world: World):
    officer = world.h("officer")
    now = utc_now()
    start = now - timedelta(days=45)
    contractor = world.client.post(
        "/api/v1/contractors", json={"name": "Acme Damp Ltd"}, headers=officer
    ).json()

    # Case 1: no access before the investigation concludes → compliance's access_failed event.
    case1 = _case(world, "H0001", start)
    order1 = _work_order(world, case1, contractor["id"])
    assert order1["target_at"] <= iso(start + timedelta(days=7))
    url1 = f"/api/v1/work-orders/{order1['id']}"
    booked = world.client.post(
        f"{url1}/appointments", json={"booked_for": iso(start + timedelta(days=1))}, headers=officer
    )
    assert booked.status_code == 200, booked.text
    no_access = world.client.post(
        f"{url1}/visits",
        json={
            "outcome": "no_access",
            "at": iso(start + timedelta(days=1)),
            "method": "visit",
            "reason": "nobody home",
        },
        headers=officer,
    )
    assert no_access.status_code == 200, no_access.text
    detail = world.client.get(f"/api/v1/cases/{case1}", headers=officer).json()
    assert [e["type"] for e in detail["timeline"]] == ["access_failed"]
    assert detail["timeline"][0]["details"]["method"] == "visit"

    # ... then the investigation concludes, and a later no-access joins the case as evidence.
    _event(
        world,
        case1,
        type="investigation_concluded",
        at=iso(start + timedelta(days=2)),
        outcome="significant",
    )
    world.client.post(
        f"{url1}/visits",
        json={
            "outcome": "no_access",
            "at": iso(start + timedelta(days=3)),
            "method": "phone",
            "reason": "refused the appointment",
        },
        headers=officer,
    ).raise_for_status()
    detail = world.client.get(f"/api/v1/cases/{case1}", headers=officer).json()
    assert [e["kind"] for e in detail["evidence"]][-1] == "access_attempt"

    world.client.post(
        f"{url1}/dispatch", json={"at": iso(start + timedelta(days=4))}, headers=officer
    ).raise_for_status()
    done = world.client.post(
        f"{url1}/visits",
        json={
            "outcome": "completed",
            "at": iso(start + timedelta(days=4, hours=3)),
            "work_done": "treated mould, fitted extractor fan",
        },
        headers=officer,
    )
    assert done.status_code == 200, done.text
    assert done.json()["verification"] == "watching"
    detail = world.client.get(f"/api/v1/cases/{case1}", headers=officer).json()
    safety = [c for c in detail["clocks"] if c["kind"] == "safety_work"]
    assert safety
    assert safety[0]["met_at"] is not None
    world.client.post(
        f"{url1}/satisfaction", json={"score": 4, "at": iso(now)}, headers=officer
    ).raise_for_status()

    # Case 2: completed, then the detectors find the hazard again within the watch.
    case2 = _case(world, "H0002", start)
    _event(
        world,
        case2,
        type="investigation_concluded",
        at=iso(start + timedelta(days=1)),
        outcome="significant",
    )
    order2 = _work_order(world, case2, contractor["id"])
    world.client.post(
        f"/api/v1/work-orders/{order2['id']}/visits",
        json={
            "outcome": "completed",
            "at": iso(start + timedelta(days=2)),
            "work_done": "mould wash",
        },
        headers=officer,
    ).raise_for_status()
    found_at = start + timedelta(days=12)
    with world.sessions.begin() as session:
        _, _, flagged = repairs.handle_finding(
            session,
            finding=FindingIn(
                home_id="H0002",
                hazard="damp_and_mould",
                category="potential",
                detected_at=found_at,
                rule="sustained_humidity",
                rule_version="1",
                window_start=found_at - timedelta(days=3),
                window_end=found_at,
            ),
            now=found_at,
            engine=world.engine,
        )
        assert [o.id for o in flagged] == [order2["id"]]

    # The verification job settles case 1 as healthy (its 28 days are over).
    with world.sessions.begin() as session:
        summary = repairs.verify_repairs(session, now=now, engine=world.engine)
        assert (summary.healthy, summary.recurred) == (1, 0)
        order = session.get(WorkOrder, order2["id"])
        assert (order.verification, order.flagged) == ("recurred", True)
        kinds = [e.kind for e in cases.get_case(session, case2).evidence]
        assert "repair_recurred" in kinds
        assert "repair_verified" in [e.kind for e in cases.get_case(session, case1).evidence]

    perf = world.client.get("/api/v1/repairs/performance", headers=officer).json()
    assert perf[0]["jobs"] == 2
    assert perf[0]["first_time_fix"] == {"numerator": 1, "denominator": 2, "rate": 0.5}
    assert perf[0]["no_access"]["numerator"] == 2
    assert perf[0]["recurrence"] == {"numerator": 1, "denominator": 2, "rate": 0.5}
    assert (
        world.client.post(
            "/api/v1/repairs/kpis",
            json={
                "name": "fixed first time",
                "numerator": {"first_time_fix": True},
                "denominator": {"completed": True},
            },
            headers=officer,
        ).status_code
        == 201
    )
    kpis = world.client.get("/api/v1/repairs/kpis", headers=officer).json()
    assert kpis["resident_defined"]["fixed first time"]["rate"] == 0.5
    assert kpis["rp02"]["non_emergency"]["denominator"] == 2

    # More cases so that groups reach the publication threshold.
    for i in range(3, 31):
        _case(world, f"H{i:04d}", start + timedelta(days=i % 5))

    assert world.client.get("/api/v1/equity/outcomes", headers=officer).status_code == 403
    response = world.client.get(
        "/api/v1/equity/outcomes", params={"by": "ethnicity,contractor"}, headers=world.h("analyst")
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["overall"]["n"] == 30
    groups = {(g["dimension"], g["level"]): g for g in report["groups"]}
    assert groups[("ethnicity", "White")]["n"] == 18
    assert groups[("ethnicity", "Black")]["n"] == 12
    assert groups[("contractor", "Acme Damp Ltd")]["suppressed"] is True
    csv_text = world.client.get(
        "/api/v1/equity/outcomes.csv", params={"by": "ethnicity"}, headers=world.h("analyst")
    ).text
    assert csv_text.startswith("outcome,dimension,level,n,")
    assert "H00" not in csv_text
    assert "H00" not in response.text
    assert (
        world.client.get("/api/v1/equity/silences", headers=world.h("analyst")).status_code == 200
    )
    assert (
        world.client.get(
            "/api/v1/equity/outcomes", params={"by": "home_id"}, headers=world.h("analyst")
        ).status_code
        == 422
    )
    posted = world.client.post(
        "/api/v1/transparency/you-said-we-did",
        json={"you_said": "Repairs take too long", "we_did": "Added a second damp team"},
        headers=world.h("admin"),
    )
    assert posted.status_code == 201, posted.text
    summary = world.client.get("/api/v1/transparency", headers=world.h("viewer")).json()
    assert summary["you_said_we_did"][0]["we_did"] == "Added a second damp team"
    assert "H00" not in str(summary)
