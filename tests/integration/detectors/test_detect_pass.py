"""The detector pass end to end on a real case database: state kept, cases opened, evidence charted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import add_user, create_token
from api.deps import AppContext
from detectors import repository
from detectors.models import FleetTaskRow
from homesafe.bootstrap import build, detect_once
from homesafe.migrate import upgrade
from homesafe.settings import Settings
from ingest.contract import Reading
from registry.clock import utc_now
from registry.service import import_registry
from tests.factories import homes_csv

pytestmark = pytest.mark.integration
START = datetime(2026, 1, 10, tzinfo=UTC)


def _readings(hours: int) -> list[Reading]:
    """H0001's kitchen probe steps up (a leak) at hour 20; H0002's living room stops at hour 10."""
    out = []
    for k in range(hours * 4):
        ts = int(START.timestamp()) + k * 900
        wme = 15.0 if k < 80 else 35.0
        out.append(
            Reading("gw-0001", "s3", ts, 19.0 + (k % 3) * 0.1, 55.0 + (k % 5) * 0.2, wme, 80.0)
        )
        if k < 40:
            out.append(
                Reading("gw-0002", "s1", ts, 20.0 + (k % 3) * 0.1, 50.0 + (k % 4) * 0.2, None, 80.0)
            )
    return out


def test_passes_keep_state_open_a_leak_case_and_chart_its_evidence(
    case_db_url: str, tmp_path: Path
):
    settings = Settings(
        database_url=case_db_url, telemetry_url=f"sqlite:///{tmp_path / 'telemetry.db'}"
    )
    services = build(settings)
    upgrade(services.db)
    with services.sessions.begin() as session:
        import_registry(session, homes_text=homes_csv(homes=2, sensors_per_home=3))
    services.telemetry.write(_readings(30))
    found = 0
    now = START + timedelta(minutes=20)
    while now <= START + timedelta(hours=30):
        found += detect_once(services, now=now)
        now += timedelta(minutes=15)
    assert found == 1  # the leak, once per episode
    with services.sessions() as session:
        stored = repository.load_state(session)
        assert len(stored.keys) == 6  # one state per registered sensor
        leak_row = stored.keys.index(("gw-0001", "s3"))
        assert int(stored.records["through_s"][leak_row]) == int(
            (START + timedelta(hours=29)).timestamp()
        )  # last hour waits for a later reading
        tasks = session.query(FleetTaskRow).all()
        assert [(t.gateway_id, t.kind) for t in tasks] == [("gw-0002", "silent")]
        add_user(session, name="officer-1", role="officer", now=now)
        # Made now (tokens expire, issue 12): the passes above ran at the test's own times.
        token = create_token(session, name="officer-1", now=utc_now())
        session.commit()
    app = create_app(AppContext(services.sessions, services.telemetry, services.compliance))
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {token}"}
        (case,) = client.get("/api/v1/cases", headers=headers).json()
        assert case["home_id"] == "H0001"
        assert case["category"] == "emergency"
        series = client.get(f"/api/v1/cases/{case['id']}/evidence/1/series", headers=headers).json()
        assert series["rule"] == "leak_step"
        assert series["thresholds"]["step_threshold_wme_pct"] == 4.0
        assert max(p["wme_pct"] for p in series["series"] if p["wme_pct"] is not None) == 35.0
        assert (
            client.get(f"/api/v1/cases/{case['id']}/evidence/9/series", headers=headers).status_code
            == 404
        )
        (task,) = client.get("/api/v1/fleet/tasks", headers=headers).json()
        assert task["kind"] == "silent"
    services.close()


def test_state_rows_are_written_only_when_changed_and_reload_equal(
    case_db_url: str, tmp_path: Path
):
    from detectors.fleet import FleetState
    from detectors.runner import SensorSite, stored_pass

    settings = Settings(
        database_url=case_db_url, telemetry_url=f"sqlite:///{tmp_path / 'telemetry.db'}"
    )
    services = build(settings)
    upgrade(services.db)
    services.telemetry.write(_readings(6))
    sites = [
        SensorSite("H0001", "gw-0001", "s3", "kitchen"),
        SensorSite("H0002", "gw-0002", "s1", "living"),
    ]

    def one_pass(now: datetime):
        with services.sessions.begin() as session:
            return stored_pass(
                session, store=services.telemetry, sites=sites, now=now, emit=lambda _f: None
            )

    first = one_pass(START + timedelta(hours=5, minutes=20))
    assert (first.sensors, first.state_rows_written) == (2, 2)
    again = one_pass(
        START + timedelta(hours=5, minutes=35)
    )  # nothing new is final: nothing written
    assert again.result.sensor_hours == 0
    assert again.state_rows_written == 0
    with services.sessions() as session:
        stored = repository.load_state(session)
    state = FleetState.from_records(stored.keys, stored.records)
    assert sorted(state.keys) == [("gw-0001", "s3"), ("gw-0002", "s1")]
    row = state.index[("gw-0001", "s3")]
    assert int(state["through_s"][row]) == int((START + timedelta(hours=5)).timestamp())
    assert float(state["wme_ring"][row, -1]) == 15.0
    services.close()
