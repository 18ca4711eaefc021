"""IngestService with an in-memory store: batching, dead letters, metrics, failures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry

from ingest.contract import DeadLetterRecord, Reading
from ingest.service import IngestMetrics, IngestService
from ingest.store import TelemetryStoreError

pytestmark = pytest.mark.unit

NOW_S = 1_795_545_400.0
TS = 1_795_545_389
TOPIC = "homesafe/v1/gw/gw-1/telemetry"


class MemoryStore:
    """A TelemetryStore in a dict, which can be told to fail."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, int], Reading] = {}
        self.writes: list[int] = []
        self.down = False
        self.refuse_sensor: str | None = None

    def write(self, readings: Sequence[Reading]) -> None:
        if self.down:
            raise TelemetryStoreError("down")
        if self.refuse_sensor and any(r.sensor == self.refuse_sensor for r in readings):
            raise ValueError("cannot represent")
        self.writes.append(len(readings))
        for r in readings:
            self.rows[(r.gateway_id, r.sensor, r.ts)] = r

    def query(self, *, start: datetime, end: datetime, **filters: Any) -> list[Reading]:
        raise NotImplementedError

    def ping(self) -> bool:
        return not self.down

    def close(self) -> None:
        pass


class Harness:
    def __init__(self, **kwargs: Any) -> None:
        self.store = MemoryStore()
        self.letters: list[DeadLetterRecord] = []
        self.sink_down = False
        self.registry = CollectorRegistry()
        self.service = IngestService(
            store=self.store,
            dead_letter_sink=self.sink,
            known_gateway={"gw-1": "home-1", "gw-2": "home-2"}.get,
            metrics=IngestMetrics(self.registry),
            **kwargs,
        )

    def sink(self, letters: list[DeadLetterRecord]) -> None:
        if self.sink_down:
            raise RuntimeError("database is down")
        self.letters.extend(letters)

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels or None) or 0.0

    def send(
        self, seq: int, *readings: dict[str, Any], at_s: float = NOW_S, topic: str = TOPIC
    ) -> None:
        body = {"v": 1, "seq": seq, "readings": list(readings) or [reading("s1")]}
        self.service.handle(topic, orjson.dumps(body), at_s)


def reading(sensor: str, ts: int = TS, **fields: Any) -> dict[str, Any]:
    return {"sensor": sensor, "ts": ts, "temperature_c": 18.0, **fields}


def test_readings_wait_for_a_full_batch_or_for_age() -> None:
    h = Harness(batch_size=10, max_batch_age_s=1.0)
    h.send(1, *[reading(f"s{i}") for i in range(4)])
    assert h.store.rows == {}
    assert h.service.pending_readings == 4
    h.service.tick(NOW_S + 0.5)
    assert h.store.rows == {}
    h.service.tick(NOW_S + 1.0)
    assert len(h.store.rows) == 4
    assert h.service.pending_readings == 0


def test_a_full_batch_is_written_at_once_in_batch_sized_writes() -> None:
    h = Harness(batch_size=10, max_batch_age_s=60)
    for seq in range(6):
        h.send(seq, *[reading(f"s{seq}-{i}") for i in range(4)])
    # A batch is cut at the first message that brings it to 10 or more (12): written whole.
    assert h.store.writes == [12, 12]
    assert h.service.pending_readings == 0
    h.send(7, reading("late"))
    assert h.service.flush(NOW_S) is True
    assert h.store.writes == [12, 12, 1]
    assert h.metric("homesafe_ingest_readings_written_total") == 25


def test_rejections_go_to_the_dead_letter_sink_with_the_raw_payload() -> None:
    h = Harness(batch_size=1)
    h.send(1, reading("ok"), reading("bad", humidity_pct=104.2))
    h.service.handle(TOPIC, b"not json", NOW_S)
    h.service.flush(NOW_S)
    assert [r.sensor for r in h.store.rows.values()] == ["ok"]
    assert h.letters[0].reason == "reading 1: humidity_pct 104.2 is above 100"
    assert h.letters[1].reason.startswith("payload is not valid JSON: ")
    assert h.letters[1].payload == b"not json"
    assert h.letters[0].topic == TOPIC


def test_metrics_count_messages_readings_and_reasons() -> None:
    h = Harness()
    h.send(1, reading("a"), reading("b", ts="x"), reading("c", wme_pct=-1))
    h.send(2, topic="homesafe/v1/gw/gw-9/telemetry")
    h.service.handle(TOPIC, b"[]", NOW_S)
    assert h.metric("homesafe_ingest_messages_received_total") == 3
    assert h.metric("homesafe_ingest_readings_received_total") == 3
    assert h.metric("homesafe_ingest_readings_accepted_total") == 1
    assert h.metric("homesafe_ingest_readings_rejected_total", reason="ts") == 1
    assert h.metric("homesafe_ingest_readings_rejected_total", reason="range") == 1
    assert h.metric("homesafe_ingest_messages_rejected_total", reason="unknown_gateway") == 1
    assert h.metric("homesafe_ingest_messages_rejected_total", reason="shape") == 1


def test_store_outage_keeps_readings_and_retries_after_backoff() -> None:
    h = Harness(batch_size=2)
    h.store.down = True
    h.send(1, reading("a"), reading("b"))
    assert h.service.pending_readings == 2
    assert h.metric("homesafe_ingest_store_errors_total") == 1
    h.store.down = False
    h.service.tick(NOW_S + 0.1)  # still inside the backoff
    assert h.store.rows == {}
    h.service.tick(NOW_S + 1.0)
    assert len(h.store.rows) == 2
    assert h.service.pending_readings == 0


def test_a_reading_the_store_cannot_take_is_dead_lettered_and_the_rest_stored() -> None:
    h = Harness(batch_size=3)
    h.store.refuse_sensor = "odd"
    h.send(1, reading("a"), reading("odd"), reading("c"))
    h.service.flush(NOW_S)
    assert sorted(r.sensor for r in h.store.rows.values()) == ["a", "c"]
    assert len(h.letters) == 1
    assert "telemetry store refused sensor odd" in h.letters[0].reason


def test_dead_letter_sink_failure_is_retried_not_lost() -> None:
    h = Harness()
    h.sink_down = True
    h.service.handle(TOPIC, b"{}", NOW_S)
    assert h.service.flush(NOW_S) is False
    assert h.service.pending_dead_letters == 1
    h.sink_down = False
    assert h.service.flush(NOW_S + 5) is True
    assert len(h.letters) == 1


def test_nothing_escapes_the_handler_even_when_the_registry_and_store_explode() -> None:
    def explode(_gateway_id: str) -> str | None:
        raise RuntimeError("boom")

    store = MemoryStore()
    service = IngestService(
        store=store,
        dead_letter_sink=lambda _letters: None,
        known_gateway=explode,
        metrics=IngestMetrics(CollectorRegistry()),
    )
    service.handle(TOPIC, b'{"v":1}', NOW_S)
    service.handle(None, None, NOW_S)  # type: ignore[arg-type]
    service.handle_status("x", b"\xff", NOW_S)
    service.tick(NOW_S)
    service.flush(NOW_S)


def test_seq_gaps_and_repeats_are_tracked_per_gateway() -> None:
    h = Harness()
    for seq in (5, 6, 6, 9, 10, 0, 1):
        h.send(seq)
    health = h.service.fleet_health()["gw-1"]
    # 5,6,(6 repeat),9,10 → 7 and 8 missing; then 0 is a restart of the count.
    assert (
        health.last_seq,
        health.messages,
        health.missed_messages,
        health.repeated_messages,
        health.seq_resets,
    ) == (1, 2, 2, 1, 1)


def test_status_is_kept_and_a_malformed_one_dead_lettered() -> None:
    h = Harness()
    status = h.service.handle_status(
        "homesafe/v1/gw/gw-1/status", b'{"state":"online","fw":"1.0","ts":1}', NOW_S
    )
    assert status is not None
    assert h.service.gateway_statuses()["gw-1"].state == "online"
    assert h.service.handle_status("homesafe/v1/gw/gw-1/status", b"", NOW_S) is None
    assert h.service.handle_status("homesafe/v1/gw/gw-1/status", b"{}", NOW_S) is None
    h.service.flush(NOW_S)
    assert [letter.topic for letter in h.letters] == ["homesafe/v1/gw/gw-1/status"]
