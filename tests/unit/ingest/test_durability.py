"""Acks only after durability, the on-disk spool, replay, backpressure and bad input at volume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from ingest.contract import DeadLetterRecord
from ingest.service import IngestMetrics, IngestService
from ingest.spool import Spool, SpoolFull
from tests.unit.ingest.test_service import NOW_S, TOPIC, MemoryStore, reading

pytestmark = pytest.mark.unit


class Rig:
    def __init__(self, tmp_path: Path | None = None, spool_bytes: int = 10**9, **kw: Any) -> None:
        self.store = MemoryStore()
        self.letters: list[DeadLetterRecord] = []
        self.acked: list[object] = []
        self.registry = CollectorRegistry()
        self.spool = Spool(tmp_path / "spool", max_bytes=spool_bytes) if tmp_path else None
        self.service = IngestService(
            store=self.store,
            dead_letter_sink=self.letters.extend,
            known_gateway={"gw-1": "home-1"}.get,
            spool=self.spool,
            acknowledge=self.acked.extend,
            metrics=IngestMetrics(self.registry),
            **kw,
        )

    def send(self, seq: int, *sensors: str, at_s: float = NOW_S) -> None:
        body = {"v": 1, "seq": seq, "readings": [reading(s) for s in sensors or ("s1",)]}
        self.service.handle(TOPIC, orjson.dumps(body), at_s, ack=seq)

    def metric(self, name: str) -> float:
        return self.registry.get_sample_value(name) or 0.0


def test_a_message_is_acked_only_once_its_readings_are_in_the_store() -> None:
    rig = Rig(batch_size=4, max_batch_age_s=60)
    rig.send(1, "a", "b")
    assert rig.acked == []  # pending in memory: not yet durable
    rig.send(2, "c", "d")
    assert len(rig.store.rows) == 4
    assert rig.acked == [1, 2]


def test_acks_go_out_in_the_order_messages_came_in_including_rejected_ones() -> None:
    rig = Rig(batch_size=100, max_batch_age_s=1.0)
    rig.send(1, "a")
    rig.service.handle(TOPIC, b"not json", NOW_S, ack=2)
    rig.send(3, "b")
    rig.service.tick(NOW_S + 1)
    assert rig.acked == [1, 2, 3]
    assert len(rig.letters) == 1


def test_with_the_store_down_and_no_spool_nothing_is_acked_until_it_returns() -> None:
    rig = Rig(batch_size=1)
    rig.store.down = True
    rig.send(1, "a")
    rig.send(2, "b")
    assert rig.acked == []
    assert rig.service.pending_readings == 2
    rig.store.down = False
    rig.service.tick(NOW_S + 60)
    assert rig.acked == [1, 2]
    assert len(rig.store.rows) == 2


def test_store_down_batches_go_to_the_spool_and_are_acked_then_replayed_oldest_first(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path, batch_size=1)
    rig.store.down = True
    for seq, sensor in enumerate(("a", "b", "c"), start=1):
        rig.send(seq, sensor, at_s=NOW_S + seq)
    assert rig.acked == [1, 2, 3]
    assert rig.spool is not None
    assert rig.spool.batches == 3
    assert rig.metric("homesafe_ingest_readings_spooled_total") == 3
    rig.store.down = False
    rig.service.tick(NOW_S + 120)
    assert rig.spool.batches == 0
    assert [r.sensor for r in rig.store.rows.values()] == ["a", "b", "c"]
    assert rig.metric("homesafe_ingest_readings_replayed_total") == 3


def test_the_spool_survives_a_restart_of_the_process(tmp_path: Path) -> None:
    first = Rig(tmp_path, batch_size=1)
    first.store.down = True
    first.send(1, "a")
    first.send(2, "b")
    # A new process over the same spool directory (the first one was killed).
    second = Rig(tmp_path, batch_size=1)
    assert second.spool is not None
    assert second.spool.batches == 2
    second.service.tick(NOW_S + 1)
    assert sorted(r.sensor for r in second.store.rows.values()) == ["a", "b"]


def test_a_half_written_spool_file_from_a_crash_is_ignored(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    (tmp_path / "00000000000000000007.tmp").write_bytes(b'[["gw')
    assert Spool(tmp_path).batches == 0
    assert not list(tmp_path.glob("*.tmp"))
    assert spool.batches == 0


def test_a_full_spool_refuses_and_the_acks_are_withheld(tmp_path: Path) -> None:
    rig = Rig(tmp_path, spool_bytes=70, batch_size=1)  # one 54-byte batch fits
    rig.store.down = True
    rig.send(1, "a")
    rig.send(2, "b")
    rig.send(3, "c")
    assert rig.spool is not None
    assert rig.acked == [1]  # one batch fitted; the rest are held, unacked
    assert rig.service.pending_readings == 2
    with pytest.raises(SpoolFull):
        rig.spool.append(rig.spool.oldest()[1] * 3)  # type: ignore[index]
    rig.store.down = False
    rig.service.tick(NOW_S + 120)
    assert rig.acked == [1, 2, 3]
    assert sorted(r.sensor for r in rig.store.rows.values()) == ["a", "b", "c"]


def test_spool_nearly_full_shows_in_a_metric(tmp_path: Path, caplog: Any) -> None:
    rig = Rig(tmp_path, spool_bytes=110, batch_size=1)  # two of 54 bytes: past 80 %
    rig.store.down = True
    rig.send(1, "a")
    rig.send(2, "b")
    rig.service.tick(NOW_S)
    assert rig.metric("homesafe_ingest_spool_nearly_full") == 1
    assert "SPOOL NEARLY FULL" in caplog.text


def test_a_redelivered_message_is_stored_once() -> None:
    rig = Rig(batch_size=1)
    rig.send(1, "a")
    rig.send(1, "a")
    assert len(rig.store.rows) == 1
    assert rig.service.fleet_health()["gw-1"].repeated_messages == 1


def test_ten_thousand_readings_in_one_message_are_rejected_whole_and_acked() -> None:
    rig = Rig(batch_size=1)
    body = orjson.dumps({"v": 1, "seq": 1, "readings": [reading("s")] * 10_000})
    rig.service.handle(TOPIC, body, NOW_S, ack=1)
    rig.service.flush(NOW_S)
    assert rig.acked == [1]
    assert rig.store.rows == {}
    assert "more than 65536" in rig.letters[0].reason or "not 1 to 500" in rig.letters[0].reason


def test_a_flooding_gateway_is_bounded_by_its_unacked_window() -> None:
    rig = Rig(batch_size=10**6, max_batch_age_s=3600, ack_window=50)
    rig.store.down = True
    for seq in range(200):
        rig.send(seq, "a", at_s=NOW_S)
    # Batches are cut every 50 unacked messages and held: the broker (receive maximum) would
    # have stopped sending after its window; nothing was acked, nothing was lost.
    assert rig.acked == []
    assert rig.service.pending_readings == 200
    rig.store.down = False
    rig.service.tick(NOW_S + 120)
    assert len(rig.acked) == 200


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(["v", "seq", "readings", "sensor", "ts", "temperature_c", "x"]),
            children,
            max_size=6,
        )
    ),
    max_leaves=30,
)
_PAYLOADS = st.one_of(
    st.binary(max_size=2048),
    _JSON.map(lambda value: json.dumps(value).encode()),
    st.builds(
        lambda seq, readings: json.dumps({"v": 1, "seq": seq, "readings": readings}).encode(),
        st.integers(-2, 2**65),
        st.lists(
            st.dictionaries(
                st.sampled_from(["sensor", "ts", "temperature_c", "humidity_pct", "wme_pct"]),
                st.one_of(st.just("s1"), st.integers(1_795_545_000, 1_795_545_500), _JSON),
            ),
            max_size=4,
        ),
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=_PAYLOADS)
def test_any_payload_is_stored_or_dead_lettered_with_a_reason_and_acked(payload: bytes) -> None:
    rig = Rig(batch_size=1)
    decoded = rig.service.handle(TOPIC, payload, NOW_S, ack=1)
    rig.service.flush(NOW_S)
    assert decoded is not None
    assert rig.acked == [1]
    if decoded.rejections:
        assert rig.letters
        assert all(letter.reason for letter in rig.letters)
    else:
        assert decoded.readings
        assert len(rig.store.rows) == len(decoded.readings)


# --- dead letters are durable before the message that caused them is acknowledged ----------


class LetterSink:
    """A dead-letter sink that can be down; records what it held at each acknowledgement."""

    def __init__(self) -> None:
        self.letters: list[DeadLetterRecord] = []
        self.down = False

    def __call__(self, letters: list[DeadLetterRecord]) -> None:
        if self.down:
            raise RuntimeError("case database is down")
        self.letters.extend(letters)


def _letter_rig(tmp_path: Path | None, sink: LetterSink, seen: list[tuple[object, int]]) -> Rig:
    rig = Rig(tmp_path, batch_size=100, max_batch_age_s=60)
    rig.service._sink = sink

    def acknowledge(tokens: list[object]) -> None:
        seen.extend((token, len(sink.letters)) for token in tokens)
        rig.acked.extend(tokens)

    rig.service.acknowledge = acknowledge
    return rig


def test_a_rejected_message_is_acked_only_after_its_dead_letter_is_stored() -> None:
    sink, seen = LetterSink(), []  # type: ignore[var-annotated]
    rig = _letter_rig(None, sink, seen)
    rig.service.handle(TOPIC, b"not json", NOW_S, ack=1)
    rig.service.flush(NOW_S)
    assert seen == [(1, 1)]  # when message 1 was acked, its letter was in the sink


def test_with_the_dead_letter_store_down_and_no_spool_the_ack_waits_for_it() -> None:
    sink, seen = LetterSink(), []  # type: ignore[var-annotated]
    rig = _letter_rig(None, sink, seen)
    sink.down = True
    rig.send(1, "a")
    rig.service.handle(TOPIC, b"not json", NOW_S, ack=2)
    rig.service.flush(NOW_S)
    assert rig.acked == []  # the letter exists only in memory: message 2 must not be acked
    sink.down = False
    rig.service.flush(NOW_S + 5)
    assert rig.acked == [1, 2]
    assert len(sink.letters) == 1


def test_with_the_dead_letter_store_down_letters_go_to_the_spool_and_survive_a_crash(
    tmp_path: Path,
) -> None:
    sink, seen = LetterSink(), []  # type: ignore[var-annotated]
    rig = _letter_rig(tmp_path, sink, seen)
    sink.down = True
    rig.service.handle(TOPIC, b"not json", NOW_S, ack=1)
    rig.service.flush(NOW_S)
    assert rig.acked == [1]  # durable: fsynced in the spool
    assert sink.letters == []
    # The process is killed; a new one over the same spool, with the case database back.
    later, later_sink = Rig(tmp_path), LetterSink()
    later.service._sink = later_sink
    later.service.tick(NOW_S + 60)
    assert [letter.payload for letter in later_sink.letters] == [b"not json"]
    assert later.spool is not None
    assert later.spool.batches == 0


# --- one gateway's fleet-health row never blocks the others --------------------------------


def test_a_fleet_health_delta_the_sink_refuses_does_not_hold_back_the_others() -> None:
    written: list[str] = []

    def fleet_sink(deltas: list[Any]) -> None:
        if any(delta.gateway_id == "gw-bad" for delta in deltas):
            raise ValueError("value out of range for the column")
        written.extend(delta.gateway_id for delta in deltas)

    service = IngestService(
        store=MemoryStore(),
        dead_letter_sink=lambda _letters: None,
        known_gateway={"gw-1": "home-1", "gw-bad": "home-2"}.get,
        fleet_sink=fleet_sink,
        metrics=IngestMetrics(CollectorRegistry()),
    )
    for seq, gateway_id in enumerate(("gw-bad", "gw-1")):
        body = orjson.dumps({"v": 1, "seq": seq, "readings": [reading("s1")]})
        service.handle(f"homesafe/v1/gw/{gateway_id}/telemetry", body, NOW_S)
    service.flush(NOW_S)
    assert written == ["gw-1"]
    body = orjson.dumps({"v": 1, "seq": 5, "readings": [reading("s1", ts=1_795_545_390)]})
    service.handle("homesafe/v1/gw/gw-1/telemetry", body, NOW_S + 10)
    service.flush(NOW_S + 10)
    assert written == ["gw-1", "gw-1"]


def test_a_fleet_health_delta_refused_three_times_while_others_go_in_is_dropped_and_counted() -> (
    None
):
    written: list[str] = []

    def fleet_sink(deltas: list[Any]) -> None:
        if any(delta.gateway_id == "gw-bad" for delta in deltas):
            raise ValueError("value out of range for the column")
        written.extend(delta.gateway_id for delta in deltas)

    registry = CollectorRegistry()
    service = IngestService(
        store=MemoryStore(),
        dead_letter_sink=lambda _letters: None,
        known_gateway={"gw-1": "home-1", "gw-bad": "home-2"}.get,
        fleet_sink=fleet_sink,
        metrics=IngestMetrics(registry),
    )
    for round_ in range(4):
        for gateway_id in ("gw-bad", "gw-1"):
            body = orjson.dumps({"v": 1, "seq": round_, "readings": [reading("s1")]})
            service.handle(f"homesafe/v1/gw/{gateway_id}/telemetry", body, NOW_S + round_)
        service.flush(NOW_S + round_)
    assert written == ["gw-1"] * 4
    assert registry.get_sample_value("homesafe_ingest_fleet_deltas_dropped_total") == 1


def test_with_the_fleet_store_away_every_delta_is_kept_for_later() -> None:
    down = [True]
    written: list[str] = []

    def fleet_sink(deltas: list[Any]) -> None:
        if down[0]:
            raise ConnectionError("case database is down")
        written.extend(delta.gateway_id for delta in deltas)

    service = IngestService(
        store=MemoryStore(),
        dead_letter_sink=lambda _letters: None,
        known_gateway={"gw-1": "home-1", "gw-2": "home-2"}.get,
        fleet_sink=fleet_sink,
        metrics=IngestMetrics(CollectorRegistry()),
    )
    for round_ in range(5):
        for gateway_id in ("gw-1", "gw-2"):
            body = orjson.dumps({"v": 1, "seq": round_, "readings": [reading("s1")]})
            service.handle(f"homesafe/v1/gw/{gateway_id}/telemetry", body, NOW_S + round_)
        service.flush(NOW_S + round_)
    down[0] = False
    service.flush(NOW_S + 10)
    assert sorted(written) == ["gw-1", "gw-2"]
    assert service.fleet_health()["gw-1"].messages == 5


def test_a_slow_fleet_health_write_holds_back_no_telemetry_write_or_ack() -> None:
    import threading

    entered, release = threading.Event(), threading.Event()

    def slow_fleet_sink(_deltas: list[Any]) -> None:
        entered.set()
        release.wait(30)

    rig = Rig(batch_size=1, fleet_interval_s=0.01)
    rig.service._fleet_sink = slow_fleet_sink
    stop = threading.Event()
    ticks = iter(range(10**6))
    clock = lambda: NOW_S + next(ticks)  # noqa: E731 - a clock that moves a second a call
    fleet = threading.Thread(target=rig.service.run_fleet_writer, args=(stop, clock))
    rig.send(1, "a")  # gives the fleet something to write
    fleet.start()
    try:
        assert entered.wait(30)  # the fleet thread is stuck in the case database
        rig.send(2, "b")
        rig.service.tick(NOW_S + 1)
        assert rig.acked == [1, 2]
        assert len(rig.store.rows) == 2
    finally:
        release.set()
        stop.set()
        fleet.join(30)
