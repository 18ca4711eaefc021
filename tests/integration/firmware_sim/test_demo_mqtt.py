"""The demo fleet publishes its backfill, then live readings, over MQTT 3.1.1."""

from __future__ import annotations

import threading
import time

import orjson
import paho.mqtt.client as mqtt
import pytest

from firmware_sim.demo import start_demo_fleet

pytestmark = pytest.mark.integration


def test_demo_fleet_backfills_then_goes_live(mosquitto):
    got: list[tuple[str, bytes]] = []
    c = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id="demo-collector", protocol=mqtt.MQTTv311
    )
    c.on_message = lambda _c, _u, m: got.append((m.topic, m.payload))
    c.connect(mosquitto.host, mosquitto.port)
    c.subscribe("homesafe/v1/gw/+/telemetry", qos=1)
    c.loop_start()
    time.sleep(0.3)
    stop = threading.Event()
    started = time.time()
    thread = start_demo_fleet(
        mosquitto.host,
        mosquitto.port,
        homes=2,
        seed=1,
        backfill_hours=3,
        interval_s=1.0,
        stop=stop,
        protocol="3.1.1",
    )
    assert thread.daemon
    time.sleep(4.0)
    stop.set()
    thread.join(timeout=15)
    c.loop_stop()
    c.disconnect()
    assert not thread.is_alive()
    per_gateway: dict[str, list[dict]] = {}
    for topic, payload in got:
        per_gateway.setdefault(topic.split("/")[3], []).append(orjson.loads(payload))
    assert set(per_gateway) == {"gw-H00001", "gw-H00002"}
    for messages in per_gateway.values():
        ts = [r["ts"] for m in messages for r in m["readings"]]
        assert min(ts) <= started - 2.5 * 3600  # backfill reaches back
        assert max(ts) >= started  # and live readings follow
        assert max(ts) <= time.time() + 300
        assert len(messages) >= 12 + 1
