"""The walking skeleton end to end on real servers.

Simulated gateways (MQTT v5, QoS 1) → real Mosquitto → `homesafe ingest` (its own process) →
real InfluxDB → `homesafe detect --once` → a damp case with its investigate clock in PostgreSQL →
the HTTP API. A malformed payload lands in dead letters and ingest keeps going.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import orjson
import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import add_user, create_token
from api.deps import AppContext
from firmware_sim.demo import demo_registry_rows, start_demo_fleet
from homesafe import bootstrap
from homesafe.cli import main
from homesafe.runner import _csv
from homesafe.settings import Settings
from registry.schemas import HOMES_COLUMNS, HOUSEHOLDS_COLUMNS

pytestmark = pytest.mark.e2e

LONDON = ZoneInfo("Europe/London")


def tenth_working_day_end(aware: datetime) -> datetime:
    """An oracle independent of compliance.calendar: weekdays that are not England bank holidays."""
    closed = holidays.country_holidays("GB", subdiv="ENG", years=range(aware.year, aware.year + 2))
    day: date = aware.astimezone(LONDON).date()
    counted = 0
    while counted < 10:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in closed:
            counted += 1
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=LONDON).astimezone(UTC)


@pytest.fixture
def system(tmp_path, mosquitto, influx_url, make_postgres_url, monkeypatch):
    env = {
        "HOMESAFE_MQTT_URL": mosquitto.url,
        "HOMESAFE_TELEMETRY_URL": influx_url,
        "HOMESAFE_METRICS_PORT": "0",  # no fixed port: test workers run side by side
        "HOMESAFE_DATABASE_URL": make_postgres_url(),
        "HOMESAFE_TIMEZONE": "Europe/London",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    homes, households = demo_registry_rows(4, 1)
    (tmp_path / "homes.csv").write_text(_csv(homes, HOMES_COLUMNS))
    (tmp_path / "households.csv").write_text(_csv(households, HOUSEHOLDS_COLUMNS))
    assert main(["db", "upgrade"]) == 0
    assert main(["registry", "import", "homes.csv", "households.csv"]) == 0

    ingest = subprocess.Popen(
        [sys.executable, "-m", "homesafe.cli", "ingest", "--client-id", "e2e-ingest"],
        env={**os.environ, **env},
        stdout=open(tmp_path / "ingest.log", "wb"),
        stderr=subprocess.STDOUT,
    )
    services = bootstrap.build(Settings())
    with services.sessions.begin() as session:
        add_user(session, name="officer", role="officer", now=datetime.now(UTC))
        token = create_token(session, name="officer", now=datetime.now(UTC))
    app = create_app(AppContext(services.sessions, services.telemetry, services.compliance))
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    yield client, mosquitto, env, tmp_path
    ingest.terminate()
    ingest.wait(timeout=20)
    services.close()


def _publish(broker, gateway_id: str, payload: bytes) -> None:
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    publisher.connect(broker.host, broker.port)
    publisher.loop_start()
    publisher.publish(f"homesafe/v1/gw/{gateway_id}/telemetry", payload, qos=1).wait_for_publish()
    publisher.loop_stop()
    publisher.disconnect()


def _wait_until_ingest_listens(client, broker) -> None:
    """Publish a probe reading until ingest (a separate process) has subscribed and stored one."""
    probe_ts = int(time.time()) - 60
    since = str(probe_ts - 1)

    def stored() -> bool:
        probe = {
            "v": 1,
            "seq": 0,
            "readings": [{"sensor": "s1", "ts": probe_ts, "temperature_c": 19.5}],
        }
        _publish(broker, "gw-H00004", orjson.dumps(probe))
        time.sleep(1.0)
        return any(r["ts"] == probe_ts for r in _readings(client, "H00004", since))

    _wait_for(stored, 30, "ingest to subscribe")


def _readings(client, home_id: str, since: str) -> list[dict]:
    response = client.get(f"/api/v1/homes/{home_id}/telemetry", params={"from": since})
    assert response.status_code == 200, response.text
    return response.json()["readings"]


def _wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_damp_home_becomes_a_case_with_its_clock_and_bad_input_is_dead_lettered(system):
    client, broker, env, workdir = system
    assert client.get("/api/v1/health").json()["status"] == "ok"

    _wait_until_ingest_listens(client, broker)
    stop = threading.Event()
    start_demo_fleet(
        broker.host, broker.port, homes=4, seed=1, backfill_hours=26, stop=stop, protocol="5"
    )
    try:
        since = (datetime.now(UTC) - timedelta(hours=27)).isoformat()
        _wait_for(
            lambda: (
                len(_readings(client, "H00001", since)) >= 4 * 4 * 26
            ),  # 4 sensors, a reading each 15 min, 26 hours
            60,
            "26 hours of the damp home's readings in InfluxDB (the damp-probe rule needs 20 of 24)",
        )
    finally:
        stop.set()

    # A malformed payload, then a good one: the first is dead-lettered, the second stored.
    _publish(broker, "gw-H00002", b'{"v": 1, "seq": "one", "readings": [')
    marker_ts = int(time.time()) - 5
    good = {
        "v": 1,
        "seq": 999_999,
        "readings": [{"sensor": "s1", "ts": marker_ts, "temperature_c": 12.3}],
    }
    _publish(broker, "gw-H00002", orjson.dumps(good))

    letters = _wait_for(lambda: client.get("/api/v1/dead-letters").json(), 30, "the dead letter")
    assert letters[0]["topic"] == "homesafe/v1/gw/gw-H00002/telemetry"
    assert "JSON" in letters[0]["reason"] or "json" in letters[0]["reason"]
    _wait_for(
        lambda: any(
            r["ts"] == marker_ts and r.get("temperature_c") == 12.3
            for r in client.get(
                "/api/v1/homes/H00002/telemetry",
                params={"from": str(marker_ts - 1), "sensor": "s1"},
            ).json()["readings"]
        ),
        30,
        "the good reading after the bad one",
    )

    before_detect = datetime.now(UTC)
    done = subprocess.run(
        [sys.executable, "-m", "homesafe.cli", "detect", "--once"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        cwd=workdir,
    )
    assert done.returncode == 0, done.stderr

    cases = client.get("/api/v1/cases", params={"hazard": "damp_and_mould"}).json()
    assert [c["home_id"] for c in cases] == [
        "H00001"
    ]  # one case for the damp home, none for healthy ones
    case = cases[0]
    assert case["category"] == "potential"
    assert case["source"] == "sensor"
    aware_at = datetime.fromisoformat(case["aware_at"])
    assert before_detect <= aware_at <= datetime.now(UTC)
    [clock] = case["clocks"]
    assert clock["kind"] == "investigate"
    assert clock["status"] == "running"
    assert datetime.fromisoformat(clock["due_at"]) == tenth_working_day_end(aware_at)

    detail = client.get(f"/api/v1/cases/{case['id']}").json()
    assert detail["evidence"][0]["kind"] == "sensor_finding"
    assert detail["evidence"][0]["window_start"] is not None

    # A second pass finds the same damp room: it joins nothing new and opens nothing new.
    assert (
        subprocess.run(
            [sys.executable, "-m", "homesafe.cli", "detect", "--once"],
            env={**os.environ, **env},
            check=False,
            cwd=workdir,
        ).returncode
        == 0
    )
    assert len(client.get("/api/v1/cases").json()) == 1
