"""The v1 gateway telemetry contract (docs/gateways.md): decode and validate one MQTT message.

Pure: no I/O, time is an argument. `decode_telemetry` never raises; every message ends up
either with accepted readings, or rejections carrying a reason in plain words, or both.

Decisions where the contract leaves room (documented here because tests rely on them):
- "sensor ... unique within the gateway" is read as: a sensor id names one sensor within its
  gateway, so one message may carry several readings of the same sensor at different `ts`
  (a gateway flushing its offline buffer does exactly that). A second reading of the same
  sensor with the same `ts` in one message is rejected alone ("repeats reading N"); the first
  is kept. A repeat in a *later* message is a redelivery and is stored once by the store.
- A measurement given as JSON `null` counts as absent (the same as leaving the key out).
- `ts` and `seq` must be JSON integers: `1795545389.0` is refused; integers beyond 64 bits
  (which the JSON parser turns into floats) are refused too.
- "`seq` int ≥ 0" is bounded above by what the fleet-health store holds: a signed 64-bit
  integer (PostgreSQL BIGINT, SQLite INTEGER), so 0 ≤ seq ≤ 2**63 − 1. A larger seq rejects the
  message whole (its readings cannot be told apart from a redelivery without it).
- Status messages: `state` must be "online" or "offline"; `fw`, when given as a string, is 1–64
  characters (the width of its column); `ts`, when given as an integer, is 0 … 2**63 − 1. A
  status outside these is malformed (dead-lettered with the reason). A `fw` or `ts` of another
  JSON type is read as absent, as before.
- Reading indexes are 0-based positions in the `readings` array: "reading 3" is `readings[3]`.
- Range limits are inclusive: humidity 100 is accepted, 100.01 is not.
- An unregistered gateway rejects the message whole, before its payload is read.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, NamedTuple

import orjson

from registry.clock import from_epoch_s

TELEMETRY_TOPIC_PREFIX: Final = "homesafe/v1/gw/"
TELEMETRY_TOPIC_SUFFIX: Final = "/telemetry"
STATUS_TOPIC_SUFFIX: Final = "/status"
TELEMETRY_SUBSCRIPTION: Final = "homesafe/v1/gw/+/telemetry"
STATUS_SUBSCRIPTION: Final = "homesafe/v1/gw/+/status"

CONTRACT_VERSION: Final = 1
MAX_PAYLOAD_BYTES: Final = 64 * 1024
MAX_READINGS_PER_MESSAGE: Final = 500
MAX_FUTURE_S: Final = 300
MAX_PAST_S: Final = 35 * 24 * 3600
MAX_ID_CHARS: Final = 64
MAX_STORED_INT: Final = 2**63 - 1  # a signed 64-bit column: PostgreSQL BIGINT, SQLite INTEGER
MAX_FW_CHARS: Final = 64

ID_CHARACTERS: Final = string.ascii_letters + string.digits + "_-"  # of gateway and sensor ids
_ID_RE: Final = re.compile(f"[{re.escape(ID_CHARACTERS)}]{{1,{MAX_ID_CHARS}}}")
_SHOW_CHARS: Final = 40


class Reading(NamedTuple):
    """One accepted sensor reading; measurements absent from the message are None."""

    gateway_id: str
    sensor: str
    ts: int
    temperature_c: float | None = None
    humidity_pct: float | None = None
    wme_pct: float | None = None
    battery_pct: float | None = None
    home_id: str | None = None


class Rejection(NamedTuple):
    """Why a message (reading_index None) or one of its readings was refused."""

    reason: str
    reading_index: int | None = None
    reading: dict[str, Any] | None = None
    code: str = "invalid"


@dataclass(slots=True)
class Decoded:
    """The outcome of decoding one telemetry message."""

    gateway_id: str | None
    seq: int | None
    readings: list[Reading] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    whole_message_rejected: bool = False


@dataclass(frozen=True, slots=True)
class MeasurementRule:
    """The inclusive range a measurement field must lie in."""

    name: str
    low: float
    high: float


MEASUREMENT_RULES: Final = (
    MeasurementRule("temperature_c", -40.0, 85.0),
    MeasurementRule("humidity_pct", 0.0, 100.0),
    MeasurementRule("wme_pct", 0.0, 100.0),
    MeasurementRule("battery_pct", 0.0, 100.0),
)
# A reading must carry at least one of these (battery alone says nothing about the home).
PRIMARY_MEASUREMENTS: Final = ("temperature_c", "humidity_pct", "wme_pct")


@dataclass(frozen=True, slots=True)
class DeadLetterRecord:
    """One rejected message as it goes to the dead-letter store."""

    received_at: datetime
    topic: str
    payload: bytes
    payload_truncated: bool
    gateway_id: str | None
    reason: str
    rejected_readings: int


class GatewayStatus(NamedTuple):
    """The latest retained status a gateway published."""

    gateway_id: str
    state: str
    fw: str | None
    ts: int | None
    received_at_s: float


_VALID_IDS: set[str] = set()  # ids already checked (the fleet's few sensor and gateway names)
_VALID_IDS_MAX: Final = 200_000


def is_valid_id(value: object) -> bool:
    """True for a gateway or sensor id: 1-64 characters of A-Z a-z 0-9 _ -."""
    if not isinstance(value, str):
        return False
    if value in _VALID_IDS:
        return True
    if _ID_RE.fullmatch(value) is None:
        return False
    if len(_VALID_IDS) >= _VALID_IDS_MAX:
        _VALID_IDS.clear()
    _VALID_IDS.add(value)
    return True


def show(value: object) -> str:
    """An untrusted value made safe and short for a reason text."""
    text = repr(value)
    if len(text) > _SHOW_CHARS:
        text = text[: _SHOW_CHARS - 3] + "..."
    return text


def gateway_id_from_topic(topic: str, suffix: str = TELEMETRY_TOPIC_SUFFIX) -> str | None:
    """The valid gateway id in `homesafe/v1/gw/{id}{suffix}`, else None."""
    if not (topic.startswith(TELEMETRY_TOPIC_PREFIX) and topic.endswith(suffix)):
        return None
    candidate = topic[len(TELEMETRY_TOPIC_PREFIX) : len(topic) - len(suffix)]
    return candidate if is_valid_id(candidate) else None


def _whole(decoded: Decoded, reason: str, code: str) -> Decoded:
    decoded.readings = []
    decoded.rejections = [Rejection(reason, None, None, code)]
    decoded.whole_message_rejected = True
    return decoded


def _is_json_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _topic_problem(topic: str) -> str:
    if not topic.startswith(TELEMETRY_TOPIC_PREFIX) or not topic.endswith(TELEMETRY_TOPIC_SUFFIX):
        return f"topic {show(topic)} is not homesafe/v1/gw/{{gateway_id}}/telemetry"
    candidate = topic[len(TELEMETRY_TOPIC_PREFIX) : len(topic) - len(TELEMETRY_TOPIC_SUFFIX)]
    if not candidate:
        return "topic has an empty gateway_id"
    if len(candidate) > MAX_ID_CHARS:
        return f"gateway_id in topic is {len(candidate)} characters, more than {MAX_ID_CHARS}"
    return f"gateway_id {show(candidate)} in topic has characters other than A-Z a-z 0-9 _ -"


def _not_json_reason(payload: bytes, error: Exception) -> tuple[str, str]:
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"payload is not valid UTF-8 (byte {exc.start})", "not_utf8"
    message = str(error)
    if "depth limit" in message:
        return "payload is JSON nested too deeply", "not_json"
    return f"payload is not valid JSON: {message}", "not_json"


AcceptAll = Callable[[list[Any], str, str, float, float], "list[Reading] | None"]


def _compile_accept_all(rules: tuple[MeasurementRule, ...], primary: tuple[str, ...]) -> AcceptAll:
    """Build the fast check of a whole `readings` array from the rule table.

    The common case, a message whose every reading is good, is checked by one function made
    from MEASUREMENT_RULES when this module loads (as `collections.namedtuple` and
    `dataclasses` make theirs): the loop over the rules is written out, so each reading costs
    a few comparisons rather than an interpreted loop. It answers the list of Readings, or None
    at the first doubt; `_check_reading` then goes over the message reading by reading and
    says why. Exact type tests suffice: the JSON parser gives exactly int, float, str, bool,
    None, list or dict, and refuses NaN and infinities (a range test is False for them too).
    Any table entry is picked up here and in `_check_reading` alike; a property test holds the
    two to the same answers."""
    lines = [
        "def accept_all(readings, gateway_id, home_id, low_ts, high_ts):",
        "    accepted = []",
        "    seen = set()",
        "    for raw in readings:",
        "        if type(raw) is not dict:",
        "            return None",
        "        sensor = raw.get('sensor')",
        "        if type(sensor) is not str or (sensor not in valid_ids and not is_valid_id(sensor)):",
        "            return None",
        "        ts = raw.get('ts')",
        "        if type(ts) is not int or ts < low_ts or ts > high_ts:",
        "            return None",
        "        key = (sensor, ts)",
        "        if key in seen:",
        "            return None",
        "        seen.add(key)",
    ]
    names = []
    for i, rule in enumerate(rules):
        name = f"v{i}"
        names.append(name)
        lines += [
            f"        {name} = raw.get({rule.name!r})",
            f"        if {name} is not None:",
            f"            if type({name}) is int:",
            f"                {name} = float({name})",
            f"            elif type({name}) is not float:",
            "                return None",
            f"            if not {rule.low!r} <= {name} <= {rule.high!r}:",
            "                return None",
        ]
    primaries = [f"v{i} is None" for i, rule in enumerate(rules) if rule.name in primary]
    lines += [
        f"        if {' and '.join(primaries)}:",
        "            return None",
        f"        accepted.append(new(Reading, (gateway_id, sensor, ts, {', '.join(names)}, home_id)))",
        "    return accepted",
    ]
    namespace: dict[str, Any] = {
        "valid_ids": _VALID_IDS,
        "is_valid_id": is_valid_id,
        "new": tuple.__new__,
        "Reading": Reading,
    }
    exec("\n".join(lines), namespace)  # our own text, made from the rule table
    accept_all: AcceptAll = namespace["accept_all"]
    return accept_all


if [field for field in Reading._fields[3:7]] != [rule.name for rule in MEASUREMENT_RULES]:
    raise RuntimeError("Reading's measurement fields must follow MEASUREMENT_RULES")
_accept_all = _compile_accept_all(MEASUREMENT_RULES, PRIMARY_MEASUREMENTS)


def _check_reading(
    index: int, raw: object, gateway_id: str, home_id: str, received_at_s: float
) -> Reading | Rejection:
    """Validate one element of `readings`; a Reading or the first rule it breaks."""
    if not isinstance(raw, dict):
        return Rejection(f"reading {index}: is not a JSON object", index, None, "shape")
    sensor = raw.get("sensor")
    if sensor is None:
        return Rejection(f"reading {index}: sensor is missing", index, raw, "sensor")
    if not isinstance(sensor, str):
        return Rejection(
            f"reading {index}: sensor {show(sensor)} is not a string", index, raw, "sensor"
        )
    if not is_valid_id(sensor):
        if not sensor or len(sensor) > MAX_ID_CHARS:
            why = f"is {len(sensor)} characters, not 1 to {MAX_ID_CHARS}"
        else:
            why = "has characters other than A-Z a-z 0-9 _ -"
        return Rejection(f"reading {index}: sensor {show(sensor)} {why}", index, raw, "sensor")
    ts = raw.get("ts")
    if ts is None:
        return Rejection(f"reading {index}: ts is missing", index, raw, "ts")
    if not _is_json_int(ts):
        return Rejection(
            f"reading {index}: ts {show(ts)} is not an integer of epoch seconds", index, raw, "ts"
        )
    if ts > received_at_s + MAX_FUTURE_S:
        ahead_s = ts - received_at_s
        return Rejection(
            f"reading {index}: ts {ts} is {ahead_s:.0f} s in the future, more than "
            f"{MAX_FUTURE_S} s",
            index,
            raw,
            "ts",
        )
    if ts < received_at_s - MAX_PAST_S:
        behind_days = (received_at_s - ts) / 86400
        return Rejection(
            f"reading {index}: ts {ts} is {behind_days:.1f} days in the past, more than 35 days",
            index,
            raw,
            "ts",
        )
    values: list[float | None] = []
    for rule in MEASUREMENT_RULES:
        value = raw.get(rule.name)
        if value is None:
            values.append(None)
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return Rejection(
                f"reading {index}: {rule.name} {show(value)} is not a number", index, raw, "type"
            )
        number = float(value)
        if not math.isfinite(number):
            return Rejection(
                f"reading {index}: {rule.name} {show(value)} is not a finite number",
                index,
                raw,
                "type",
            )
        if number < rule.low:
            return Rejection(
                f"reading {index}: {rule.name} {value} is below {rule.low:g}", index, raw, "range"
            )
        if number > rule.high:
            return Rejection(
                f"reading {index}: {rule.name} {value} is above {rule.high:g}", index, raw, "range"
            )
        values.append(number)
    temperature_c, humidity_pct, wme_pct, battery_pct = values
    if temperature_c is None and humidity_pct is None and wme_pct is None:
        return Rejection(
            f"reading {index}: has none of temperature_c, humidity_pct, wme_pct",
            index,
            raw,
            "no_measurement",
        )
    return Reading(
        gateway_id, sensor, ts, temperature_c, humidity_pct, wme_pct, battery_pct, home_id
    )


def _decode(
    topic: str,
    payload: bytes,
    received_at_s: float,
    known_gateway: Callable[[str], str | None],
) -> Decoded:
    gateway_id = gateway_id_from_topic(topic)
    decoded = Decoded(gateway_id=gateway_id, seq=None)
    if gateway_id is None:
        return _whole(decoded, _topic_problem(topic), "topic")
    try:
        home_id = known_gateway(gateway_id)
    except Exception as exc:  # a registry that cannot answer must not stop ingest
        return _whole(
            decoded, f"registry lookup for gateway {gateway_id} failed: {show(exc)}", "registry"
        )
    if home_id is None:
        return _whole(decoded, f"gateway {gateway_id} is not in the registry", "unknown_gateway")
    if len(payload) > MAX_PAYLOAD_BYTES:
        return _whole(
            decoded,
            f"payload is {len(payload)} bytes, more than {MAX_PAYLOAD_BYTES} (64 KiB)",
            "too_large",
        )
    try:
        message = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        reason, code = _not_json_reason(payload, exc)
        return _whole(decoded, reason, code)
    if not isinstance(message, dict):
        return _whole(
            decoded, f"payload is a JSON {type(message).__name__}, not an object", "shape"
        )
    if "v" not in message:
        return _whole(decoded, "v is missing", "version")
    version = message["v"]
    if not _is_json_int(version) or version != CONTRACT_VERSION:
        return _whole(decoded, f"v is {show(version)}, must be 1", "version")
    seq = message.get("seq")
    if seq is None:
        return _whole(decoded, "seq is missing", "seq")
    if not _is_json_int(seq) or seq < 0:
        return _whole(decoded, f"seq {show(seq)} is not an integer of 0 or more", "seq")
    if seq > MAX_STORED_INT:
        return _whole(decoded, f"seq {seq} is more than {MAX_STORED_INT} (2**63 - 1)", "seq")
    decoded.seq = seq
    readings = message.get("readings")
    if readings is None:
        return _whole(decoded, "readings is missing", "readings")
    if not isinstance(readings, list):
        return _whole(decoded, f"readings is {show(readings)}, not an array", "readings")
    if not 1 <= len(readings) <= MAX_READINGS_PER_MESSAGE:
        return _whole(
            decoded,
            f"readings has {len(readings)} items, not 1 to {MAX_READINGS_PER_MESSAGE}",
            "readings",
        )
    accepted = _accept_all(
        readings, gateway_id, home_id, received_at_s - MAX_PAST_S, received_at_s + MAX_FUTURE_S
    )
    if accepted is not None:
        decoded.readings = accepted
        return decoded
    seen: dict[tuple[str, int], int] = {}
    for index, raw in enumerate(readings):
        outcome = _check_reading(index, raw, gateway_id, home_id, received_at_s)
        if isinstance(outcome, Rejection):
            decoded.rejections.append(outcome)
            continue
        key = (outcome.sensor, outcome.ts)
        first = seen.get(key)
        if first is not None:
            decoded.rejections.append(
                Rejection(
                    f"reading {index}: sensor {outcome.sensor} at ts {outcome.ts} repeats "
                    f"reading {first}",
                    index,
                    raw,
                    "duplicate",
                )
            )
            continue
        seen[key] = index
        decoded.readings.append(outcome)
    return decoded


def decode_telemetry(
    topic: str,
    payload: bytes,
    *,
    received_at_s: float,
    known_gateway: Callable[[str], str | None],
) -> Decoded:
    """Validate one telemetry message against the v1 contract; never raises."""
    try:
        return _decode(topic, bytes(payload), received_at_s, known_gateway)
    except Exception as exc:  # belt and braces: no payload may stop ingest
        return _whole(
            Decoded(gateway_id=None, seq=None),
            f"internal error while decoding: {show(exc)}",
            "internal",
        )


def dead_letter_for(
    topic: str, payload: bytes, received_at_s: float, decoded: Decoded
) -> DeadLetterRecord | None:
    """The dead letter for a message with any rejection (one per message), else None."""
    if not decoded.rejections:
        return None
    body = bytes(payload)
    truncated = len(body) > MAX_PAYLOAD_BYTES
    return DeadLetterRecord(
        received_at=from_epoch_s(received_at_s),
        topic=topic[:1024].replace("\x00", "\\x00"),
        payload=body[:MAX_PAYLOAD_BYTES] if truncated else body,
        payload_truncated=truncated,
        gateway_id=decoded.gateway_id,
        reason="\n".join(rejection.reason for rejection in decoded.rejections),
        rejected_readings=sum(1 for r in decoded.rejections if r.reading_index is not None),
    )


def decode_status(topic: str, payload: bytes, *, received_at_s: float) -> GatewayStatus | str:
    """A gateway's status message as a GatewayStatus, or the reason it is malformed."""
    try:
        gateway_id = gateway_id_from_topic(topic, STATUS_TOPIC_SUFFIX)
        if gateway_id is None:
            return f"topic {show(topic)} is not homesafe/v1/gw/{{gateway_id}}/status"
        try:
            message = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return "status payload is not valid JSON"
        if not isinstance(message, dict):
            return "status payload is not a JSON object"
        state = message.get("state")
        if state not in ("online", "offline"):
            return f"status state {show(state)} is not 'online' or 'offline'"
        fw = message.get("fw")
        if isinstance(fw, str) and not 1 <= len(fw) <= MAX_FW_CHARS:
            return f"status fw {show(fw)} is {len(fw)} characters, not 1 to {MAX_FW_CHARS}"
        ts = message.get("ts")
        if isinstance(ts, int) and not isinstance(ts, bool) and not 0 <= ts <= MAX_STORED_INT:
            return f"status ts {show(ts)} is not epoch seconds from 0 to {MAX_STORED_INT}"
        return GatewayStatus(
            gateway_id=gateway_id,
            state=state,
            fw=fw if isinstance(fw, str) else None,
            ts=ts if _is_json_int(ts) else None,
            received_at_s=received_at_s,
        )
    except Exception as exc:
        return f"internal error while decoding status: {show(exc)}"
