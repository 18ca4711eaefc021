"""GET /homes/{id}/telemetry past the raw retention: hourly means from the rollups, marked period_s."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import add_user, create_token
from homesafe import bootstrap
from homesafe.migrate import upgrade
from homesafe.settings import Settings
from ingest.contract import Reading
from ingest.retention import DAY_S, HOUR_S, raw_cutoff
from registry.service import import_registry
from tests.factories import homes_csv

pytestmark = pytest.mark.integration


def test_old_hours_come_from_rollups_and_recent_ones_raw(tmp_path, monkeypatch):
    monkeypatch.setenv("HOMESAFE_DATABASE_URL", f"sqlite:///{tmp_path}/cases.db")
    monkeypatch.setenv("HOMESAFE_TELEMETRY_URL", f"sqlite:///{tmp_path}/telemetry.db")
    services = bootstrap.build(Settings())
    upgrade(services.db)
    now = datetime.now(UTC)
    now_s = int(now.timestamp())
    with services.sessions.begin() as session:
        import_registry(session, homes_text=homes_csv(homes=1, sensors_per_home=1))
        add_user(session, name="officer", role="officer", now=now)
        token = create_token(session, name="officer", now=now)
    cutoff = raw_cutoff(now_s, 397)
    assert cutoff is not None
    old_hour = cutoff - 3 * HOUR_S
    recent = now_s - DAY_S
    services.telemetry.write(
        [
            Reading("gw-0001", "s1", old_hour + 60, 10.0, 70.0, None, None, "H0001"),
            Reading("gw-0001", "s1", old_hour + 1860, 14.0, 90.0, None, None, "H0001"),
            Reading("gw-0001", "s1", recent, 19.5, 55.0, None, None, "H0001"),
        ]
    )
    assert services.retention is not None
    for _ in range(30):
        if services.retention.run(now=now, raw_days=397).rolled_until_s is None:
            break
    client = TestClient(
        create_app(bootstrap.app_context(services)),
        headers={"Authorization": f"Bearer {token}"},
    )

    answer = client.get(
        "/api/v1/homes/H0001/telemetry",
        params={"from": str(old_hour - 2 * HOUR_S), "to": str(now_s)},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["readings"] == [
        {
            "sensor": "s1",
            "ts": old_hour,
            "period_s": 3600,
            "temperature_c": 12.0,
            "humidity_pct": 80.0,
        },
        {"sensor": "s1", "ts": recent, "temperature_c": 19.5, "humidity_pct": 55.0},
    ]
    services.close()
