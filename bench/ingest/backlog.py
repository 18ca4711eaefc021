"""The backlog-drain shape: a persistent session's queue, filled while its subscriber is away.

A landlord's pipeline is stressed hardest when a subscriber comes back (after a deploy, a crash,
a network cut) to a broker holding everything published meanwhile. Here:
1. `prime_session` registers the subscriber's persistent session on the broker (its client id,
   a session that outlives the connection, a QoS 1 subscription) and disconnects;
2. `queue_backlog` publishes the backlog with QoS 1 from `mosquitto_pub` processes (the
   broker queues it for the absent session);
3. the subscriber starts, and `time_drain` counts its readings back out of InfluxDB until
   every one is there.
The same priming serves every peer (Homesafe, Node-RED), so each starts from the same queue.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from bench.ingest.harness import FastPublishers, gateway_ids, influx_count, prepare_fast

SESSION_EXPIRY_S = 3600
POLL_S = 0.25


def prime_session(host: str, port: int, client_id: str, topic: str) -> None:
    """Leave a persistent MQTT v5 session for client_id on the broker, subscribed with QoS 1."""
    subscribed: list[bool] = []
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    client.on_subscribe = lambda *_args: subscribed.append(True)
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = SESSION_EXPIRY_S
    client.connect(host, port, clean_start=True, properties=properties)
    client.loop_start()
    try:
        client.subscribe(topic, qos=1)
        deadline = time.monotonic() + 10
        while not subscribed and time.monotonic() < deadline:
            time.sleep(0.02)
        if not subscribed:
            raise RuntimeError(f"the broker never confirmed {client_id}'s subscription")
    finally:
        client.disconnect()
        client.loop_stop()


def queue_backlog(
    workdir: Path,
    host: str,
    port: int,
    *,
    messages: int,
    per_message: int,
    base_ts: int,
    gateways: int = 100,
) -> FastPublishers:
    """Publish `messages` QoS 1 telemetry messages (unique readings) and wait for the broker."""
    fast = prepare_fast(
        workdir,
        host,
        port,
        gateway_ids(gateways),
        per_message=per_message,
        messages_per_gateway=max(1, messages // gateways),
        base_ts=base_ts,
    )
    fast.start()
    if not fast.wait(900):
        raise RuntimeError("a backlog publisher failed")
    return fast


@dataclass
class Drain:
    """How a subscriber drained a backlog."""

    readings: int
    stored: int
    from_start_s: float
    from_first_s: float

    @property
    def rate(self) -> float:
        """Readings/s from the first stored reading to the last (start-up excluded)."""
        return self.stored / self.from_first_s if self.from_first_s > 0 else float("nan")

    @property
    def rate_with_start(self) -> float:
        """Readings/s from the subscriber's start to the last reading stored."""
        return self.stored / self.from_start_s if self.from_start_s > 0 else float("nan")


def time_drain(
    http_url: str,
    database: str,
    *,
    expected: int,
    started: float,
    last_ts: int,
    last_expected: int,
    timeout_s: float = 600,
    on_first: Callable[[], None] | None = None,
) -> Drain:
    """Poll InfluxDB until `expected` readings are stored (or time runs out).

    Polls are kept cheap, so they take little from InfluxDB while it is being measured: until
    the backlog's last timestamp (`last_ts`, `last_expected` readings) is all stored, only
    that one second is counted; then the whole database, until it holds `expected`."""
    first = None
    stored = 0
    tail = f"time = {last_ts}s"
    while time.monotonic() - started < timeout_s:
        if first is None:
            if influx_count(http_url, database):  # small while it is still nearly empty
                first = time.monotonic() - POLL_S / 2  # it landed within the last poll
                if on_first is not None:
                    on_first()
        elif influx_count(http_url, database, where=tail) >= last_expected:
            stored = influx_count(http_url, database)
            if stored >= expected:
                break
        time.sleep(POLL_S)
    done = time.monotonic()
    if stored < expected:
        stored = influx_count(http_url, database)
    return Drain(expected, stored, done - started, done - (first or started))
