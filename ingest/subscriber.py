"""The MQTT entry point: subscribe to gateway telemetry and status, hand each message to
IngestService, and acknowledge it when the service says it is durable. Thin by design.

At-least-once: MQTT v5 persistent session (fixed client id, clean start off, session expiry),
QoS 1, a large receive maximum, and manual acks (paho `manual_ack_set(True)`, `ack(mid, 1)`).
Acks carry the connection they came in on: after a reconnect the broker redelivers what was
not acknowledged, and a stale message id is never acked on the new connection. Over MQTT
3.1.1 (the embedded amqtt broker) the same holds with clean_session off.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ingest.contract import (
    STATUS_SUBSCRIPTION,
    STATUS_TOPIC_SUFFIX,
    TELEMETRY_SUBSCRIPTION,
    GatewayStatus,
)
from ingest.paho_tuned import TunedClient
from ingest.service import IngestService
from registry.clock import utc_now

log = logging.getLogger(__name__)

SHARED_GROUP = "ingest"
DEFAULT_RECEIVE_MAXIMUM = 8000
DEFAULT_SESSION_EXPIRY_S = 7 * 24 * 3600
ACK_WINDOW_3_1_1 = 16  # Mosquitto's default max_inflight_messages for 3.1.1 clients is 20
TICK_INTERVAL_S = 0.2
RECONNECT_MIN_DELAY_S = 1
RECONNECT_MAX_DELAY_S = 30


def parse_mqtt_url(url: str) -> tuple[str, int, str | None, str | None, bool]:
    """(host, port, username, password, tls) from `mqtt://user:pass@host:port` or `mqtts://…`."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise ValueError(f"MQTT URL {url!r}: scheme must be mqtt or mqtts")
    if not parts.hostname:
        raise ValueError(f"MQTT URL {url!r} has no host")
    tls = scheme in ("mqtts", "ssl")
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError as exc:
        raise ValueError(f"MQTT URL {url!r} has a bad port") from exc
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return parts.hostname, port, username, password, tls


def _now_s() -> float:
    return utc_now().timestamp()


def _topic_of(message: mqtt.MQTTMessage) -> str:
    try:
        return message.topic
    except UnicodeDecodeError:  # MQTT requires UTF-8 topics; keep a readable copy anyway
        return bytes(message._topic).decode("utf-8", "replace")


class MqttIngest:
    """Subscribes to telemetry (QoS 1) and status, in background threads; reconnects itself."""

    def __init__(
        self,
        service: IngestService,
        *,
        host: str,
        port: int = 1883,
        username: str | None = None,
        password: str | None = None,
        client_id: str = "homesafe-ingest",
        protocol: str = "5",
        shared: bool = False,
        tls: bool = False,
        keepalive_s: int = 30,
        receive_maximum: int = DEFAULT_RECEIVE_MAXIMUM,
        session_expiry_s: int = DEFAULT_SESSION_EXPIRY_S,
        persistent: bool = True,
        on_status: Callable[[GatewayStatus], None] | None = None,
    ) -> None:
        if protocol not in ("5", "3.1.1"):
            raise ValueError(f"MQTT protocol must be '5' or '3.1.1', not {protocol!r}")
        if persistent and not client_id:
            raise ValueError("a persistent session needs a fixed client id")
        self.service = service
        self.host = host
        self.port = port
        self.protocol = protocol
        self.shared = shared
        self.keepalive_s = keepalive_s
        self.on_status = on_status
        self.receive_maximum = receive_maximum
        self.session_expiry_s = session_expiry_s if persistent else 0
        self.telemetry_subscription = (
            f"$share/{SHARED_GROUP}/{TELEMETRY_SUBSCRIPTION}" if shared else TELEMETRY_SUBSCRIPTION
        )
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._generation = 0
        self._ack_lock = threading.Lock()  # acks never cross a reconnect
        version = MQTTProtocolVersion.MQTTv5 if protocol == "5" else MQTTProtocolVersion.MQTTv311
        self._client = TunedClient(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=version,
            clean_session=None if protocol == "5" else not persistent,
            reconnect_on_failure=True,
            manual_ack=True,
        )
        self._persistent = persistent
        # Ack in step with what the broker lets us hold unacknowledged.
        service.acknowledge = self._ack_many
        service.ack_window = max(1, receive_maximum // 2) if protocol == "5" else ACK_WINDOW_3_1_1
        if username is not None:
            self._client.username_pw_set(username, password)
        if tls:
            self._client.tls_set()
        self._client.reconnect_delay_set(RECONNECT_MIN_DELAY_S, RECONNECT_MAX_DELAY_S)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        # One callback, dispatched by topic suffix: paho's per-message filter matching costs more.
        self._client.on_message = self._on_message

    def _connect_properties(self) -> Properties | None:
        if self.protocol != "5":
            return None
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.session_expiry_s
        properties.ReceiveMaximum = self.receive_maximum
        return properties

    def start(self) -> None:
        """Connect (retrying until the broker answers) and serve in background threads."""
        self._stop.clear()
        self._client.connect_async(
            self.host,
            self.port,
            keepalive=self.keepalive_s,
            clean_start=not self._persistent
            if self.protocol == "5"
            else mqtt.MQTT_CLEAN_START_FIRST_ONLY,
            properties=self._connect_properties(),
        )
        self._client.loop_start()
        writer = threading.Thread(
            target=self.service.run_writer,
            args=(self._stop, _now_s),
            name="ingest-writer",
            daemon=True,
        )
        writer.start()
        self._threads = [writer]

    def stop(self, timeout_s: float = 10.0) -> None:
        """Flush what is pending (acking it), then disconnect and stop the threads."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout_s)
        self._threads = []
        self.service.flush(_now_s())
        try:
            self._client.disconnect()
        except Exception:  # already gone
            log.debug("disconnect while stopping failed", exc_info=True)
        self._client.loop_stop()

    def kill_connection(self) -> None:
        """Drop the network connection without a DISCONNECT (tests: a crash seen from the broker)."""
        sock = self._client.socket()
        if sock is not None:
            sock.close()

    # --- acks (writer thread) ---------------------------------------------------------------

    def _ack_many(self, tokens: list[object]) -> None:
        # Under the lock that a disconnect takes to move the generation on, so a PUBACK is
        # either queued before paho clears its queue for the reconnect, or not at all.
        with self._ack_lock:
            generation = self._generation
            self._client.ack_many(
                [mid for token_generation, mid in tokens if token_generation == generation]  # type: ignore[misc]
            )

    def _token(self, message: mqtt.MQTTMessage) -> tuple[int, int] | None:
        return (self._generation, message.mid) if message.qos > 0 else None

    # --- paho callbacks (network thread) ----------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, flags: Any, reason_code: Any, _properties: Any
    ) -> None:
        if reason_code.is_failure:
            log.warning(
                "MQTT broker %s:%s refused the connection: %s", self.host, self.port, reason_code
            )
            return
        log.info(
            "connected to MQTT broker %s:%s (session present: %s)",
            self.host,
            self.port,
            getattr(flags, "session_present", None),
        )
        with self._ack_lock:
            self._generation += 1
        self.connected.set()
        # Subscribe on every (re)connect: harmless on a kept session, needed on a fresh one.
        client.subscribe([(self.telemetry_subscription, 1), (STATUS_SUBSCRIPTION, 1)])

    def _on_subscribe(
        self, _client: mqtt.Client, _userdata: Any, _mid: int, reason_codes: Any, _properties: Any
    ) -> None:
        failures = [code for code in reason_codes if code.is_failure]
        if failures:
            log.error("MQTT subscription refused: %s", failures)
            return
        self.subscribed.set()

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason_code: Any, _properties: Any
    ) -> None:
        self.connected.clear()
        self.subscribed.clear()
        with self._ack_lock:
            self._generation += 1  # acks for the old connection's message ids must not go out
        if not self._stop.is_set():
            log.warning("MQTT connection lost (%s); reconnecting with backoff", reason_code)

    def _on_status(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        status = self.service.handle_status(
            _topic_of(message), message.payload, _now_s(), self._token(message)
        )
        if status is not None and self.on_status is not None:
            try:
                self.on_status(status)
            except Exception:
                log.exception("on_status hook failed")

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        topic = _topic_of(message)
        if topic.endswith(STATUS_TOPIC_SUFFIX) and topic.startswith("homesafe/v1/gw/"):
            self._on_status(client, userdata, message)
            return
        # Telemetry, and anything else under our subscriptions (dead-lettered with a reason).
        token = (self._generation, message.mid) if message.qos > 0 else None
        self.service.handle(topic, message.payload, _now_s(), token)
