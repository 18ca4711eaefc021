"""The tuned paho client: buffered reads, the inline PUBLISH decoder, PUBACKs in one write."""

from __future__ import annotations

import socket
import struct

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from ingest.contract import is_valid_id
from ingest.paho_tuned import BufferedSocket, TunedClient

pytestmark = pytest.mark.unit


def test_buffered_socket_hands_out_bytes_in_order_and_reports_pending() -> None:
    left, right = socket.socketpair()
    try:
        right.sendall(b"abcdefghij")
        buffered = BufferedSocket(left)
        assert buffered.recv(1) == b"a"
        assert buffered.pending() == 9
        assert buffered.recv(3) == b"bcd"
        assert buffered.recv(100) == b"efghij"
        assert buffered.pending() == 0
        right.close()
        assert buffered.recv(1) == b""  # peer closed
    finally:
        left.close()


def _publish_packet(topic: bytes, mid: int, payload: bytes, properties: bytes | None) -> bytes:
    body = struct.pack("!H", len(topic)) + topic + struct.pack("!H", mid)
    if properties is not None:
        body += bytes([len(properties)]) + properties
    return body + payload


@pytest.mark.parametrize(
    ("protocol", "properties"),
    [
        (MQTTProtocolVersion.MQTTv5, b""),
        (MQTTProtocolVersion.MQTTv5, b"\x01\x01"),  # payload format indicator: paho's path
        (MQTTProtocolVersion.MQTTv311, None),
    ],
)
def test_inline_publish_decode_gives_what_paho_gives(
    protocol: MQTTProtocolVersion, properties: bytes | None
) -> None:
    seen: list[mqtt.MQTTMessage] = []
    for cls in (TunedClient, mqtt.Client):
        client = cls(CallbackAPIVersion.VERSION2, protocol=protocol, manual_ack=True)
        client.on_message = lambda _c, _u, message: seen.append(message)
        client._in_packet["command"] = 0x32 | 0x08  # PUBLISH, QoS 1, dup
        client._in_packet["packet"] = bytearray(
            _publish_packet(b"homesafe/v1/gw/g1/telemetry", 513, b'{"v":1}', properties)
        )
        assert client._handle_publish() == mqtt.MQTT_ERR_SUCCESS
    tuned, stock = seen
    for name in ("mid", "topic", "payload", "qos", "dup", "retain"):
        assert getattr(tuned, name) == getattr(stock, name), name
    assert tuned.mid == 513
    assert tuned.payload == b'{"v":1}'
    assert tuned.dup


def test_ack_many_queues_one_write_of_pubacks() -> None:
    client = TunedClient(CallbackAPIVersion.VERSION2, manual_ack=True)
    client.ack_many([1, 258, 65535])
    assert len(client._out_packet) == 1
    assert client._out_packet[0]["packet"] == b"\x40\x02\x00\x01\x40\x02\x01\x02\x40\x02\xff\xff"
    client.ack_many([])
    assert len(client._out_packet) == 1


def test_is_valid_id_cache_still_refuses_what_it_should() -> None:
    assert is_valid_id("s1")
    assert is_valid_id("s1")  # from the cache
    assert not is_valid_id(["s1"])
    assert not is_valid_id({})
    assert not is_valid_id("a b")
    assert not is_valid_id("x" * 65)
