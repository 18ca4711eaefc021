"""MQTT 3.1.1 and 5 packets, as far as a QoS 1 subscriber needs them. Pure: bytes in, bytes out.

What a subscriber sends: CONNECT, SUBSCRIBE, PUBACK, PINGREQ, DISCONNECT. What it reads:
CONNACK, SUBACK, PUBLISH (QoS 0 and 1), PINGRESP, DISCONNECT (MQTT 5, from the server).
`split_packets` cuts a buffer into packets and decodes every PUBLISH inline (the hot path of a
backlog drain: no object per packet beyond the message tuple itself).

References: MQTT 3.1.1 (OASIS, 2014) §2–3 and MQTT 5.0 (OASIS, 2019) §2–3.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Final

CONNECT: Final = 1
CONNACK: Final = 2
PUBLISH: Final = 3
PUBACK: Final = 4
PUBREC: Final = 5
PUBREL: Final = 6
PUBCOMP: Final = 7
SUBSCRIBE: Final = 8
SUBACK: Final = 9
PINGREQ: Final = 12
PINGRESP: Final = 13
DISCONNECT: Final = 14

PROTOCOL_311: Final = 4
PROTOCOL_5: Final = 5

# MQTT 5 property identifiers used here (§2.2.2.2).
PROP_SESSION_EXPIRY: Final = 0x11
PROP_RECEIVE_MAXIMUM: Final = 0x21

MAX_REMAINING_LENGTH: Final = 268_435_455  # four bytes of variable-length integer

_PUBACK = struct.Struct("!BBH")
_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")


class ProtocolError(Exception):
    """The peer sent something MQTT does not allow; the connection must be dropped."""


def encode_varint(value: int) -> bytes:
    """A variable-length integer (§1.5.5 / §2.2.3)."""
    if not 0 <= value <= MAX_REMAINING_LENGTH:
        raise ValueError(f"{value} does not fit a variable-length integer")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(data: bytes, position: int) -> tuple[int, int]:
    """(value, position after it); ProtocolError when malformed or cut short."""
    value = 0
    shift = 0
    while True:
        if position >= len(data):
            raise ProtocolError("variable-length integer cut short")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7
        if shift > 21:
            raise ProtocolError("variable-length integer longer than four bytes")


def _string(text: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) > 0xFFFF:
        raise ValueError("MQTT strings are at most 65535 bytes")
    return _U16.pack(len(raw)) + raw


def _binary(raw: bytes) -> bytes:
    if len(raw) > 0xFFFF:
        raise ValueError("MQTT binary data is at most 65535 bytes")
    return _U16.pack(len(raw)) + raw


def _packet(first_byte: int, body: bytes) -> bytes:
    return bytes([first_byte]) + encode_varint(len(body)) + body


def encode_connect(
    *,
    client_id: str,
    protocol: int,
    clean_start: bool,
    keepalive_s: int,
    username: str | None = None,
    password: str | None = None,
    session_expiry_s: int = 0,
    receive_maximum: int | None = None,
) -> bytes:
    """CONNECT (§3.1): MQTT 3.1.1 (protocol 4) or 5 (with session expiry, receive maximum)."""
    if protocol not in (PROTOCOL_311, PROTOCOL_5):
        raise ValueError(f"unknown MQTT protocol level {protocol}")
    flags = 0x02 if clean_start else 0
    if username is not None:
        flags |= 0x80
        if password is not None:
            flags |= 0x40
    body = _string("MQTT") + bytes([protocol, flags]) + _U16.pack(keepalive_s)
    if protocol == PROTOCOL_5:
        properties = b""
        if session_expiry_s:
            properties += bytes([PROP_SESSION_EXPIRY]) + _U32.pack(session_expiry_s)
        if receive_maximum is not None:
            properties += bytes([PROP_RECEIVE_MAXIMUM]) + _U16.pack(receive_maximum)
        body += encode_varint(len(properties)) + properties
    body += _string(client_id)
    if username is not None:
        body += _string(username)
        if password is not None:
            body += _binary(password.encode("utf-8"))
    return _packet(CONNECT << 4, body)


def encode_subscribe(packet_id: int, topics: list[tuple[str, int]], protocol: int) -> bytes:
    """SUBSCRIBE (§3.8) of topic filters, each with its maximum QoS."""
    body = _U16.pack(packet_id)
    if protocol == PROTOCOL_5:
        body += b"\x00"  # no properties
    for topic, qos in topics:
        body += _string(topic) + bytes([qos])  # MQTT 5: no-local 0, retain handling 0
    return _packet((SUBSCRIBE << 4) | 0x02, body)


def encode_pubacks(packet_ids: list[int]) -> bytes:
    """PUBACKs (§3.4) for QoS 1 messages, back to back in one write.

    The two-byte form serves MQTT 5 as well: a success reason code with no properties may be
    left out (MQTT 5.0 §3.4.2.1)."""
    pack = _PUBACK.pack
    return b"".join([pack(PUBACK << 4, 2, packet_id) for packet_id in packet_ids])


PINGREQ_PACKET: Final = bytes([PINGREQ << 4, 0])
DISCONNECT_PACKET: Final = bytes([DISCONNECT << 4, 0])


@dataclass(frozen=True, slots=True)
class Connack:
    """The broker's answer to CONNECT."""

    session_present: bool
    reason_code: int  # 0 accepted; 3.1.1: 1–5, MQTT 5: ≥ 0x80 refused

    @property
    def accepted(self) -> bool:
        """True when the broker accepted the connection."""
        return self.reason_code == 0


def decode_connack(body: bytes) -> Connack:
    """CONNACK's variable header (§3.2); its MQTT 5 properties are not needed here."""
    if len(body) < 2:
        raise ProtocolError("CONNACK shorter than two bytes")
    return Connack(session_present=bool(body[0] & 0x01), reason_code=body[1])


def decode_suback(body: bytes, protocol: int) -> tuple[int, list[int]]:
    """(packet id, one return or reason code per topic filter) from SUBACK (§3.9)."""
    if len(body) < 3:
        raise ProtocolError("SUBACK too short")
    packet_id = _U16.unpack_from(body, 0)[0]
    position = 2
    if protocol == PROTOCOL_5:
        length, position = decode_varint(body, position)
        position += length
    return packet_id, list(body[position:])


def decode_disconnect(body: bytes) -> int:
    """The reason code of a server's MQTT 5 DISCONNECT (§3.14); 0 when left out."""
    return body[0] if body else 0


@dataclass(slots=True)
class Packets:
    """What one buffer held: PUBLISHes as (topic, payload, qos, packet id), other packets raw."""

    publishes: list[tuple[str, bytes, int, int]] = field(default_factory=list)
    others: list[tuple[int, int, bytes]] = field(default_factory=list)  # type, flags, body
    consumed: int = 0


_topics: dict[bytes, str] = {}  # the fleet's few thousand topic names, decoded once
_TOPICS_MAX: Final = 100_000


def _topic(raw: bytes) -> str:
    topic = _topics.get(raw)
    if topic is None:
        # MQTT requires UTF-8 topics (a broker refuses others); keep a readable copy anyway.
        topic = raw.decode("utf-8", "replace")
        if len(_topics) >= _TOPICS_MAX:
            _topics.clear()
        _topics[raw] = topic
    return topic


def split_packets(data: bytes, protocol: int) -> Packets:
    """Every whole packet at the front of `data`; `consumed` says where the first partial one starts.

    PUBLISH with QoS 0 or 1 is decoded here; QoS 2 is a ProtocolError (this client subscribes
    with QoS 1 at most, so a broker never sends it), as are malformed lengths."""
    out = Packets()
    publishes = out.publishes
    v5 = protocol == PROTOCOL_5
    size = len(data)
    position = 0
    while position + 2 <= size:
        header = data[position]
        # Remaining length: one byte in the common case, up to four.
        cursor = position + 1
        length = data[cursor]
        cursor += 1
        if length & 0x80:
            length &= 0x7F
            shift = 7
            while True:
                if cursor >= size:
                    out.consumed = position
                    return out
                byte = data[cursor]
                cursor += 1
                length |= (byte & 0x7F) << shift
                if byte < 0x80:
                    break
                shift += 7
                if shift > 21:
                    raise ProtocolError("remaining length longer than four bytes")
        end = cursor + length
        if end > size:
            break
        kind = header >> 4
        if kind == PUBLISH:
            qos = (header >> 1) & 0x03
            if length < 2:
                raise ProtocolError("PUBLISH without a topic")
            topic_end = cursor + 2 + ((data[cursor] << 8) | data[cursor + 1])
            if topic_end + (2 if qos else 0) + v5 > end:
                raise ProtocolError("PUBLISH longer than its remaining length says")
            if qos == 0:
                packet_id = 0
                body_at = topic_end
            elif qos == 1:
                packet_id = (data[topic_end] << 8) | data[topic_end + 1]
                body_at = topic_end + 2
            else:
                raise ProtocolError(f"PUBLISH with QoS {qos} on a QoS 1 subscription")
            if v5:
                properties = data[body_at]
                if properties < 0x80:
                    body_at += 1 + properties
                else:
                    properties, after = decode_varint(data, body_at)
                    body_at = after + properties
            if body_at > end:
                raise ProtocolError("PUBLISH longer than its remaining length says")
            publishes.append(
                (_topic(data[cursor + 2 : topic_end]), data[body_at:end], qos, packet_id)
            )
        else:
            out.others.append((kind, header & 0x0F, data[cursor:end]))
        position = end
    out.consumed = position
    return out
