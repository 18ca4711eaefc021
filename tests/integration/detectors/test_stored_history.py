"""Every stored hour counts: history stored before the detectors first saw it, and late readings.

Issue 15: ten days of an unheated flat at 13–15 °C sent through MQTT (real Mosquitto, ingest into
the store) and then the detector pass found nothing, because a first pass read only ~26 hours.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from compliance.models import Case, Evidence
from homesafe.bootstrap import Services, build, detect_once, ingest_service
from homesafe.migrate import upgrade
from homesafe.settings import Settings
from ingest.contract import Reading
from ingest.subscriber import MqttIngest
from registry.clock import utc_now
from registry.service import import_registry
from tests.factories import homes_csv
from tests.servers import Mosquitto

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "influxdb"])
def services(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    """Case database on SQLite; the telemetry store on each adapter."""
    telemetry = (
        f"sqlite:///{tmp_path / 'telemetry.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("influx_url")
    )
    built = build(
        Settings(database_url=f"sqlite:///{tmp_path / 'cases.db'}", telemetry_url=telemetry)
    )
    upgrade(built.db)
    with built.sessions.begin() as session:
        import_registry(session, homes_text=homes_csv(homes=1, sensors_per_home=2))
    yield built
    built.close()


def unheated_flat(days: int, *, end_s: int) -> list[dict[str, object]]:
    """Living room and bedroom (s1, s2) held at 13–15 °C, a reading each 15 minutes."""
    out: list[dict[str, object]] = []
    start_s = end_s - days * 86400
    for ts in range(start_s, end_s, 900):
        swing = math.sin(2 * math.pi * (ts % 86400) / 86400)
        for sensor in ("s1", "s2"):
            out.append(
                {
                    "sensor": sensor,
                    "ts": ts,
                    "temperature_c": round(14.0 + swing, 2),
                    "humidity_pct": 62.0,
                    "battery_pct": 90.0,
                }
            )
    return out


def publish_through_mqtt(services: Services, broker: Mosquitto, readings: list[dict[str, object]]):
    """Readings sent as gw-0001 through a real broker to ingest, which stores them."""
    ingest = MqttIngest(
        ingest_service(services, spool_dir=Path(str(services.settings.files_dir)) / "spool"),
        host=broker.host,
        port=broker.port,
        client_id=f"ingest-{uuid.uuid4().hex[:8]}",
    )
    ingest.start()
    assert ingest.subscribed.wait(10), "ingest never subscribed"
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"gw-{uuid.uuid4().hex[:8]}",
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        for seq, begin in enumerate(range(0, len(readings), 400)):
            body = orjson.dumps({"v": 1, "seq": seq, "readings": readings[begin : begin + 400]})
            client.publish("homesafe/v1/gw/gw-0001/telemetry", body, qos=1).wait_for_publish(10)
        newest = max(int(r["ts"]) for r in readings)  # type: ignore[call-overload]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            stored = services.telemetry.query(
                start=datetime.fromtimestamp(newest - 86400 * 40, UTC),
                end=datetime.fromtimestamp(newest + 1, UTC),
            )
            if len(stored) == len(readings):
                break
            time.sleep(0.3)
        else:
            raise AssertionError(f"ingest stored {len(stored)} of {len(readings)} readings")
    finally:
        client.loop_stop()
        client.disconnect()
        ingest.stop()


def cases(services: Services) -> list[tuple[str, str]]:
    with services.sessions() as session:
        return sorted((c.home_id, c.hazard) for c in session.query(Case).all())


def test_ten_stored_days_of_an_unheated_flat_are_folded_on_the_first_pass(
    services: Services, mosquitto: Mosquitto
):
    now = utc_now()
    publish_through_mqtt(services, mosquitto, unheated_flat(10, end_s=int(now.timestamp()) - 60))
    assert detect_once(services, now=now) >= 1
    assert cases(services) == [("H0001", "excess_cold")]
    with services.sessions() as session:
        items = session.query(Evidence).all()
        assert sorted(i.room for i in items) == ["bedroom", "living"]
        for item in items:
            assert (item.rule, item.rule_version) == ("excess_cold", "2")
            assert item.figures["conditions"] == "room_air"
            assert item.figures["days_measured_d"] >= 5  # a week of stored history, not one day
            assert "excess_cold v2; room air" in (item.description or "")
    for k in range(1, 12):  # twelve passes in all: still the one case, no more findings
        assert detect_once(services, now=now + timedelta(minutes=5 * k)) == 0
    assert cases(services) == [("H0001", "excess_cold")]


START = datetime(2026, 1, 10, tzinfo=UTC)


def living_room(hours: range, humidity_pct: float) -> list[Reading]:
    """gw-0001's s1 (the living room) each 15 minutes over the given hours from START."""
    start_s = int(START.timestamp())
    return [
        Reading("gw-0001", "s1", start_s + h * 3600 + q * 900, 21.0, humidity_pct, None, 90.0)
        for h in hours
        for q in range(4)
    ]


def test_a_buffer_uploaded_after_newer_hours_were_folded_is_refolded(services: Services):
    services.telemetry.write(living_room(range(0, 20), 55.0))
    services.telemetry.write(
        living_room(range(26, 30), 55.0)
    )  # live again before the buffer arrives
    found = detect_once(services, now=START + timedelta(hours=29, minutes=20))
    assert found == 0
    # The gateway uploads its buffer: six hours of steam, hours the detectors already folded (gaps).
    services.telemetry.write(living_room(range(20, 26), 88.0))
    from detectors.runner import LATE_READINGS

    before = LATE_READINGS._value.get()
    found = detect_once(services, now=START + timedelta(hours=29, minutes=35))
    assert found == 1
    assert LATE_READINGS._value.get() - before == 6  # the six re-folded sensor-hours
    assert cases(services) == [("H0001", "damp_and_mould")]
    assert detect_once(services, now=START + timedelta(hours=29, minutes=50)) == 0
