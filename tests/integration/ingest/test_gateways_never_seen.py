"""A registered gateway that has never reported is listed as such: its home is unseen, not absent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import add_user, create_token
from api.deps import AppContext
from compliance.calendar import WorkingDayCalendar
from compliance.service import Engine
from homesafe.database import make_engine, make_sessionmaker
from homesafe.migrate import upgrade
from ingest.store import open_telemetry_store
from registry.service import import_registry
from tests.factories import homes_csv

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_registered_but_silent_gateways_are_listed_and_unknown_ones_are_not(case_db_url):
    engine = make_engine(case_db_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        import_registry(session, homes_text=homes_csv(homes=2))
        add_user(session, name="fleet", role="officer", now=NOW)
        token = create_token(session, name="fleet", now=NOW)
    context = AppContext(
        sessions, open_telemetry_store("sqlite:///:memory:"), Engine(WorkingDayCalendar())
    )
    client = TestClient(create_app(context), headers={"Authorization": f"Bearer {token}"})

    listed = client.get("/api/v1/gateways").json()
    assert [
        (g["gateway_id"], g["home_id"], g["status"], g["last_seen_at"], g["messages"])
        for g in listed
    ] == [
        ("gw-0001", "H0001", None, None, 0),
        ("gw-0002", "H0002", None, None, 0),
    ]
    assert client.get("/api/v1/gateways/gw-0002").json()["home_id"] == "H0002"
    assert client.get("/api/v1/gateways/gw-9999").status_code == 404
    engine.dispose()
