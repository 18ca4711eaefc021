"""A simulated gateway on MQTT (3.1.1 or 5): QoS 1, retained status with an offline last will,
its own credentials, a local buffer while disconnected replayed in order, jittered backoff."""

from __future__ import annotations

import hashlib
import hmac
import random
import threading
import time
from collections import deque
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from firmware_sim.clock import wall_time_s
from firmware_sim.telemetry import status_topic, telemetry_topic

FIRMWARE_VERSION = "sim-1.0.0"
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 30.0
INFLIGHT_WINDOW = 100


def gateway_password(key: str, gateway_id: str) -> str:
    """The gateway's broker password derived from the provisioning key (HMAC-SHA256, 32 hex)."""
    return hmac.new(key.encode(), gateway_id.encode(), hashlib.sha256).hexdigest()[:32]


def protocol_of(name: str) -> MQTTProtocolVersion:
    """paho protocol constant for "3.1.1" or "5"."""
    return {"3.1.1": mqtt.MQTTv311, "5": mqtt.MQTTv5}[name]


def backoff_s(attempt: int, rng: random.Random) -> float:
    """Full-jitter exponential backoff (AWS Architecture Blog, 'Exponential Backoff And Jitter')."""
    return rng.uniform(0.0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt))


class Gateway:
    """One gateway's connection, sequence of messages and local buffer."""

    def __init__(
        self,
        gateway_id: str,
        host: str,
        port: int,
        *,
        protocol: str = "5",
        gateway_key: str | None = None,
        username: str | None = None,
        password: str | None = None,
        seed: int = 0,
        tls: bool = False,
        tls_ca_file: str | None = None,
    ):
        self.gateway_id = gateway_id
        self.host, self.port = host, port
        self.buffer: deque[bytes] = deque()
        self.network_up = True
        self.ever_connected = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._unacked = 0
        self.published = 0
        self.acked = 0
        self._rng = random.Random(f"{seed}:{gateway_id}")
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=gateway_id, protocol=protocol_of(protocol)
        )
        if username is None:
            username = gateway_id if gateway_key else None
            password = gateway_password(gateway_key, gateway_id) if gateway_key else None
        if username:
            self.client.username_pw_set(username, password)
        if tls or tls_ca_file:  # TLS (8883): the broker's certificate, checked against the CA
            self.client.tls_set(ca_certs=tls_ca_file or None)
        self.client.max_inflight_messages_set(INFLIGHT_WINDOW)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self._thread = threading.Thread(target=self._run, name=f"gw-{gateway_id}", daemon=True)

    def _status(self, state: str) -> bytes:
        return orjson.dumps({"state": state, "fw": FIRMWARE_VERSION, "ts": int(wall_time_s())})

    def start(self) -> None:
        """Connect (in the background) and keep connected until stopped."""
        self._thread.start()

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            if not self.network_up:
                time.sleep(0.05)
                continue
            try:
                self.client.will_set(
                    status_topic(self.gateway_id), self._status("offline"), qos=1, retain=True
                )
                self.client.connect(self.host, self.port, keepalive=30)
            except OSError:
                self._stop.wait(backoff_s(attempt, self._rng))
                attempt += 1
                continue
            while not self._stop.is_set() and self.network_up:
                rc = self.client.loop(timeout=0.05)
                if rc != mqtt.MQTT_ERR_SUCCESS:
                    break
                if self._connected.is_set():
                    attempt = 0
                    self._pump()
            self._connected.clear()
            if self._stop.is_set():
                break
            if (
                not self.network_up
            ):  # the cable is pulled: no DISCONNECT, so the broker sends the will
                sock = self.client.socket()
                if sock is not None:
                    sock.close()
                continue
            self._stop.wait(backoff_s(attempt, self._rng))
            attempt += 1

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: Any,
        _flags: Any,
        reason_code: Any,
        _properties: Any = None,
    ) -> None:
        if reason_code == 0:
            client.publish(
                status_topic(self.gateway_id), self._status("online"), qos=1, retain=True
            )
            self.ever_connected = True
            self._connected.set()

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _flags: Any,
        _reason_code: Any,
        _properties: Any = None,
    ) -> None:
        self._connected.clear()

    def _on_publish(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _mid: int,
        _reason_code: Any = None,
        _properties: Any = None,
    ) -> None:
        with self._lock:
            self._unacked = max(self._unacked - 1, 0)
            self.acked += 1

    def _pump(self) -> None:
        """Hand buffered messages to the client in order, within the in-flight window."""
        while self.buffer and self._unacked < INFLIGHT_WINDOW and self._connected.is_set():
            payload = self.buffer[0]
            info = self.client.publish(telemetry_topic(self.gateway_id), payload, qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                return
            self.buffer.popleft()
            with self._lock:
                self._unacked += 1
            self.published += 1

    def send(self, payload: bytes) -> None:
        """Queue a telemetry payload; it goes out in order as soon as the link allows."""
        self.buffer.append(payload)

    def set_network(self, up: bool) -> None:
        """Simulate the home's internet going down (True: back up)."""
        self.network_up = up

    def drained(self) -> bool:
        """Everything queued has been sent and acknowledged."""
        return not self.buffer and self._unacked == 0 and self._connected.is_set()

    def wait_connected(self, timeout_s: float) -> bool:
        """Block until connected or timeout."""
        return self._connected.wait(timeout_s)

    def stop(self, *, timeout_s: float = 10.0) -> None:
        """Flush, announce offline (retained) and disconnect cleanly."""
        deadline = time.monotonic() + timeout_s
        while (
            not self.drained()
            and time.monotonic() < deadline
            and self.network_up
            and self.ever_connected
        ):
            time.sleep(0.02)
        if self._connected.is_set():
            info = self.client.publish(
                status_topic(self.gateway_id), self._status("offline"), qos=1, retain=True
            )
            end = time.monotonic() + 2.0
            while not info.is_published() and time.monotonic() < end:
                time.sleep(0.01)
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            self.client.disconnect()
        except Exception:
            pass
