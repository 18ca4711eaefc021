"""The v1 telemetry contract, one rule at a time: each rule accepted and refused."""

from __future__ import annotations

import json
import math
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.contract import (
    MAX_PAYLOAD_BYTES,
    Decoded,
    Reading,
    dead_letter_for,
    decode_status,
    decode_telemetry,
)

pytestmark = pytest.mark.unit

NOW_S = 1_795_545_400.0
TOPIC = "homesafe/v1/gw/gw-001/telemetry"
HOMES = {"gw-001": "home-1", "gw_2": "home-2", "G" * 64: "home-3"}


def known(gateway_id: str) -> str | None:
    return HOMES.get(gateway_id)


def reading(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"sensor": "s1", "ts": 1_795_545_389, "temperature_c": 17.4}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not _DROP}


_DROP = object()


def message(*readings: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"v": 1, "seq": 1841, "readings": list(readings) or [reading()]}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not _DROP}


def encode(document: Any) -> bytes:
    """JSON as a gateway might send it (the stdlib writes integers of any size)."""
    return json.dumps(document).encode()


def decode(payload: bytes | dict[str, Any], topic: str = TOPIC) -> Decoded:
    raw = payload if isinstance(payload, bytes) else encode(payload)
    return decode_telemetry(topic, raw, received_at_s=NOW_S, known_gateway=known)


def assert_whole_rejected(decoded: Decoded, *words: str) -> None:
    assert decoded.whole_message_rejected
    assert decoded.readings == []
    assert len(decoded.rejections) == 1
    rejection = decoded.rejections[0]
    assert rejection.reading_index is None
    for word in words:
        assert word in rejection.reason, rejection.reason


def assert_reading_rejected(decoded: Decoded, index: int, *words: str) -> None:
    assert not decoded.whole_message_rejected
    matching = [r for r in decoded.rejections if r.reading_index == index]
    assert len(matching) == 1, decoded.rejections
    for word in (f"reading {index}", *words):
        assert word in matching[0].reason, matching[0].reason


# --- the example of docs/gateways.md, verbatim -------------------------------------------------

CONTRACT_EXAMPLE = b"""{
  "v": 1,
  "seq": 1841,
  "readings": [
    {"sensor": "s1", "ts": 1795545389, "temperature_c": 17.4, "humidity_pct": 71.5},
    {"sensor": "s2", "ts": 1795545389, "temperature_c": 16.9, "humidity_pct": 78.0,
     "wme_pct": 21.5, "battery_pct": 64}
  ]
}"""


def test_the_contract_example_is_accepted_whole() -> None:
    decoded = decode(CONTRACT_EXAMPLE)
    assert decoded.rejections == []
    assert not decoded.whole_message_rejected
    assert decoded.gateway_id == "gw-001"
    assert decoded.seq == 1841
    assert decoded.readings == [
        Reading("gw-001", "s1", 1795545389, 17.4, 71.5, None, None, "home-1"),
        Reading("gw-001", "s2", 1795545389, 16.9, 78.0, 21.5, 64.0, "home-1"),
    ]
    assert isinstance(decoded.readings[1].battery_pct, float)


# --- topic and gateway ------------------------------------------------------------------


@pytest.mark.parametrize(
    "topic",
    [
        "homesafe/v1/gw/gw-001/telemetry",
        "homesafe/v1/gw/gw_2/telemetry",
        f"homesafe/v1/gw/{'G' * 64}/telemetry",
    ],
)
def test_topic_of_the_right_shape_is_accepted(topic: str) -> None:
    assert decode(message(), topic=topic).readings


@pytest.mark.parametrize(
    ("topic", "word"),
    [
        ("homesafe/v1/gw/gw-001/status", "not homesafe/v1/gw/"),
        ("homesafe/v2/gw/gw-001/telemetry", "not homesafe/v1/gw/"),
        ("homesafe/v1/gw/gw-001/telemetry/extra", "not homesafe/v1/gw/"),
        ("homesafe/v1/gw//telemetry", "empty"),
        (f"homesafe/v1/gw/{'G' * 65}/telemetry", "65 characters"),
        ("homesafe/v1/gw/gw 001/telemetry", "characters other than"),
        ("homesafe/v1/gw/gw.001/telemetry", "characters other than"),
        ("homesafe/v1/gw/a/b/telemetry", "characters other than"),
        ("homesafe/v1/gw/gwé/telemetry", "characters other than"),
    ],
)
def test_topic_of_another_shape_rejects_the_message_whole(topic: str, word: str) -> None:
    decoded = decode(message(), topic=topic)
    assert_whole_rejected(decoded, word)
    assert decoded.gateway_id is None


def test_gateway_not_in_the_registry_rejects_the_message_whole() -> None:
    decoded = decode(message(), topic="homesafe/v1/gw/gw-999/telemetry")
    assert_whole_rejected(decoded, "gw-999", "not in the registry")
    assert decoded.rejections[0].code == "unknown_gateway"


def test_a_registry_that_fails_rejects_rather_than_raises() -> None:
    def broken(_gateway_id: str) -> str | None:
        raise RuntimeError("database is down")

    decoded = decode_telemetry(
        TOPIC, orjson.dumps(message()), received_at_s=NOW_S, known_gateway=broken
    )
    assert_whole_rejected(decoded, "registry lookup", "database is down")


# --- payload: size, UTF-8, JSON, object ----------------------------------------------------


def _padded(size: int) -> bytes:
    body = orjson.dumps(message(pad="")).decode()
    filler = size - len(body)
    return orjson.dumps(message(pad="x" * filler))


def test_payload_of_exactly_64_kib_is_accepted() -> None:
    payload = _padded(MAX_PAYLOAD_BYTES)
    assert len(payload) == MAX_PAYLOAD_BYTES
    assert decode(payload).readings


def test_payload_over_64_kib_is_rejected_whole() -> None:
    payload = _padded(MAX_PAYLOAD_BYTES + 1)
    assert len(payload) == MAX_PAYLOAD_BYTES + 1
    assert_whole_rejected(decode(payload), "65537 bytes", "64 KiB")


def test_utf8_text_in_unknown_fields_is_accepted() -> None:
    assert decode(message(note="chambre à coucher ☂")).readings


def test_payload_not_utf8_is_rejected_whole() -> None:
    payload = orjson.dumps(message(note="ab")).replace(b"ab", b"a\xff")
    assert_whole_rejected(decode(payload), "not valid UTF-8")


@pytest.mark.parametrize(
    "payload",
    [b"", b"{", b"{'v': 1}", b'{"v": 1,}', b'{"v": NaN}', b'{"v": Infinity}', b"\xef\xbb\xbf{}"],
)
def test_payload_not_json_is_rejected_whole(payload: bytes) -> None:
    assert_whole_rejected(decode(payload), "not valid JSON")


@pytest.mark.parametrize("payload", [b"[]", b"1", b'"text"', b"null", b"true", b"[{}]"])
def test_payload_that_is_json_but_not_an_object_is_rejected_whole(payload: bytes) -> None:
    assert_whole_rejected(decode(payload), "not an object")


def test_deeply_nested_json_is_rejected_whole_without_raising() -> None:
    depth = 20_000
    payload = b'{"v":1,"x":' + b"[" * depth + b"]" * depth + b"}"
    assert_whole_rejected(decode(payload), "nested too deeply")


def test_moderately_nested_unknown_field_is_ignored() -> None:
    nested: Any = 1
    for _ in range(200):
        nested = {"n": nested}
    assert decode(message(extra=nested)).readings


# --- v, seq, readings ---------------------------------------------------------------------


@pytest.mark.parametrize("version", [_DROP, 0, 2, "1", 1.0, True, None, [1]])
def test_v_other_than_1_is_rejected_whole(version: Any) -> None:
    decoded = decode(message(v=version))
    assert_whole_rejected(decoded, "v ")


@pytest.mark.parametrize("seq", [0, 1, 2**63 - 1])
def test_seq_integer_zero_or_more_is_accepted(seq: int) -> None:
    decoded = decode(message(seq=seq))
    assert decoded.seq == seq
    assert decoded.readings


@pytest.mark.parametrize("seq", [_DROP, -1, 1.5, 3.0, "7", True, False, None, 2**64])
def test_seq_not_a_nonnegative_integer_is_rejected_whole(seq: Any) -> None:
    assert_whole_rejected(decode(message(seq=seq)), "seq")


@pytest.mark.parametrize("seq", [2**63, 2**64 - 1])
def test_seq_beyond_a_signed_64_bit_integer_is_rejected_whole(seq: int) -> None:
    # The fleet-health store keeps seq in a signed 64-bit column (PostgreSQL BIGINT, SQLite
    # INTEGER): a gateway sending 2**64 - 1 made every later fleet-health write fail.
    assert_whole_rejected(decode(message(seq=seq)), "seq", "9223372036854775807")


@pytest.mark.parametrize("count", [1, 500])
def test_readings_of_1_to_500_are_accepted(count: int) -> None:
    readings = [reading(sensor=f"s{i}") for i in range(count)]
    decoded = decode(message(*readings))
    assert len(decoded.readings) == count
    assert decoded.rejections == []


@pytest.mark.parametrize(
    ("readings", "word"),
    [
        ([], "0 items"),
        ([reading(sensor=f"s{i}") for i in range(501)], "501 items"),
        (_DROP, "missing"),
        ({"sensor": "s1"}, "not an array"),
        ("s1", "not an array"),
    ],
)
def test_readings_not_an_array_of_1_to_500_is_rejected_whole(readings: Any, word: str) -> None:
    assert_whole_rejected(decode(message(readings=readings)), "readings", word)


def test_reading_that_is_not_an_object_is_rejected_alone() -> None:
    decoded = decode(message(reading(), 7))  # type: ignore[arg-type]
    assert len(decoded.readings) == 1
    assert_reading_rejected(decoded, 1, "not a JSON object")


# --- sensor ---------------------------------------------------------------------------


@pytest.mark.parametrize("sensor", ["s", "S-1_b", "9" * 64])
def test_sensor_of_1_to_64_allowed_characters_is_accepted(sensor: str) -> None:
    assert decode(message(reading(sensor=sensor))).readings[0].sensor == sensor


@pytest.mark.parametrize(
    ("sensor", "word"),
    [
        ("", "0 characters"),
        ("x" * 65, "65 characters"),
        ("s 1", "characters other than"),
        ("s/1", "characters other than"),
        ("s1\n", "characters other than"),
        (_DROP, "missing"),
        (None, "missing"),
        (1, "not a string"),
        (True, "not a string"),
    ],
)
def test_sensor_that_breaks_the_rule_rejects_only_that_reading(sensor: Any, word: str) -> None:
    decoded = decode(message(reading(sensor="ok"), reading(sensor=sensor)))
    assert [r.sensor for r in decoded.readings] == ["ok"]
    assert_reading_rejected(decoded, 1, "sensor", word)


def test_same_sensor_at_different_ts_in_one_message_is_accepted() -> None:
    decoded = decode(message(reading(ts=1_795_545_000), reading(ts=1_795_545_300)))
    assert [r.ts for r in decoded.readings] == [1_795_545_000, 1_795_545_300]
    assert decoded.rejections == []


def test_same_sensor_and_ts_twice_in_one_message_keeps_the_first_and_rejects_the_repeat() -> None:
    decoded = decode(
        message(reading(temperature_c=17.0), reading(sensor="s2"), reading(temperature_c=18.0))
    )
    assert [(r.sensor, r.temperature_c) for r in decoded.readings] == [("s1", 17.0), ("s2", 17.4)]
    assert_reading_rejected(decoded, 2, "repeats reading 0")
    assert decoded.rejections[0].code == "duplicate"


# --- ts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ts", [int(NOW_S) + 300, int(NOW_S), int(NOW_S) - 35 * 86400, int(NOW_S) - 35 * 86400 + 1]
)
def test_ts_within_300_s_ahead_and_35_days_behind_is_accepted(ts: int) -> None:
    assert decode(message(reading(ts=ts))).readings[0].ts == ts


@pytest.mark.parametrize(
    ("ts", "word"),
    [
        (int(NOW_S) + 301, "in the future"),
        (int(NOW_S) - 35 * 86400 - 1, "in the past"),
        (0, "in the past"),
        (-5, "in the past"),
        (2**63, "in the future"),
    ],
)
def test_ts_outside_the_window_rejects_the_reading(ts: int, word: str) -> None:
    decoded = decode(message(reading(ts=ts), reading(sensor="s2")))
    assert len(decoded.readings) == 1
    assert_reading_rejected(decoded, 0, "ts", word)


@pytest.mark.parametrize("ts", [1_795_545_389.0, 1_795_545_389.5, "1795545389", True, [1], 2**64])
def test_ts_not_an_integer_rejects_the_reading(ts: Any) -> None:
    assert_reading_rejected(decode(message(reading(ts=ts))), 0, "ts", "not an integer")


@pytest.mark.parametrize("ts", [_DROP, None])
def test_ts_missing_rejects_the_reading(ts: Any) -> None:
    assert_reading_rejected(decode(message(reading(ts=ts))), 0, "ts is missing")


# --- measurement ranges and types ------------------------------------------------------------

RANGES = [
    ("temperature_c", -40, 85),
    ("humidity_pct", 0, 100),
    ("wme_pct", 0, 100),
    ("battery_pct", 0, 100),
]


@pytest.mark.parametrize(("name", "low", "high"), RANGES)
def test_measurements_at_their_limits_are_accepted(name: str, low: float, high: float) -> None:
    for value in (low, high, (low + high) / 2, float(low)):
        decoded = decode(message(reading(**{name: value})))
        assert getattr(decoded.readings[0], name) == float(value)


@pytest.mark.parametrize(("name", "low", "high"), RANGES)
def test_measurements_beyond_their_limits_reject_the_reading(
    name: str, low: float, high: float
) -> None:
    below = decode(message(reading(**{name: low - 0.01})))
    assert_reading_rejected(below, 0, name, f"is below {low}")
    above = decode(message(reading(**{name: high + 0.01})))
    assert_reading_rejected(above, 0, name, f"is above {high}")


def test_the_reason_reads_as_plain_words() -> None:
    decoded = decode(
        message(
            *[reading(sensor=f"s{i}") for i in range(3)], reading(sensor="s3", humidity_pct=104.2)
        )
    )
    assert decoded.rejections[0].reason == "reading 3: humidity_pct 104.2 is above 100"
    assert decoded.rejections[0].reading == {
        "sensor": "s3",
        "ts": 1_795_545_389,
        "temperature_c": 17.4,
        "humidity_pct": 104.2,
    }


@pytest.mark.parametrize("name", ["temperature_c", "humidity_pct", "wme_pct", "battery_pct"])
@pytest.mark.parametrize("bad", ["17.4", True, False, [1.0], {"v": 1}])
def test_strings_booleans_and_containers_in_number_fields_reject_the_reading(
    name: str, bad: Any
) -> None:
    assert_reading_rejected(decode(message(reading(**{name: bad}))), 0, name, "not a number")


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e999"])
def test_nan_and_infinities_are_refused(literal: bytes) -> None:
    payload = orjson.dumps(message(reading(humidity_pct=55.5))).replace(b"55.5", literal)
    decoded = decode(payload)
    assert decoded.readings == []
    assert decoded.rejections


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_reaching_the_reading_check_are_refused(value: float) -> None:
    # orjson never yields these, but the check must not rely on the parser alone.
    from ingest.contract import _check_reading

    outcome = _check_reading(0, reading(humidity_pct=value), "gw-001", "home-1", NOW_S)
    assert not isinstance(outcome, Reading)
    assert "not a finite number" in outcome.reason


@pytest.mark.parametrize("name", ["temperature_c", "humidity_pct", "wme_pct"])
def test_one_primary_measurement_is_enough(name: str) -> None:
    raw = {"sensor": "s1", "ts": 1_795_545_389, name: 20}
    decoded = decode(message(raw))
    assert getattr(decoded.readings[0], name) == 20.0


@pytest.mark.parametrize(
    "fields",
    [{}, {"battery_pct": 50}, {"temperature_c": None, "humidity_pct": None}],
)
def test_a_reading_without_temperature_humidity_or_wme_is_rejected(fields: dict[str, Any]) -> None:
    raw = {"sensor": "s1", "ts": 1_795_545_389, **fields}
    decoded = decode(message(raw))
    assert_reading_rejected(decoded, 0, "none of temperature_c, humidity_pct, wme_pct")


def test_null_measurement_counts_as_absent() -> None:
    decoded = decode(message(reading(humidity_pct=None, wme_pct=None, battery_pct=None)))
    assert decoded.readings[0].humidity_pct is None
    assert decoded.readings[0].temperature_c == 17.4


def test_unknown_fields_are_ignored_at_both_levels() -> None:
    decoded = decode(message(reading(co2_ppm=900, room="bedroom"), fw="1.2.3", extra={"a": []}))
    assert decoded.readings == [
        Reading("gw-001", "s1", 1_795_545_389, 17.4, None, None, None, "home-1")
    ]


def test_one_bad_reading_among_good_keeps_the_good() -> None:
    decoded = decode(
        message(reading(sensor="a"), reading(sensor="b", wme_pct=-3), reading(sensor="c"))
    )
    assert [r.sensor for r in decoded.readings] == ["a", "c"]
    assert_reading_rejected(decoded, 1, "wme_pct -3 is below 0")


def test_every_bad_reading_gets_its_own_rejection() -> None:
    decoded = decode(message(reading(sensor="a", ts="x"), reading(sensor="b", wme_pct=101)))
    assert decoded.readings == []
    assert not decoded.whole_message_rejected
    assert [r.reading_index for r in decoded.rejections] == [0, 1]


# --- dead letters and status -----------------------------------------------------------------


def test_dead_letter_joins_every_reason_of_one_message() -> None:
    payload = orjson.dumps(message(reading(sensor="a", ts="x"), reading(sensor="b", wme_pct=101)))
    letter = dead_letter_for(TOPIC, payload, NOW_S, decode(payload))
    assert letter is not None
    assert letter.reason.splitlines() == [
        "reading 0: ts 'x' is not an integer of epoch seconds",
        "reading 1: wme_pct 101 is above 100",
    ]
    assert letter.payload == payload
    assert not letter.payload_truncated
    assert letter.gateway_id == "gw-001"
    assert letter.rejected_readings == 2
    assert letter.received_at.timestamp() == NOW_S


def test_dead_letter_truncates_payloads_over_64_kib_with_a_flag() -> None:
    payload = b"x" * (MAX_PAYLOAD_BYTES + 10)
    letter = dead_letter_for(TOPIC, payload, NOW_S, decode(payload))
    assert letter is not None
    assert letter.payload_truncated
    assert len(letter.payload) == MAX_PAYLOAD_BYTES


def test_no_dead_letter_for_a_clean_message() -> None:
    payload = orjson.dumps(message())
    assert dead_letter_for(TOPIC, payload, NOW_S, decode(payload)) is None


def test_status_message_is_decoded() -> None:
    status = decode_status(
        "homesafe/v1/gw/gw-001/status",
        b'{"state": "offline", "fw": "1.4.2", "ts": 1795545389}',
        received_at_s=NOW_S,
    )
    assert not isinstance(status, str)
    assert (status.gateway_id, status.state, status.fw, status.ts) == (
        "gw-001",
        "offline",
        "1.4.2",
        1795545389,
    )


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("homesafe/v1/gw/gw-001/status", b'{"state": "asleep"}'),
        ("homesafe/v1/gw/gw-001/status", b"nope"),
        ("homesafe/v1/gw/gw 1/status", b'{"state": "online"}'),
    ],
)
def test_malformed_status_gives_a_reason(topic: str, payload: bytes) -> None:
    assert isinstance(decode_status(topic, payload, received_at_s=NOW_S), str)


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (b'{"state": "online", "ts": 18446744073709551615}', "ts"),
        (b'{"state": "online", "ts": -1}', "ts"),
        (b'{"state": "online", "fw": "' + b"x" * 65 + b'"}', "fw"),
        (b'{"state": "online", "fw": ""}', "fw"),
    ],
)
def test_status_numbers_and_strings_beyond_what_the_store_holds_give_a_reason(
    payload: bytes, words: str
) -> None:
    reason = decode_status("homesafe/v1/gw/gw-001/status", payload, received_at_s=NOW_S)
    assert isinstance(reason, str)
    assert words in reason


# --- never raises -------------------------------------------------------------------------


def _assert_well_formed(decoded: Decoded) -> None:
    assert isinstance(decoded, Decoded)
    assert decoded.readings or decoded.rejections
    for rejection in decoded.rejections:
        assert isinstance(rejection.reason, str)
        assert rejection.reason
    if decoded.whole_message_rejected:
        assert decoded.readings == []
        assert len(decoded.rejections) == 1


@settings(max_examples=300, deadline=None)
@given(payload=st.binary(max_size=2048), topic=st.sampled_from([TOPIC, "x", "homesafe/v1/gw/z/t"]))
def test_arbitrary_bytes_never_raise(payload: bytes, topic: str) -> None:
    _assert_well_formed(decode(payload, topic=topic))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=30,
)
reading_like = st.fixed_dictionaries(
    {},
    optional={
        "sensor": st.one_of(st.text(max_size=70), json_values),
        "ts": st.one_of(st.integers(int(NOW_S) - 40 * 86400, int(NOW_S) + 1000), json_values),
        "temperature_c": st.one_of(st.floats(-60, 100), json_values),
        "humidity_pct": st.one_of(st.floats(-10, 110), json_values),
        "wme_pct": st.one_of(st.floats(-10, 110), json_values),
        "battery_pct": st.one_of(st.floats(-10, 110), json_values),
    },
)
message_like = st.fixed_dictionaries(
    {},
    optional={
        "v": st.one_of(st.just(1), json_values),
        "seq": st.one_of(st.integers(-5, 2**63 - 1), json_values),
        "readings": st.one_of(
            st.lists(st.one_of(reading_like, json_values), max_size=8), json_values
        ),
    },
)


@settings(max_examples=400, deadline=None)
@given(document=st.one_of(message_like, json_values))
def test_arbitrary_json_is_accepted_or_rejected_with_a_reason(document: Any) -> None:
    payload = encode(document)
    decoded = decode(payload)
    _assert_well_formed(decoded)
    for accepted in decoded.readings:
        assert accepted.home_id == "home-1"
        assert -40 <= (accepted.temperature_c if accepted.temperature_c is not None else 0) <= 85
        assert any(
            x is not None for x in (accepted.temperature_c, accepted.humidity_pct, accepted.wme_pct)
        )
    letter = dead_letter_for(TOPIC, payload, NOW_S, decoded)
    assert (letter is None) == (not decoded.rejections)


# --- the compiled fast check and the reading-by-reading check agree -------------------------

_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-100, 200),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-100, max_value=200),
    st.just(85.0),
    st.just(-40.0),
    st.just(100.0),
    st.text(max_size=3),
)
_READING = st.dictionaries(
    st.sampled_from(
        ["sensor", "ts", "temperature_c", "humidity_pct", "wme_pct", "battery_pct", "x"]
    ),
    st.one_of(
        _VALUES,
        st.sampled_from(["s1", "s2", "bad id", ""]),
        st.sampled_from([1_795_545_389, 1_795_545_389 - 35 * 86400 - 100, 1_795_545_999]),
    ),
    max_size=7,
)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(_READING, st.just([1])), min_size=1, max_size=5))
def test_the_fast_check_accepts_exactly_what_the_reading_by_reading_check_accepts(
    readings: list[Any],
) -> None:
    from ingest.contract import Rejection, _accept_all, _check_reading

    fast = _accept_all(readings, "gw-001", "home-1", NOW_S - 35 * 86400, NOW_S + 300)
    slow = [_check_reading(i, raw, "gw-001", "home-1", NOW_S) for i, raw in enumerate(readings)]
    keys = [(r.sensor, r.ts) for r in slow if not isinstance(r, Rejection)]
    all_good = not any(isinstance(r, Rejection) for r in slow) and len(set(keys)) == len(keys)
    if all_good:
        assert fast == slow
    else:
        assert fast is None
