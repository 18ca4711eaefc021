"""The MQTT entry point: subscribe to gateway telemetry and status, hand each message to
IngestService. Thin by design: parse, call the service, never let an error out."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from ingest.contract import STATUS_SUBSCRIPTION, TELEMETRY_SUBSCRIPTION, GatewayStatus
from ingest.service import IngestService
from registry.clock import utc_now

log = logging.getLogger(__name__)

SHARED_GROUP = "ingest"
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
    """Subscribes to telemetry (QoS 1) and status, in a background thread; reconnects itself."""

    def __init__(
        self,
        service: IngestService,
        *,
        host: str,
        port: int = 1883,
        username: str | None = None,
        password: str | None = None,
        client_id: str = "",
        protocol: str = "5",
        shared: bool = False,
        tls: bool = False,
        keepalive_s: int = 30,
        on_status: Callable[[GatewayStatus], None] | None = None,
    ) -> None:
        if protocol not in ("5", "3.1.1"):
            raise ValueError(f"MQTT protocol must be '5' or '3.1.1', not {protocol!r}")
        self.service = service
        self.host = host
        self.port = port
        self.protocol = protocol
        self.shared = shared
        self.keepalive_s = keepalive_s
        self.on_status = on_status
        self.telemetry_subscription = (
            f"$share/{SHARED_GROUP}/{TELEMETRY_SUBSCRIPTION}" if shared else TELEMETRY_SUBSCRIPTION
        )
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        version = MQTTProtocolVersion.MQTTv5 if protocol == "5" else MQTTProtocolVersion.MQTTv311
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=version,
            reconnect_on_failure=True,
        )
        if username is not None:
            self._client.username_pw_set(username, password)
        if tls:
            self._client.tls_set()
        self._client.reconnect_delay_set(RECONNECT_MIN_DELAY_S, RECONNECT_MAX_DELAY_S)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._client.message_callback_add(TELEMETRY_SUBSCRIPTION, self._on_telemetry)
        self._client.message_callback_add(STATUS_SUBSCRIPTION, self._on_status)

    def start(self) -> None:
        """Connect (retrying until the broker answers) and serve in background threads."""
        self._stop.clear()
        self._client.connect_async(self.host, self.port, keepalive=self.keepalive_s)
        self._client.loop_start()
        self._ticker = threading.Thread(target=self._tick_loop, name="ingest-flush", daemon=True)
        self._ticker.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Disconnect, stop the threads and flush what is pending."""
        self._stop.set()
        try:
            self._client.disconnect()
        except Exception:  # already gone
            log.debug("disconnect while stopping failed", exc_info=True)
        self._client.loop_stop()
        if self._ticker is not None:
            self._ticker.join(timeout_s)
            self._ticker = None
        self.service.flush(_now_s())

    # --- paho callbacks (network thread) ----------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any
    ) -> None:
        if reason_code.is_failure:
            log.warning(
                "MQTT broker %s:%s refused the connection: %s", self.host, self.port, reason_code
            )
            return
        log.info("connected to MQTT broker %s:%s", self.host, self.port)
        self.connected.set()
        # Subscribe on every (re)connect: a clean session forgets subscriptions.
        client.subscribe([(self.telemetry_subscription, 1), (STATUS_SUBSCRIPTION, 1)])

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reason_codes: Any, properties: Any
    ) -> None:
        failures = [code for code in reason_codes if code.is_failure]
        if failures:
            log.error("MQTT subscription refused: %s", failures)
            return
        self.subscribed.set()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any
    ) -> None:
        self.connected.clear()
        self.subscribed.clear()
        if not self._stop.is_set():
            log.warning("MQTT connection lost (%s); reconnecting with backoff", reason_code)

    def _on_telemetry(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.service.handle(_topic_of(message), message.payload, _now_s())

    def _on_status(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        status = self.service.handle_status(_topic_of(message), message.payload, _now_s())
        if status is not None and self.on_status is not None:
            try:
                self.on_status(status)
            except Exception:
                log.exception("on_status hook failed")

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        # Anything else under our subscriptions (e.g. a topic paho did not match): telemetry
        # handling dead-letters it with a reason rather than dropping it silently.
        self.service.handle(_topic_of(message), message.payload, _now_s())

    def _tick_loop(self) -> None:
        while not self._stop.wait(TICK_INTERVAL_S):
            self.service.tick(_now_s())
