"""The MQTT entry point: subscribe to gateway telemetry and status, hand each socket read's
messages to IngestService, and acknowledge them when the service says they are durable.
Thin by design.

At-least-once: a persistent session (fixed client id; MQTT 5: clean start off and a session
expiry; MQTT 3.1.1, as the embedded amqtt broker speaks: clean session off), QoS 1, a large
receive maximum, and PUBACKs sent only for durable messages (ingest.mqtt_client). Acks carry
the connection they came in on: after a reconnect the broker redelivers what was not
acknowledged, and a stale packet id is never acked on the new connection.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Hashable
from urllib.parse import unquote, urlsplit

from ingest.contract import STATUS_SUBSCRIPTION, TELEMETRY_SUBSCRIPTION, GatewayStatus
from ingest.mqtt_client import Delivered, MqttSubscriber
from ingest.service import IngestService
from registry.clock import utc_now

log = logging.getLogger(__name__)

SHARED_GROUP = "ingest"
DEFAULT_RECEIVE_MAXIMUM = 8000
DEFAULT_SESSION_EXPIRY_S = 7 * 24 * 3600
GC_YOUNG_THRESHOLD = 20_000
ACK_WINDOW_3_1_1 = 16  # Mosquitto's default max_inflight_messages for 3.1.1 clients is 20


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
        self.on_status = on_status
        self.telemetry_subscription = (
            f"$share/{SHARED_GROUP}/{TELEMETRY_SUBSCRIPTION}" if shared else TELEMETRY_SUBSCRIPTION
        )
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._client = MqttSubscriber(
            host=host,
            port=port,
            client_id=client_id,
            subscriptions=[(self.telemetry_subscription, 1), (STATUS_SUBSCRIPTION, 1)],
            on_messages=self._on_messages,
            protocol=protocol,
            username=username,
            password=password,
            tls=tls,
            keepalive_s=keepalive_s,
            clean_start=not persistent,
            session_expiry_s=session_expiry_s if persistent else 0,
            receive_maximum=receive_maximum,
        )
        self.connected = self._client.connected
        self.subscribed = self._client.subscribed
        # Ack in step with what the broker lets us hold unacknowledged.
        service.acknowledge = self._ack
        service.ack_window = max(1, receive_maximum // 2) if protocol == "5" else ACK_WINDOW_3_1_1

    def start(self) -> None:
        """Connect (retrying until the broker answers) and serve in background threads."""
        self._stop.clear()
        # Everything imported and built so far lives as long as the process: move it out of
        # the collector's sight, so its full collections walk only what ingest allocates from
        # here on. A drain allocates (and keeps, until their batch is durable) a few objects
        # per reading: collect the young generation every 20,000 allocations, not every 700
        # (about a tenth of the per-message cost, measured; memory stays bounded by the
        # receive window either way).
        gc.freeze()
        gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)
        self._client.start()
        self._threads = [
            threading.Thread(
                target=self.service.run_writer,
                args=(self._stop, _now_s),
                name="ingest-writer",
                daemon=True,
            ),
            threading.Thread(
                target=self.service.run_fleet_writer,
                args=(self._stop, _now_s),
                name="ingest-fleet",
                daemon=True,
            ),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Flush what is pending (acking it), then disconnect and stop the threads."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout_s)
        self._threads = []
        self.service.flush(_now_s())
        self._client.stop(timeout_s)

    def kill_connection(self) -> None:
        """Drop the network connection without a DISCONNECT (tests: a crash seen from the broker)."""
        self._client.kill_connection()

    def _ack(self, tokens: list[Hashable]) -> None:
        self._client.ack(tokens)  # type: ignore[arg-type]  # the tokens _on_messages made

    def _on_messages(self, messages: list[Delivered]) -> None:
        statuses = self.service.handle_many(messages, _now_s())
        if statuses and self.on_status is not None:
            for status in statuses:
                try:
                    self.on_status(status)
                except Exception:
                    log.exception("on_status hook failed")
