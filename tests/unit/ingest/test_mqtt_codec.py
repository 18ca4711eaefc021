"""The MQTT packets ingest's own subscriber sends and reads, byte by byte against the specs."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.mqtt_codec import (
    CONNACK,
    PINGRESP,
    PROTOCOL_5,
    PROTOCOL_311,
    SUBACK,
    ProtocolError,
    decode_connack,
    decode_suback,
    decode_varint,
    encode_connect,
    encode_pubacks,
    encode_subscribe,
    encode_varint,
    split_packets,
)

pytestmark = pytest.mark.unit

TOPIC = "homesafe/v1/gw/gw-1/telemetry"


def publish(
    topic: str,
    payload: bytes,
    *,
    qos: int = 1,
    packet_id: int = 1,
    properties: bytes | None = None,
    dup: bool = False,
) -> bytes:
    """A PUBLISH packet written from the spec (MQTT 3.1.1 §3.3; MQTT 5 §3.3 when properties)."""
    raw_topic = topic.encode("utf-8", "surrogateescape")
    body = struct.pack("!H", len(raw_topic)) + raw_topic
    if qos:
        body += struct.pack("!H", packet_id)
    if properties is not None:
        body += encode_varint(len(properties)) + properties
    body += payload
    first = 0x30 | (qos << 1) | (0x08 if dup else 0)
    return bytes([first]) + encode_varint(len(body)) + body


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, b"\x00"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (16_383, b"\xff\x7f"),
        (16_384, b"\x80\x80\x01"),
        (268_435_455, b"\xff\xff\xff\x7f"),
    ],
)
def test_variable_length_integers_match_the_spec_table(value: int, encoded: bytes) -> None:
    assert encode_varint(value) == encoded  # MQTT 3.1.1 §2.2.3, table 2.4
    assert decode_varint(encoded, 0) == (value, len(encoded))


def test_a_variable_length_integer_of_five_bytes_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        decode_varint(b"\xff\xff\xff\xff\x01", 0)


def test_connect_3_1_1_with_credentials_and_a_kept_session() -> None:
    packet = encode_connect(
        client_id="ingest-1",
        protocol=PROTOCOL_311,
        clean_start=False,
        keepalive_s=30,
        username="ingest",
        password="s3cret",
    )
    body = (
        b"\x00\x04MQTT\x04"  # protocol name and level 4
        + bytes([0x80 | 0x40])  # username, password; clean session off
        + b"\x00\x1e"  # keepalive 30 s
        + b"\x00\x08ingest-1"
        + b"\x00\x06ingest"
        + b"\x00\x06s3cret"
    )
    assert packet == b"\x10" + encode_varint(len(body)) + body


def test_connect_5_carries_session_expiry_and_receive_maximum() -> None:
    packet = encode_connect(
        client_id="c",
        protocol=PROTOCOL_5,
        clean_start=True,
        keepalive_s=60,
        session_expiry_s=604_800,
        receive_maximum=8000,
    )
    properties = b"\x11" + struct.pack("!I", 604_800) + b"\x21" + struct.pack("!H", 8000)
    body = b"\x00\x04MQTT\x05\x02\x00\x3c" + bytes([len(properties)]) + properties + b"\x00\x01c"
    assert packet == b"\x10" + encode_varint(len(body)) + body


@pytest.mark.parametrize("protocol", [PROTOCOL_311, PROTOCOL_5])
def test_subscribe_asks_qos_1_for_each_filter(protocol: int) -> None:
    packet = encode_subscribe(7, [("$share/ingest/a/+/b", 1), ("c/#", 1)], protocol)
    assert packet[0] == 0x82  # SUBSCRIBE with its reserved flags 0010
    body = packet[2:]
    assert body[:2] == b"\x00\x07"
    rest = body[3:] if protocol == PROTOCOL_5 else body[2:]
    assert rest == b"\x00\x13$share/ingest/a/+/b\x01\x00\x03c/#\x01"


def test_pubacks_leave_as_one_write() -> None:
    assert encode_pubacks([1, 258, 65535]) == (
        b"\x40\x02\x00\x01" + b"\x40\x02\x01\x02" + b"\x40\x02\xff\xff"
    )
    assert encode_pubacks([]) == b""


def test_connack_and_suback_are_read_for_both_protocols() -> None:
    assert decode_connack(b"\x01\x00").session_present
    assert decode_connack(b"\x01\x00").accepted
    refused = decode_connack(b"\x00\x86\x00")  # MQTT 5: bad user name or password
    assert not refused.accepted
    assert refused.reason_code == 0x86
    assert decode_suback(b"\x00\x07\x01\x80", PROTOCOL_311) == (7, [1, 0x80])
    assert decode_suback(b"\x00\x07\x03\x1f\x00\x00\x01", PROTOCOL_5) == (7, [1])


@pytest.mark.parametrize(
    ("protocol", "properties"),
    [
        (PROTOCOL_311, None),
        (PROTOCOL_5, b""),
        (PROTOCOL_5, b"\x01\x01"),  # payload format indicator
        (PROTOCOL_5, b"\x26\x00\x01k" + b"\x00\x7f" + b"v" * 127),  # a long user property
    ],
)
def test_publish_is_cut_into_topic_payload_qos_and_packet_id(
    protocol: int, properties: bytes | None
) -> None:
    packets = split_packets(
        publish(TOPIC, b'{"v":1}', packet_id=513, properties=properties, dup=True)
        + publish(TOPIC, b"second", qos=0, properties=properties),
        protocol,
    )
    assert packets.publishes == [(TOPIC, b'{"v":1}', 1, 513), (TOPIC, b"second", 0, 0)]
    assert packets.others == []


@pytest.mark.parametrize("size", [0, 100, 200, 20_000, 70_000])
def test_payloads_of_every_length_class_come_out_whole(size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    packets = split_packets(publish(TOPIC, payload, properties=b""), PROTOCOL_5)
    assert packets.publishes == [(TOPIC, payload, 1, 1)]


def test_a_buffer_cut_anywhere_keeps_the_partial_packet_for_the_next_read() -> None:
    stream = (
        publish(TOPIC, b"a" * 300, packet_id=1)
        + bytes([SUBACK << 4, 3, 0, 9, 1])
        + publish(TOPIC, b"b", packet_id=2)
        + bytes([PINGRESP << 4, 0])
    )
    for cut in range(len(stream) + 1):
        first = split_packets(stream[:cut], PROTOCOL_311)
        rest = stream[first.consumed : cut] + stream[cut:]
        second = split_packets(rest, PROTOCOL_311)
        assert second.consumed == len(rest)
        assert [p[3] for p in first.publishes + second.publishes] == [1, 2], cut
        kinds = [kind for kind, _flags, _body in first.others + second.others]
        assert kinds == [SUBACK, PINGRESP], cut


def test_a_topic_that_is_not_utf_8_is_kept_readable() -> None:
    packets = split_packets(publish("homesafe/v1/gw/\udcff/telemetry", b"x"), PROTOCOL_311)
    assert packets.publishes[0][0] == "homesafe/v1/gw/\ufffd/telemetry"


def test_qos_2_and_lengths_that_do_not_add_up_are_protocol_errors() -> None:
    with pytest.raises(ProtocolError):
        split_packets(publish(TOPIC, b"x", qos=2), PROTOCOL_311)
    lying = bytearray(publish(TOPIC, b"", packet_id=1))
    lying[3] = 200  # topic length beyond the packet
    with pytest.raises(ProtocolError):
        split_packets(bytes(lying), PROTOCOL_311)


def test_connack_comes_out_raw_for_the_client() -> None:
    packets = split_packets(bytes([CONNACK << 4, 2, 1, 0]), PROTOCOL_311)
    assert packets.others == [(CONNACK, 0, b"\x01\x00")]


@given(
    st.lists(
        st.tuples(st.binary(max_size=300), st.integers(1, 65535), st.sampled_from([0, 1])),
        max_size=20,
    ),
    st.integers(1, 64),
)
def test_any_stream_of_publishes_read_in_any_chunks_comes_out_in_order(
    messages: list[tuple[bytes, int, int]], chunk: int
) -> None:
    stream = b"".join(
        publish(TOPIC, payload, qos=qos, packet_id=packet_id, properties=b"")
        for payload, packet_id, qos in messages
    )
    seen = []
    buffer = b""
    for start in range(0, len(stream), chunk):
        buffer += stream[start : start + chunk]
        packets = split_packets(buffer, PROTOCOL_5)
        buffer = buffer[packets.consumed :]
        seen += packets.publishes
    assert buffer == b""
    assert seen == [
        (TOPIC, payload, qos, packet_id if qos else 0) for payload, packet_id, qos in messages
    ]
