"""The ingest use case: decode each message, batch accepted readings into the store (or the
on-disk spool when the store is away), dead-letter rejections, track fleet health, and
acknowledge each message only once every reading in it is durable. No exception leaves
`handle`.

Backpressure: a message is acknowledged (its ack token handed to `acknowledge`) only after
its batch is in the store or the spool. When both refuse, batches stay in memory unacked,
so the broker stops sending once the client's receive maximum of unacked messages is
reached: memory is bounded by that window, not by the length of the outage.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Final

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from ingest.contract import (
    DeadLetterRecord,
    Decoded,
    GatewayStatus,
    Reading,
    Rejection,
    dead_letter_for,
    decode_status,
    decode_telemetry,
    show,
)
from ingest.fleet import FleetTracker, GatewayDelta, GatewayHealth
from ingest.spool import Spool, SpoolFull
from ingest.store import TelemetryStore, TelemetryStoreError, TelemetryStoreRefused
from registry.clock import from_epoch_s

log = logging.getLogger(__name__)

DeadLetterSink = Callable[[list[DeadLetterRecord]], None]
FleetSink = Callable[[list[GatewayDelta]], None]
KnownGateway = Callable[[str], str | None]
AckToken = Hashable
Acknowledge = Callable[[list[AckToken]], None]

DEFAULT_BATCH_SIZE: Final = 5000
DEFAULT_MAX_BATCH_AGE_S: Final = 1.0
DEFAULT_ACK_WINDOW: Final = 1000
DEFAULT_FLEET_INTERVAL_S: Final = 5.0
DEFAULT_MAX_PENDING_DEAD_LETTERS: Final = 10_000
DEAD_LETTER_BATCH_SIZE: Final = 100
REPLAY_BATCHES_PER_PASS: Final = 4
RETRY_BACKOFF_MIN_S: Final = 0.5
RETRY_BACKOFF_MAX_S: Final = 30.0


class IngestMetrics:
    """The ingest counters, on one Prometheus registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        on = registry if registry is not None else REGISTRY

        def counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
            return Counter(f"homesafe_ingest_{name}", doc, list(labels), registry=on)

        def gauge(name: str, doc: str) -> Gauge:
            return Gauge(f"homesafe_ingest_{name}", doc, registry=on)

        self.messages_received = counter("messages_received", "Telemetry messages received.")
        self.messages_rejected = counter(
            "messages_rejected", "Messages rejected whole, by reason class.", ("reason",)
        )
        self.readings_received = counter(
            "readings_received", "Readings in messages that were not rejected whole."
        )
        self.readings_accepted = counter("readings_accepted", "Readings that passed validation.")
        self.readings_rejected = counter(
            "readings_rejected", "Readings rejected alone, by reason class.", ("reason",)
        )
        self.readings_written = counter("readings_written", "Readings written to the store.")
        self.readings_spooled = counter("readings_spooled", "Readings written to the spool.")
        self.readings_replayed = counter(
            "readings_replayed", "Spooled readings replayed into the store."
        )
        self.store_errors = counter("store_errors", "Failed telemetry store writes.")
        self.dead_letters = counter("dead_letters", "Dead letters handed to the sink.")
        self.dead_letter_errors = counter("dead_letter_errors", "Failed dead-letter sink calls.")
        self.dead_letters_dropped = counter(
            "dead_letters_dropped", "Dead letters dropped while the sink stayed down."
        )
        self.handler_errors = counter("handler_errors", "Unexpected errors caught in the handler.")
        self.messages_acked = counter("messages_acked", "Messages acknowledged to the broker.")
        self.batch_write_seconds = Histogram(
            "homesafe_ingest_batch_write_seconds",
            "Time to write one batch to the store.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=on,
        )
        self.pending_readings = gauge("pending_readings", "Readings waiting to be written.")
        self.pending_batches = gauge("pending_batches", "Batches cut and waiting to be written.")
        self.unacked_messages = gauge("unacked_messages", "Messages not yet acknowledged.")
        self.consumer_lag_seconds = gauge(
            "consumer_lag_seconds", "Age of the oldest message not yet durable."
        )
        self.spool_bytes = gauge("spool_bytes", "Bytes of batches in the on-disk spool.")
        self.spool_batches = gauge("spool_batches", "Batches in the on-disk spool.")
        self.spool_nearly_full = gauge("spool_nearly_full", "1 when the spool is past 80 %.")


_default_metrics: IngestMetrics | None = None
_default_metrics_lock = threading.Lock()


def default_metrics() -> IngestMetrics:
    """The process-wide metrics on the default Prometheus registry (created once)."""
    global _default_metrics
    with _default_metrics_lock:
        if _default_metrics is None:
            _default_metrics = IngestMetrics()
        return _default_metrics


@dataclass(slots=True)
class Batch:
    """Readings cut for one write, with the acks of the messages they came in."""

    readings: list[Reading] = field(default_factory=list)
    acks: list[AckToken] = field(default_factory=list)
    first_received_at_s: float | None = None


class IngestService:
    """Decode, batch and store telemetry; spool through outages; dead-letter what is refused."""

    def __init__(
        self,
        *,
        store: TelemetryStore,
        dead_letter_sink: DeadLetterSink,
        known_gateway: KnownGateway,
        spool: Spool | None = None,
        fleet_sink: FleetSink | None = None,
        acknowledge: Acknowledge | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_batch_age_s: float = DEFAULT_MAX_BATCH_AGE_S,
        ack_window: int = DEFAULT_ACK_WINDOW,
        fleet_interval_s: float = DEFAULT_FLEET_INTERVAL_S,
        metrics: IngestMetrics | None = None,
    ) -> None:
        self._store = store
        self._sink = dead_letter_sink
        self._known_gateway = known_gateway
        self.spool = spool
        self._fleet_sink = fleet_sink
        self.acknowledge = acknowledge
        self.batch_size = batch_size
        self.max_batch_age_s = max_batch_age_s
        self.ack_window = ack_window
        self.fleet_interval_s = fleet_interval_s
        self.metrics = metrics if metrics is not None else default_metrics()
        self._lock = threading.Lock()  # guards the open batch, the ready queue, letters, fleet
        self._drain_lock = threading.Lock()  # one writer at a time, so acks go out in order
        self._wake = threading.Condition(self._lock)
        self._threaded = False
        self._open = Batch()
        self._ready: deque[Batch] = deque()
        self._ready_readings = 0
        self._letters: list[DeadLetterRecord] = []
        self._letters_since_s: float | None = None
        self._letters_retry_at_s = 0.0
        self._retry_at_s = 0.0
        self._backoff_s = RETRY_BACKOFF_MIN_S
        self._fleet = FleetTracker()
        self._fleet_written_at_s: float | None = None
        self._writing_since_s: float | None = None

    # --- entry points ------------------------------------------------------------------

    def handle(
        self, topic: str, payload: bytes, received_at_s: float, ack: AckToken | None = None
    ) -> Decoded | None:
        """Take one telemetry message; never raises. `ack` is handed back once it is durable."""
        try:
            decoded = decode_telemetry(
                topic, payload, received_at_s=received_at_s, known_gateway=self._known_gateway
            )
            letter = (
                dead_letter_for(topic, payload, received_at_s, decoded)
                if decoded.rejections
                else None
            )
            with self._lock:
                self._count(decoded)
                self._fleet.observe(decoded, received_at_s)
                if letter is not None:
                    self._add_letter(letter, received_at_s)
                batch = self._open
                if batch.first_received_at_s is None:
                    batch.first_received_at_s = received_at_s
                if decoded.readings:
                    batch.readings.extend(decoded.readings)
                if ack is not None:
                    batch.acks.append(ack)
                if len(batch.readings) >= self.batch_size or len(batch.acks) >= self.ack_window:
                    self._cut()
            self._after_handle(received_at_s)
            return decoded
        except Exception:
            self.metrics.handler_errors.inc()
            log.exception("ingest handler failed on a message from %s", show(topic))
            if ack is not None:
                self._ack_quietly([ack])
            return None

    def handle_status(
        self, topic: str, payload: bytes, received_at_s: float, ack: AckToken | None = None
    ) -> GatewayStatus | None:
        """Take one status message: keep it, or dead-letter it if malformed; never raises."""
        try:
            status = decode_status(topic, payload, received_at_s=received_at_s) if payload else None
            with self._lock:
                if isinstance(status, str):
                    decoded = Decoded(gateway_id=None, seq=None, whole_message_rejected=True)
                    decoded.rejections.append(Rejection(status, None, None, "status"))
                    letter = dead_letter_for(topic, payload, received_at_s, decoded)
                    if letter is not None:
                        self._add_letter(letter, received_at_s)
                    self.metrics.messages_rejected.labels(reason="status").inc()
                    status = None
                elif status is not None:
                    self._fleet.observe_status(status)
                if ack is not None:  # in order with the telemetry acks around it
                    if self._open.first_received_at_s is None:
                        self._open.first_received_at_s = received_at_s
                    self._open.acks.append(ack)
            self._after_handle(received_at_s)
            return status
        except Exception:
            self.metrics.handler_errors.inc()
            log.exception("ingest status handler failed on %s", show(topic))
            if ack is not None:
                self._ack_quietly([ack])
            return None

    def tick(self, now_s: float) -> None:
        """Cut and write what is due by age, replay the spool, persist fleet health."""
        try:
            with self._lock:
                self._cut_if_old(now_s)
            self.drain(now_s)
        except Exception:
            self.metrics.handler_errors.inc()
            log.exception("ingest tick failed")

    def flush(self, now_s: float) -> bool:
        """Write everything pending now, ignoring backoff; True when nothing is left pending."""
        try:
            with self._lock:
                self._cut()
                self._retry_at_s = 0.0
                self._letters_retry_at_s = 0.0
            self.drain(now_s, force=True)
            with self._lock:
                return not self._ready and not self._letters
        except Exception:
            self.metrics.handler_errors.inc()
            log.exception("ingest flush failed")
            return False

    def run_writer(self, stop: threading.Event, clock: Callable[[], float]) -> None:
        """Serve as the writer thread: write batches as they are cut; tick a few times a second."""
        with self._lock:
            self._threaded = True
        try:
            while not stop.is_set():
                with self._lock:
                    if not self._ready:
                        self._wake.wait(0.1)
                self.tick(clock())
        finally:
            with self._lock:
                self._threaded = False

    def drain(self, now_s: float, *, force: bool = False) -> None:
        """Write ready batches (store, else spool), send letters, replay the spool, persist fleet."""
        with self._drain_lock:
            self._write_ready(now_s)
            self._send_letters_if_due(now_s, force=force)
            self._replay(now_s)
            self._persist_fleet(now_s, force=force)
            self._update_gauges(now_s)

    # --- views -----------------------------------------------------------------------------

    @property
    def pending_readings(self) -> int:
        """Readings accepted but not yet written."""
        with self._lock:
            return len(self._open.readings) + self._ready_readings

    @property
    def pending_dead_letters(self) -> int:
        """Dead letters not yet handed to the sink."""
        return len(self._letters)

    def fleet_health(self) -> dict[str, GatewayHealth]:
        """This worker's view of every gateway it has heard from."""
        with self._lock:
            return self._fleet.snapshot()

    def gateway_statuses(self) -> dict[str, GatewayStatus]:
        """The latest status each gateway published."""
        with self._lock:
            return {
                gateway_id: GatewayStatus(
                    gateway_id, health.state, health.fw, health.status_ts, health.status_at_s
                )
                for gateway_id, health in self._fleet.snapshot().items()
                if health.state is not None and health.status_at_s is not None
            }

    # --- internals --------------------------------------------------------------------------

    def _after_handle(self, now_s: float) -> None:
        if self._threaded:
            return
        if self._ready or (
            self._letters
            and (
                len(self._letters) >= DEAD_LETTER_BATCH_SIZE
                or now_s - (self._letters_since_s or now_s) >= self.max_batch_age_s
            )
        ):
            self.drain(now_s)

    def _cut(self) -> None:
        batch = self._open
        if not batch.readings and not batch.acks:
            return
        self._ready.append(batch)
        self._ready_readings += len(batch.readings)
        self._open = Batch()
        self._wake.notify()

    def _cut_if_old(self, now_s: float) -> None:
        started = self._open.first_received_at_s
        if started is not None and now_s - started >= self.max_batch_age_s:
            self._cut()

    def _count(self, decoded: Decoded) -> None:
        metrics = self.metrics
        metrics.messages_received.inc()
        if decoded.whole_message_rejected:
            metrics.messages_rejected.labels(reason=decoded.rejections[0].code).inc()
            return
        rejected = len(decoded.rejections)
        metrics.readings_received.inc(len(decoded.readings) + rejected)
        if decoded.readings:
            metrics.readings_accepted.inc(len(decoded.readings))
        for rejection in decoded.rejections:
            metrics.readings_rejected.labels(reason=rejection.code).inc()

    def _ack_quietly(self, tokens: list[AckToken]) -> None:
        if not tokens or self.acknowledge is None:
            return
        try:
            self.acknowledge(tokens)
            self.metrics.messages_acked.inc(len(tokens))
        except Exception:
            log.exception("acknowledging %d messages failed", len(tokens))

    def _write_ready(self, now_s: float) -> None:
        while True:
            with self._lock:
                if not self._ready:
                    return
                batch = self._ready[0]
            if not self._make_durable(batch, now_s):
                return  # store and spool both refuse: hold the batch (and its acks)
            with self._lock:
                self._ready.popleft()
                self._ready_readings -= len(batch.readings)
            self._ack_quietly(batch.acks)

    def _make_durable(self, batch: Batch, now_s: float) -> bool:
        """Put a batch in the store, else the spool; False when neither would take it."""
        readings = batch.readings
        if not readings:
            return True
        store_was_down = now_s < self._retry_at_s or (self.spool is not None and self.spool.batches)
        if now_s >= self._retry_at_s:
            started = time.perf_counter()
            try:
                self._store.write(readings)
            except TelemetryStoreRefused as exc:
                self.metrics.store_errors.inc()
                log.warning("telemetry store refused a batch (%s); writing one by one", exc)
                return self._write_one_by_one(readings, now_s)
            except TelemetryStoreError as exc:
                self.metrics.store_errors.inc()
                self._store_down(now_s, exc, len(readings))
            except Exception:
                self.metrics.store_errors.inc()
                log.exception("telemetry store failed on a batch; writing its readings one by one")
                return self._write_one_by_one(readings, now_s)
            else:
                self.metrics.batch_write_seconds.observe(time.perf_counter() - started)
                self.metrics.readings_written.inc(len(readings))
                if store_was_down and self._backoff_s > RETRY_BACKOFF_MIN_S:
                    log.warning("telemetry store is back")
                self._backoff_s = RETRY_BACKOFF_MIN_S
                self._retry_at_s = 0.0
                return True
        return self._spool(readings)

    def _store_down(self, now_s: float, exc: Exception, count: int) -> None:
        self._retry_at_s = now_s + self._backoff_s
        log.warning(
            "telemetry store write of %d readings failed (retry in %.1f s): %s",
            count,
            self._backoff_s,
            exc,
        )
        self._backoff_s = min(self._backoff_s * 2, RETRY_BACKOFF_MAX_S)

    def _spool(self, readings: list[Reading]) -> bool:
        if self.spool is None:
            return False
        try:
            self.spool.append(readings)
        except SpoolFull as exc:
            log.error("SPOOL FULL, holding acks so the broker slows down: %s", exc)
            return False
        except OSError:
            log.exception("SPOOL WRITE FAILED, holding acks")
            return False
        self.metrics.readings_spooled.inc(len(readings))
        if self.spool.nearly_full:
            log.error(
                "SPOOL NEARLY FULL: %d of %d bytes in %s; the telemetry store has been away",
                self.spool.bytes_used,
                self.spool.max_bytes,
                self.spool.directory,
            )
        return True

    def _write_one_by_one(self, batch: list[Reading], now_s: float) -> bool:
        """Store what the store will take, dead-letter what it refuses; False if it went away."""
        for done, reading in enumerate(batch):
            try:
                self._store.write([reading])
                self.metrics.readings_written.inc()
            except TelemetryStoreError as exc:
                if not isinstance(exc, TelemetryStoreRefused):
                    self.metrics.store_errors.inc()
                    self._store_down(now_s, exc, len(batch) - done)
                    return self._spool(batch[done:])
                self._refused(reading, exc, now_s)
            except Exception as exc:  # a reading the store cannot represent
                self._refused(reading, exc, now_s)
        return True

    def _refused(self, reading: Reading, exc: Exception, now_s: float) -> None:
        self.metrics.store_errors.inc()
        with self._lock:
            self._add_letter(
                DeadLetterRecord(
                    received_at=from_epoch_s(now_s),
                    topic=f"homesafe/v1/gw/{reading.gateway_id}/telemetry",
                    payload=repr(reading).encode(),
                    payload_truncated=False,
                    gateway_id=reading.gateway_id,
                    reason=f"telemetry store refused sensor {reading.sensor} at ts "
                    f"{reading.ts}: {show(exc)}",
                    rejected_readings=1,
                ),
                now_s,
            )

    def _replay(self, now_s: float) -> None:
        spool = self.spool
        if spool is None or not spool.batches or now_s < self._retry_at_s:
            return
        for _ in range(REPLAY_BATCHES_PER_PASS):
            oldest = spool.oldest()
            if oldest is None:
                return
            path, readings = oldest
            try:
                self._store.write(readings)
            except TelemetryStoreRefused:
                self._write_one_by_one_replay(readings, now_s)
            except TelemetryStoreError as exc:
                self.metrics.store_errors.inc()
                self._store_down(now_s, exc, len(readings))
                return
            spool.remove(path)
            self.metrics.readings_replayed.inc(len(readings))
            self.metrics.readings_written.inc(len(readings))
            if not spool.batches:
                log.warning("spool replayed in full")

    def _write_one_by_one_replay(self, readings: list[Reading], now_s: float) -> None:
        for reading in readings:
            try:
                self._store.write([reading])
            except Exception as exc:
                self._refused(reading, exc, now_s)

    def _add_letter(self, letter: DeadLetterRecord, now_s: float) -> None:
        if self._letters_since_s is None:
            self._letters_since_s = now_s
        self._letters.append(letter)

    def _send_letters_if_due(self, now_s: float, *, force: bool) -> None:
        with self._lock:
            if not self._letters or (not force and now_s < self._letters_retry_at_s):
                return
            old = now_s - (self._letters_since_s or now_s) >= self.max_batch_age_s
            if not (force or old or len(self._letters) >= DEAD_LETTER_BATCH_SIZE):
                return
            letters = self._letters
            self._letters = []
            self._letters_since_s = None
        try:
            self._sink(letters)
            self.metrics.dead_letters.inc(len(letters))
            self._letters_retry_at_s = 0.0
        except Exception:
            self.metrics.dead_letter_errors.inc()
            log.exception("dead-letter sink failed for %d letters; will retry", len(letters))
            self._letters_retry_at_s = now_s + RETRY_BACKOFF_MIN_S * 4
            with self._lock:
                self._letters = letters + self._letters
                self._letters_since_s = now_s
                overflow = len(self._letters) - DEFAULT_MAX_PENDING_DEAD_LETTERS
                if overflow > 0:
                    del self._letters[:overflow]
                    self.metrics.dead_letters_dropped.inc(overflow)
                    log.error("dead-letter sink down: dropped the %d oldest letters", overflow)

    def _persist_fleet(self, now_s: float, *, force: bool) -> None:
        if self._fleet_sink is None:
            return
        if self._fleet_written_at_s is None:
            self._fleet_written_at_s = now_s
        if not force and now_s - self._fleet_written_at_s < self.fleet_interval_s:
            return
        self._fleet_written_at_s = now_s
        with self._lock:
            deltas = self._fleet.take_deltas()
        if not deltas:
            return
        try:
            self._fleet_sink(deltas)
        except Exception:
            log.exception("fleet health write of %d gateways failed; will retry", len(deltas))
            with self._lock:
                self._fleet.restore(deltas)

    def _update_gauges(self, now_s: float) -> None:
        with self._lock:
            oldest = self._ready[0].first_received_at_s if self._ready else None
            if oldest is None:
                oldest = self._open.first_received_at_s
            self.metrics.pending_readings.set(len(self._open.readings) + self._ready_readings)
            self.metrics.pending_batches.set(len(self._ready))
            self.metrics.unacked_messages.set(
                len(self._open.acks) + sum(len(b.acks) for b in self._ready)
            )
        self.metrics.consumer_lag_seconds.set(max(0.0, now_s - oldest) if oldest else 0.0)
        if self.spool is not None:
            self.metrics.spool_bytes.set(self.spool.bytes_used)
            self.metrics.spool_batches.set(self.spool.batches)
            self.metrics.spool_nearly_full.set(1 if self.spool.nearly_full else 0)
