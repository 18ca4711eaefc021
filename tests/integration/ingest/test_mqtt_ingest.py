"""MqttIngest against a real Mosquitto: readings land in SQLite, bad ones in dead letters."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from prometheus_client import CollectorRegistry
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from ingest.contract import DeadLetterRecord, GatewayStatus
from ingest.models import DeadLetter
from ingest.repository import add_dead_letters, list_dead_letters
from ingest.service import IngestMetrics, IngestService
from ingest.store import TelemetryStore, open_telemetry_store
from ingest.subscriber import MqttIngest
from registry.clock import utc_now
from tests.servers import Mosquitto

pytestmark = pytest.mark.integration


def eventually(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@dataclass
class Rig:
    store: TelemetryStore
    session_factory: Callable[[], Session]
    service: IngestService
    statuses: list[GatewayStatus]

    def readings(self) -> list[tuple[str, str, int]]:
        now = utc_now()
        got = self.store.query(start=now - timedelta(days=1), end=now + timedelta(hours=1))
        return [(r.gateway_id, r.sensor, r.ts) for r in got]

    def dead_letters(self) -> list[DeadLetter]:
        with self.session_factory() as session:
            return list_dead_letters(session, limit=100, offset=0)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    store = open_telemetry_store(f"sqlite:///{tmp_path / 'telemetry.db'}")
    engine = create_engine(f"sqlite:///{tmp_path / 'cases.db'}")
    DeadLetter.metadata.create_all(engine, tables=[DeadLetter.__table__])  # type: ignore[list-item]

    def factory() -> Session:
        return Session(engine, expire_on_commit=False)

    def sink(letters: list[DeadLetterRecord]) -> None:
        with factory() as session:
            add_dead_letters(session, letters)
            session.commit()

    service = IngestService(
        store=store,
        dead_letter_sink=sink,
        known_gateway={"gw-1": "home-1", "gw-2": "home-2"}.get,
        max_batch_age_s=0.2,
        metrics=IngestMetrics(CollectorRegistry()),
    )
    yield Rig(store, factory, service, [])
    store.close()
    engine.dispose()


def publisher(broker: Mosquitto) -> mqtt.Client:
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"pub-{uuid.uuid4().hex[:8]}",
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    client.connect(broker.host, broker.port)
    client.loop_start()
    return client


def telemetry(seq: int, *sensors: str, **fields: float) -> bytes:
    ts = int(utc_now().timestamp()) - 10
    return orjson.dumps(
        {
            "v": 1,
            "seq": seq,
            "readings": [{"sensor": s, "ts": ts, "temperature_c": 18.5, **fields} for s in sensors],
        }
    )


def start_ingest(rig: Rig, broker: Mosquitto, **kwargs: object) -> MqttIngest:
    ingest = MqttIngest(
        rig.service,
        host=broker.host,
        port=broker.port,
        client_id=f"ingest-{uuid.uuid4().hex[:8]}",
        on_status=rig.statuses.append,
        **kwargs,
    )  # type: ignore[arg-type]
    ingest.start()
    assert ingest.subscribed.wait(10), "ingest never subscribed"
    return ingest


@pytest.mark.parametrize(("protocol", "shared"), [("5", False), ("5", True), ("3.1.1", False)])
def test_valid_messages_land_bad_ones_are_dead_lettered_and_ingest_goes_on(
    rig: Rig, mosquitto: Mosquitto, protocol: str, shared: bool
) -> None:
    ingest = start_ingest(rig, mosquitto, protocol=protocol, shared=shared)
    pub = publisher(mosquitto)
    try:
        pub.publish(
            "homesafe/v1/gw/gw-1/telemetry", telemetry(1, "s1", "s2"), qos=1
        ).wait_for_publish(5)
        pub.publish(
            "homesafe/v1/gw/gw-1/telemetry", b'{"v": 1, "seq": NaN', qos=1
        ).wait_for_publish(5)
        pub.publish(
            "homesafe/v1/gw/gw-2/telemetry", telemetry(7, "a", humidity_pct=104.2), qos=1
        ).wait_for_publish(5)
        pub.publish("homesafe/v1/gw/gw-9/telemetry", telemetry(1, "x"), qos=1).wait_for_publish(5)
        pub.publish("homesafe/v1/gw/gw-2/telemetry", telemetry(8, "b"), qos=1).wait_for_publish(5)
        pub.publish(
            "homesafe/v1/gw/gw-2/status",
            b'{"state":"online","fw":"2.0","ts":1}',
            qos=1,
            retain=True,
        ).wait_for_publish(5)

        eventually(lambda: len(rig.readings()) == 3 and len(rig.dead_letters()) == 3)
        assert sorted((g, s) for g, s, _ in rig.readings()) == [
            ("gw-1", "s1"),
            ("gw-1", "s2"),
            ("gw-2", "b"),
        ]
        reasons = sorted(letter.reason for letter in rig.dead_letters())
        assert reasons[0] == "gateway gw-9 is not in the registry"
        assert reasons[1].startswith("payload is not valid JSON")
        assert reasons[2] == "reading 0: humidity_pct 104.2 is above 100"
        raw = {bytes(letter.payload) for letter in rig.dead_letters()}
        assert b'{"v": 1, "seq": NaN' in raw
        eventually(lambda: any(s.gateway_id == "gw-2" for s in rig.statuses))
        assert rig.service.fleet_health()["gw-2"].missed_messages == 0
    finally:
        pub.publish("homesafe/v1/gw/gw-2/status", b"", qos=1, retain=True).wait_for_publish(5)
        pub.loop_stop()
        pub.disconnect()
        ingest.stop()


def test_ingest_reconnects_and_resubscribes_after_the_broker_restarts(
    rig: Rig, make_mosquitto: Callable[..., Mosquitto]
) -> None:
    broker = make_mosquitto()
    ingest = start_ingest(rig, broker, protocol="3.1.1")
    try:
        pub = publisher(broker)
        pub.publish(
            "homesafe/v1/gw/gw-1/telemetry", telemetry(1, "before"), qos=1
        ).wait_for_publish(5)
        eventually(lambda: len(rig.readings()) == 1)
        pub.loop_stop()
        broker.restart()
        assert ingest.subscribed.wait(40), "ingest did not resubscribe"
        pub = publisher(broker)
        pub.publish("homesafe/v1/gw/gw-1/telemetry", telemetry(2, "after"), qos=1).wait_for_publish(
            5
        )
        eventually(lambda: len(rig.readings()) == 2)
        pub.loop_stop()
        pub.disconnect()
    finally:
        ingest.stop()


def test_stop_flushes_pending_readings(rig: Rig, mosquitto: Mosquitto) -> None:
    rig.service.max_batch_age_s = 3600
    ingest = start_ingest(rig, mosquitto)
    pub = publisher(mosquitto)
    pub.publish("homesafe/v1/gw/gw-1/telemetry", telemetry(1, "s1"), qos=1).wait_for_publish(5)
    eventually(lambda: rig.service.pending_readings == 1)
    assert rig.readings() == []
    pub.loop_stop()
    pub.disconnect()
    ingest.stop()
    assert [s for _, s, _ in rig.readings()] == ["s1"]
