"""A minimal MQTT 3.1.1 / 5 client for one job: a persistent QoS 1 subscription, acked by hand.

Why not paho: a backlog drain spends most of its time in the client's per-packet path, and the
fast path paho allows only by subclassing its private methods. This client reads up to 1 MiB
per recv(), cuts every whole packet out of it at once (`mqtt_codec.split_packets`) and hands
all the messages of that read to one callback; PUBACKs for a whole durable batch leave in one
send(). It depends on nothing but the socket module and the MQTT specifications.

One thread (`mqtt-<client id>`) owns the socket: it connects (with backoff, forever, until
stopped), subscribes on every connect, reads, answers keepalive, and sends the PUBACKs that
other threads queue with `ack()` (it is woken through a socket pair), so TLS sockets are never
used from two threads at once.

At-least-once: a message's token is (connection generation, packet id). `ack()` drops tokens of
an earlier connection: after a reconnect the broker redelivers whatever was not acknowledged,
and a stale packet id must never acknowledge a different message on the new connection.
"""

from __future__ import annotations

import logging
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from typing import Final

from ingest.mqtt_codec import (
    CONNACK,
    DISCONNECT,
    DISCONNECT_PACKET,
    PINGREQ_PACKET,
    PINGRESP,
    PROTOCOL_5,
    PROTOCOL_311,
    PUBREL,
    SUBACK,
    ProtocolError,
    decode_connack,
    decode_disconnect,
    decode_suback,
    encode_connect,
    encode_pubacks,
    encode_subscribe,
    split_packets,
)

log = logging.getLogger(__name__)

AckToken = tuple[int, int]  # (connection generation, packet id)
Delivered = tuple[str, bytes, AckToken | None]  # topic, payload, token (None for QoS 0)

READ_BYTES: Final = 1024 * 1024
SOCKET_RECEIVE_BUFFER_BYTES: Final = 4 * 1024 * 1024
CONNECT_TIMEOUT_S: Final = 10.0
RECONNECT_MIN_DELAY_S: Final = 1.0
RECONNECT_MAX_DELAY_S: Final = 30.0


class ConnectionRefused(Exception):
    """The broker answered CONNACK with a refusal (bad credentials, not authorised, …)."""


class MqttSubscriber:
    """Connects, subscribes and delivers messages in batches, in a thread of its own."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        client_id: str,
        subscriptions: Sequence[tuple[str, int]],
        on_messages: Callable[[list[Delivered]], None],
        protocol: str = "5",
        username: str | None = None,
        password: str | None = None,
        tls: bool = False,
        keepalive_s: int = 30,
        clean_start: bool = False,
        session_expiry_s: int = 0,
        receive_maximum: int | None = None,
        on_connect: Callable[[bool], None] | None = None,
        on_disconnect: Callable[[str], None] | None = None,
    ) -> None:
        if protocol not in ("5", "3.1.1"):
            raise ValueError(f"MQTT protocol must be '5' or '3.1.1', not {protocol!r}")
        if not 1 <= keepalive_s <= 0xFFFF:
            raise ValueError("keepalive must be 1 to 65535 s")
        self.host = host
        self.port = port
        self.client_id = client_id
        self.protocol = PROTOCOL_5 if protocol == "5" else PROTOCOL_311
        self.subscriptions = list(subscriptions)
        self.on_messages = on_messages
        self.on_connect = on_connect
        self.on_disconnect = on_disconnect
        self.username = username
        self.password = password
        self.tls = tls
        self.keepalive_s = keepalive_s
        self.clean_start = clean_start
        self.session_expiry_s = session_expiry_s
        self.receive_maximum = receive_maximum
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.session_present: bool | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._generation = 0
        self._lock = threading.Lock()  # guards the ack queue and the generation
        self._acks: list[int] = []
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._packet_id = 0
        self._last_sent = 0.0
        self._last_heard = 0.0
        self._ping_sent_at: float | None = None
        self._pending = b""  # bytes after the last whole packet read

    # --- the caller's side -------------------------------------------------------------------

    def start(self) -> None:
        """Start the network thread (it connects, retrying until the broker answers)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"mqtt-{self.client_id}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Send what acks are queued, DISCONNECT (the session stays on the broker), stop."""
        self._stop.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def ack(self, tokens: Sequence[AckToken]) -> None:
        """Acknowledge messages (thread-safe); tokens of an earlier connection are dropped."""
        with self._lock:
            generation = self._generation
            fresh = [packet_id for made_in, packet_id in tokens if made_in == generation]
            if not fresh:
                return
            self._acks.extend(fresh)
        self._wake()

    def kill_connection(self) -> None:
        """Drop the network connection without DISCONNECT (tests: a crash seen from the broker)."""
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # --- the network thread -------------------------------------------------------------------

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\x00")
        except (BlockingIOError, OSError):
            pass  # already awake (the pair's buffer holds a wake-up), or closing

    def _run(self) -> None:
        delay = RECONNECT_MIN_DELAY_S
        try:
            while not self._stop.is_set():
                try:
                    self._connect()
                except (OSError, ProtocolError, ssl.SSLError, ConnectionRefused) as exc:
                    log.warning(
                        "MQTT broker %s:%s: cannot connect (%s); retrying in %.0f s",
                        self.host,
                        self.port,
                        exc,
                        delay,
                    )
                    self._close()
                    self._stop.wait(delay)
                    delay = min(delay * 2, RECONNECT_MAX_DELAY_S)
                    continue
                delay = RECONNECT_MIN_DELAY_S
                reason = self._serve()
                self._close()
                if self.on_disconnect is not None:
                    try:
                        self.on_disconnect(reason)
                    except Exception:
                        log.exception("on_disconnect hook failed")
                if not self._stop.is_set():
                    log.warning("MQTT connection lost (%s); reconnecting", reason)
                    self._stop.wait(RECONNECT_MIN_DELAY_S * 0.2)
        finally:
            self._close()

    def _connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=CONNECT_TIMEOUT_S)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_RECEIVE_BUFFER_BYTES)
        except OSError:
            pass  # the kernel keeps its own settings
        if self.tls:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        self._sock = sock
        self._send(
            encode_connect(
                client_id=self.client_id,
                protocol=self.protocol,
                clean_start=self.clean_start,
                keepalive_s=self.keepalive_s,
                username=self.username,
                password=self.password,
                session_expiry_s=self.session_expiry_s if self.protocol == PROTOCOL_5 else 0,
                receive_maximum=self.receive_maximum if self.protocol == PROTOCOL_5 else None,
            )
        )
        buffer = b""
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        while True:
            if time.monotonic() > deadline:
                raise ProtocolError("no CONNACK in time")
            chunk = sock.recv(READ_BYTES)
            if not chunk:
                raise ProtocolError("connection closed before CONNACK")
            buffer += chunk
            packets = split_packets(buffer, self.protocol)
            if packets.others or packets.publishes:
                break
        first = packets.others[0] if packets.others else None
        if first is None or first[0] != CONNACK:
            raise ProtocolError("the broker's first packet was not CONNACK")
        connack = decode_connack(first[2])
        if not connack.accepted:
            raise ConnectionRefused(f"CONNACK reason code {connack.reason_code}")
        self.session_present = connack.session_present
        with self._lock:
            self._generation += 1
            self._acks.clear()
        self._last_heard = time.monotonic()
        self._ping_sent_at = None
        log.info(
            "connected to MQTT broker %s:%s as %s (session present: %s)",
            self.host,
            self.port,
            self.client_id,
            connack.session_present,
        )
        self.connected.set()
        if self.on_connect is not None:
            try:
                self.on_connect(connack.session_present)
            except Exception:
                log.exception("on_connect hook failed")
        self._packet_id = self._packet_id % 0xFFFF + 1
        self._send(encode_subscribe(self._packet_id, self.subscriptions, self.protocol))
        # Whatever followed CONNACK in the same read (a kept session starts at once).
        rest = packets.others[1:]
        self._deliver(packets.publishes)
        self._handle_others(rest)
        self._pending = buffer[packets.consumed :]

    def _serve(self) -> str:
        """Read and deliver until the connection ends; the reason it ended."""
        sock = self._sock
        assert sock is not None
        sock.settimeout(None)
        sock.setblocking(False)
        selector = selectors.DefaultSelector()
        selector.register(sock, selectors.EVENT_READ)
        selector.register(self._wake_r, selectors.EVENT_READ)
        buffer = self._pending
        tick_s = min(1.0, self.keepalive_s / 2)
        try:
            while not self._stop.is_set():
                pending_tls = isinstance(sock, ssl.SSLSocket) and sock.pending() > 0
                if not pending_tls:
                    events = selector.select(tick_s)
                    readable = any(key.fileobj is sock for key, _ in events)
                    if any(key.fileobj is self._wake_r for key, _ in events):
                        self._drain_wake()
                else:
                    readable = True
                self._send_acks()
                if readable:
                    try:
                        chunk = sock.recv(READ_BYTES)
                    except (BlockingIOError, ssl.SSLWantReadError):
                        chunk = None
                    if chunk is not None:
                        if not chunk:
                            return "closed by the broker"
                        self._last_heard = time.monotonic()
                        buffer = buffer + chunk if buffer else chunk
                        packets = split_packets(buffer, self.protocol)
                        buffer = buffer[packets.consumed :]
                        if packets.others:
                            ended = self._handle_others(packets.others)
                            if ended is not None:
                                return ended
                        if packets.publishes:
                            self._deliver(packets.publishes)
                            self._send_acks()
                ended = self._keepalive()
                if ended is not None:
                    return ended
            self._send_acks()
            self._send(DISCONNECT_PACKET)
            return "stopped"
        except ProtocolError as exc:
            log.error("MQTT protocol error from %s:%s: %s", self.host, self.port, exc)
            return f"protocol error: {exc}"
        except (OSError, ssl.SSLError) as exc:
            return str(exc) or type(exc).__name__
        finally:
            selector.close()

    def _deliver(self, publishes: list[tuple[str, bytes, int, int]]) -> None:
        if not publishes:
            return
        generation = self._generation
        messages: list[Delivered] = [
            (topic, payload, (generation, packet_id) if qos else None)
            for topic, payload, qos, packet_id in publishes
        ]
        try:
            self.on_messages(messages)
        except Exception:
            log.exception("on_messages failed for %d messages", len(messages))

    def _handle_others(self, packets: list[tuple[int, int, bytes]]) -> str | None:
        for kind, _flags, body in packets:
            if kind == SUBACK:
                _packet_id, codes = decode_suback(body, self.protocol)
                refused = [code for code in codes if code >= 0x80]
                if refused:
                    log.error("MQTT subscription refused: reason codes %s", refused)
                else:
                    self.subscribed.set()
            elif kind == PINGRESP:
                self._ping_sent_at = None
            elif kind == DISCONNECT:
                return f"the broker disconnected (reason code {decode_disconnect(body)})"
            elif kind == PUBREL:
                raise ProtocolError("PUBREL on a QoS 1 subscription")
            else:
                log.debug("MQTT packet type %d ignored", kind)
        return None

    def _keepalive(self) -> str | None:
        now = time.monotonic()
        if self._ping_sent_at is not None and now - self._ping_sent_at > self.keepalive_s:
            return "no answer to PINGREQ within the keepalive"
        if self._ping_sent_at is None and now - self._last_sent >= self.keepalive_s * 0.75:
            self._send(PINGREQ_PACKET)
            self._ping_sent_at = now
        return None

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def _send_acks(self) -> None:
        with self._lock:
            if not self._acks:
                return
            packet_ids, self._acks = self._acks, []
        self._send(encode_pubacks(packet_ids))

    def _send(self, data: bytes) -> None:
        sock = self._sock
        if sock is None:
            raise OSError("not connected")
        view = memoryview(data)
        deadline = time.monotonic() + self.keepalive_s
        while view:
            try:
                sent = sock.send(view)
            except (BlockingIOError, ssl.SSLWantWriteError):
                if time.monotonic() > deadline:
                    raise OSError("the broker has not read what we sent for a keepalive") from None
                time.sleep(0.002)  # the kernel's send buffer is full: let the broker read
                continue
            view = view[sent:]
        self._last_sent = time.monotonic()

    def _close(self) -> None:
        self.connected.clear()
        self.subscribed.clear()
        with self._lock:
            self._generation += 1  # acks for this connection's packet ids must not go out
            self._acks.clear()
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass
