"""Clean shutdown, with real processes: every service stops within 10 s of SIGTERM with status 0,
and what a broker acknowledged to a gateway before the signal is in the telemetry store after it."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from ingest.sqlite_store import SqliteTelemetryStore
from tests.factories import homes_csv
from tests.integration.homesafe.processes import HomesafeProcess, homesafe, publish_readings
from tests.servers import Mosquitto, free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def embedded(tmp_path: Path) -> dict[str, str]:
    """Settings for SQLite case and telemetry stores in tmp_path, one gateway gw-0001 registered."""
    env = {
        "HOMESAFE_DATABASE_URL": f"sqlite:///{tmp_path}/cases.db",
        "HOMESAFE_TELEMETRY_URL": f"sqlite:///{tmp_path}/telemetry.db",
        "HOMESAFE_METRICS_PORT": "0",
    }
    (tmp_path / "homes.csv").write_text(homes_csv(homes=1, sensors_per_home=2))
    homesafe(["registry", "import", "homes.csv"], env=env, cwd=tmp_path)
    return env


def _stored(tmp_path: Path) -> int:
    store = SqliteTelemetryStore(str(tmp_path / "telemetry.db"))
    try:
        return len(
            store.query(
                start=datetime(2000, 1, 1, tzinfo=UTC), end=datetime(2100, 1, 1, tzinfo=UTC)
            )
        )
    finally:
        store.close()


def test_homesafe_run_stores_what_its_broker_acknowledged_then_stops(tmp_path, embedded):
    """The embedded broker acknowledges gateways itself: on SIGTERM ingest must store, not drop, them."""
    run = HomesafeProcess(
        ["run", "--no-sim", "--port", str(free_port())], env=embedded, cwd=tmp_path, name="run"
    )
    try:
        broker_port = int(run.wait_for(r"MQTT broker: mqtt://127\.0\.0\.1:(\d+)").group(1))
        run.wait_for(r"connected to MQTT broker")
        sent = publish_readings(
            "127.0.0.1",
            broker_port,
            gateway_id="gw-0001",
            messages=200,
            first_ts=int(time.time()) - 86400,
            protocol=mqtt.MQTTv311,
        )
        code = run.terminate()
    finally:
        run.kill()
    assert _stored(tmp_path) == sent
    assert code == 0, run.log_text()[-4000:]
    assert "Traceback" not in run.log_text()


def test_homesafe_ingest_stores_what_it_took_then_stops(tmp_path, embedded, mosquitto: Mosquitto):
    """SIGTERM while readings arrive: what ingest acknowledged is stored, what it had not taken
    stays with the broker for its persistent session, so nothing is lost across the stop."""
    env = {**embedded, "HOMESAFE_MQTT_URL": mosquitto.url}
    args = ["ingest", "--client-id", f"shutdown-{tmp_path.name}"]
    ingest = HomesafeProcess(args, env=env, cwd=tmp_path, name="ingest")
    try:
        ingest.wait_for(r"connected to MQTT broker")
        sent = publish_readings(
            mosquitto.host,
            mosquitto.port,
            gateway_id="gw-0001",
            messages=200,
            first_ts=int(time.time()) - 86400,
        )
        assert ingest.terminate() == 0, ingest.log_text()[-4000:]
    finally:
        ingest.kill()
    assert "Traceback" not in ingest.log_text()
    stored_at_stop = _stored(tmp_path)
    assert stored_at_stop <= sent
    # The same session again: the broker hands over what the first process never acknowledged.
    again = HomesafeProcess(args, env=env, cwd=tmp_path, name="ingest-again")
    try:
        again.wait_for(r"connected to MQTT broker")
        deadline = time.monotonic() + 60
        while _stored(tmp_path) < sent and time.monotonic() < deadline:
            time.sleep(0.5)
        assert again.terminate() == 0, again.log_text()[-4000:]
    finally:
        again.kill()
    assert _stored(tmp_path) == sent


@pytest.mark.parametrize(
    ("args", "ready"),
    [
        (["detect"], r"detector pass"),
        (["scheduler"], r"scheduler running"),
        (["api", "--port", "{port}"], r"Uvicorn running|Application startup complete"),
    ],
    ids=["detect", "scheduler", "api"],
)
def test_each_service_stops_within_10_s_of_sigterm(tmp_path, embedded, args, ready):
    args = [re.sub(r"\{port\}", str(free_port()), a) for a in args]
    service = HomesafeProcess(args, env=embedded, cwd=tmp_path, name=args[0])
    try:
        service.wait_for(ready)
        assert service.terminate() == 0, service.log_text()[-4000:]
    finally:
        service.kill()
    assert "Traceback" not in service.log_text()
