"""Hypothesis fuzzing of the MQTT payload decoder (ingest.contract), issue 12: for any topic and
any bytes, JSON value or near-contract message, decoding never raises and never falls back to
its internal-error answer (a crash it caught), every reading it accepts keeps every rule of the
contract, and a dead letter never holds more than 64 KiB. Ingest's code is not changed here."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.contract import (
    MAX_FUTURE_S,
    MAX_PAST_S,
    MAX_PAYLOAD_BYTES,
    MAX_READINGS_PER_MESSAGE,
    MEASUREMENT_RULES,
    PRIMARY_MEASUREMENTS,
    Decoded,
    dead_letter_for,
    decode_status,
    decode_telemetry,
    is_valid_id,
)

pytestmark = pytest.mark.unit

NOW = 1_795_545_389.0
FUZZ = settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

ids = st.one_of(
    st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
    st.text(max_size=70),
)
topics = st.one_of(
    ids.map(lambda g: f"homesafe/v1/gw/{g}/telemetry"),
    st.text(max_size=120),
    st.just("homesafe/v1/gw//telemetry"),
    st.just("homesafe/v1/gw/a/b/telemetry"),
)
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.text(max_size=5),
    st.none(),
    st.just(2**64 - 1),
    st.just(-(2**63)),
)
timestamps = st.one_of(
    st.integers(min_value=int(NOW - MAX_PAST_S - 10), max_value=int(NOW + MAX_FUTURE_S + 10)),
    numbers,
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(), inner, max_size=4)
    ),
    max_leaves=20,
)
readings = st.fixed_dictionaries(
    {"sensor": ids, "ts": timestamps},
    optional={
        **{rule.name: numbers for rule in MEASUREMENT_RULES},
        "extra": json_values,
    },
)
messages = st.fixed_dictionaries(
    {
        "v": st.one_of(st.just(1), numbers),
        "seq": numbers,
        "readings": st.one_of(st.lists(readings, max_size=8), json_values),
    },
    optional={"unknown": json_values},
)


def _encode(message: object) -> bytes:
    """JSON text, with huge integers and (not JSON, but sent by broken gateways) NaN/Infinity."""
    return json.dumps(message, allow_nan=True).encode()


def _check(decoded: Decoded, topic: str, payload: bytes) -> None:
    assert all(r.code != "internal" for r in decoded.rejections), decoded.rejections
    if decoded.whole_message_rejected:
        assert decoded.readings == []
    assert len(decoded.readings) <= MAX_READINGS_PER_MESSAGE
    if decoded.seq is not None:
        assert isinstance(decoded.seq, int)
        assert not isinstance(decoded.seq, bool)
        assert decoded.seq >= 0
    seen = set()
    for reading in decoded.readings:
        assert reading.gateway_id == decoded.gateway_id
        assert is_valid_id(reading.gateway_id)
        assert is_valid_id(reading.sensor)
        assert isinstance(reading.ts, int)
        assert not isinstance(reading.ts, bool)
        assert NOW - MAX_PAST_S <= reading.ts <= NOW + MAX_FUTURE_S
        for rule in MEASUREMENT_RULES:
            value = getattr(reading, rule.name)
            if value is not None:
                assert isinstance(value, float)
                assert math.isfinite(value)
                assert rule.low <= value <= rule.high
        assert any(getattr(reading, name) is not None for name in PRIMARY_MEASUREMENTS)
        seen.add((reading.sensor, reading.ts))
    letter = dead_letter_for(topic, payload, NOW, decoded)
    if decoded.rejections:
        assert letter is not None
        assert len(letter.payload) <= MAX_PAYLOAD_BYTES
        assert letter.payload_truncated == (len(payload) > MAX_PAYLOAD_BYTES)
    else:
        assert letter is None


def _known(gateway_id: str) -> str | None:
    return "H0001" if gateway_id.startswith("gw") else None


@FUZZ
@given(topic=topics, payload=st.binary(max_size=2048))
def test_any_bytes(topic: str, payload: bytes) -> None:
    decoded = decode_telemetry(topic, payload, received_at_s=NOW, known_gateway=_known)
    _check(decoded, topic, payload)


@FUZZ
@given(topic=topics, value=json_values)
def test_any_json(topic: str, value: object) -> None:
    payload = _encode(value)
    decoded = decode_telemetry(topic, payload, received_at_s=NOW, known_gateway=_known)
    _check(decoded, topic, payload)


@FUZZ
@given(gateway=st.from_regex(r"gw[A-Za-z0-9_-]{0,20}", fullmatch=True), message=messages)
def test_near_contract_messages(gateway: str, message: dict) -> None:
    topic = f"homesafe/v1/gw/{gateway}/telemetry"
    payload = _encode(message)
    decoded = decode_telemetry(topic, payload, received_at_s=NOW, known_gateway=_known)
    _check(decoded, topic, payload)


@FUZZ
@given(topic=topics, payload=st.one_of(st.binary(max_size=512), json_values.map(_encode)))
def test_status_messages(topic: str, payload: bytes) -> None:
    status_topic = topic.replace("/telemetry", "/status")
    answer = decode_status(status_topic, payload, received_at_s=NOW)
    if isinstance(answer, str):
        assert not answer.startswith("internal error"), answer
    else:
        assert answer.state in ("online", "offline")
        assert is_valid_id(answer.gateway_id)


def test_an_oversized_payload_is_refused_whole_and_kept_truncated() -> None:
    payload = b'{"v":1,"seq":1,"readings":[' + b" " * MAX_PAYLOAD_BYTES + b"]}"
    topic = "homesafe/v1/gw/gw1/telemetry"
    decoded = decode_telemetry(topic, payload, received_at_s=NOW, known_gateway=_known)
    assert decoded.whole_message_rejected
    _check(decoded, topic, payload)
