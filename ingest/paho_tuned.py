"""paho-mqtt, tuned for a high-rate subscriber: buffered socket reads and acks sent in bulk.

Stock paho reads each packet with three or more recv() calls and a select() per packet, and
sends each PUBACK as its own packet with its own wake-up write and send(). Here:
- reads go through `BufferedSocket`: one recv() of up to 256 KiB, packets served from memory;
  its `pending()` (which paho already honours for TLS sockets) keeps paho's loop from waiting
  in select() while whole packets sit in the buffer, and `loop_read` drains the buffer;
- `ack_many(mids)` queues one write holding every PUBACK, so a thousand acks cost one send();
- a QoS 1 PUBLISH without MQTT 5 properties (what Mosquitto forwards from gateways) is decoded
  inline, skipping paho's generic property parser; anything else goes to paho's own decoder.
Everything else (connect, sessions, reconnects, keepalive) is paho's own.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable
from typing import Any, Final

import paho.mqtt.client as mqtt
from paho.mqtt.client import MQTTErrorCode, MQTTMessage
from paho.mqtt.enums import MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

READ_CHUNK_BYTES: Final = 256 * 1024
SOCKET_RECEIVE_BUFFER_BYTES: Final = 4 * 1024 * 1024
MAX_PACKETS_PER_READ: Final = 5000
_PUBACK: Final = 0x40
_PUBACK_PACKET = struct.Struct("!BBH")
# Shared by every fast-path message: it has no properties. Read it, never change it.
NO_PROPERTIES: Final = Properties(PacketTypes.PUBLISH)


class BufferedSocket:
    """A socket whose recv() is served from a userspace buffer filled by large reads."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._buffer = bytearray()
        self._offset = 0

    def pending(self) -> int:
        """Bytes already read from the kernel and not yet handed out."""
        return len(self._buffer) - self._offset

    def recv(self, size: int) -> bytes:
        """Up to `size` bytes: from the buffer, else one large read from the socket."""
        available = len(self._buffer) - self._offset
        if available == 0:
            chunk = self._sock.recv(max(size, READ_CHUNK_BYTES))
            if len(chunk) <= size:
                return chunk  # b"" (closed) included
            self._buffer = bytearray(chunk)
            self._offset = 0
            available = len(chunk)
        start = self._offset
        end = start + min(size, available)
        self._offset = end
        data = bytes(self._buffer[start:end])
        if end == len(self._buffer):
            self._buffer = bytearray()
            self._offset = 0
        return data

    def fileno(self) -> int:
        """The underlying descriptor (for select)."""
        return self._sock.fileno()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class TunedClient(mqtt.Client):
    """paho's Client with buffered reads and bulk PUBACKs (see the module docstring)."""

    def _create_socket(self) -> Any:
        sock = super()._create_socket()
        if isinstance(sock, socket.socket) and not self._ssl and self._transport == "tcp":
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_RECEIVE_BUFFER_BYTES)
            except OSError:
                pass  # the kernel keeps its own size
            return BufferedSocket(sock)
        return sock

    def loop_read(self, _max_packets: int = 1) -> MQTTErrorCode:
        """Read packets until the socket has nothing more right now (bounded per call)."""
        if self._sock is None:
            return MQTTErrorCode.MQTT_ERR_NO_CONN
        for _ in range(MAX_PACKETS_PER_READ):
            if self._sock is None:
                return MQTTErrorCode.MQTT_ERR_NO_CONN
            rc = self._packet_read()
            if rc > 0:
                return self._loop_rc_handle(rc)
            if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
                return MQTTErrorCode.MQTT_ERR_SUCCESS
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _handle_publish(self) -> MQTTErrorCode:
        header = self._in_packet["command"]
        packet = self._in_packet["packet"]
        if (header & 0x06) != 0x02 or len(packet) < 5:
            return super()._handle_publish()  # QoS 0 or 2, or too short: paho's way
        topic_end = 2 + ((packet[0] << 8) | packet[1])
        if topic_end == 2 or topic_end + 2 > len(packet):
            return super()._handle_publish()  # topic alias or malformed: paho decides
        mid = (packet[topic_end] << 8) | packet[topic_end + 1]
        start = topic_end + 2
        if self._protocol == MQTTProtocolVersion.MQTTv5:
            if start >= len(packet) or packet[start] != 0:
                return super()._handle_publish()  # has properties: paho parses them
            start += 1
        message = MQTTMessage(mid=mid, topic=bytes(packet[2:topic_end]))
        message.dup = bool(header & 0x08)
        message.qos = 1
        message.retain = bool(header & 0x01)
        message.properties = NO_PROPERTIES
        message.payload = bytes(packet[start:])
        message.timestamp = mqtt.time_func()
        self._handle_on_message(message)
        if self._manual_ack:
            return MQTTErrorCode.MQTT_ERR_SUCCESS
        return self._send_puback(mid)

    def ack_many(self, mids: Iterable[int]) -> None:
        """Queue PUBACKs for QoS 1 message ids as one write (manual-ack mode)."""
        pack = _PUBACK_PACKET.pack
        body = b"".join([pack(_PUBACK, 2, mid) for mid in mids])
        if body:
            self._packet_queue(_PUBACK, body, 0, 0)
