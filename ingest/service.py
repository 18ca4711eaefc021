"""The ingest use case: decode each message, batch accepted readings into the store (or the
on-disk spool when the store is away), dead-letter rejections, track fleet health, and
acknowledge each message only once everything it caused is durable. No exception leaves
`handle_many`, `handle` or `handle_status`.

Durable before acknowledged: a message's ack token rides in the batch its readings and its
dead letter (if any) joined; the batch is acknowledged only once its readings are in the
telemetry store or the fsynced spool, and its dead letters in the case database or the
fsynced spool. Acks go out in the order messages came in.

Backpressure: when a batch can be made durable nowhere (both stores and the spool refuse),
it stays in memory unacked, so the broker stops sending once the client's receive maximum of
unacked messages is reached: memory is bounded by that window, not by the length of the outage.

Cost per message is kept low for the backlog a reconnecting subscriber drains: the MQTT
reader hands over every message of one socket read at once (`handle_many`), which takes the
lock once and updates the Prometheus counters once per call, not per message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter as Tally
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Final

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from ingest.contract import (
    STATUS_TOPIC_SUFFIX,
    TELEMETRY_TOPIC_PREFIX,
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
Message = tuple[str, bytes, AckToken | None]  # topic, payload, ack token (None for QoS 0)

DEFAULT_BATCH_SIZE: Final = 5000
DEFAULT_MAX_BATCH_AGE_S: Final = 0.25  # a reading waits at most this long for company
DEFAULT_ACK_WINDOW: Final = 1000
DEFAULT_FLEET_INTERVAL_S: Final = 5.0
REPLAY_BATCHES_PER_PASS: Final = 4
RETRY_BACKOFF_MIN_S: Final = 0.5
RETRY_BACKOFF_MAX_S: Final = 30.0
LETTER_RETRY_S: Final = 2.0
FLEET_STRIKES: Final = 3  # a gateway's delta refused alone this often (others written) is dropped


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
        self.dead_letters = counter("dead_letters", "Dead letters stored by the sink.")
        self.dead_letter_errors = counter("dead_letter_errors", "Failed dead-letter sink calls.")
        self.dead_letters_spooled = counter(
            "dead_letters_spooled", "Dead letters written to the spool while the sink was away."
        )
        self.fleet_errors = counter("fleet_errors", "Failed fleet-health writes.")
        self.fleet_deltas_dropped = counter(
            "fleet_deltas_dropped",
            "Gateways' fleet-health deltas dropped after the store refused them alone.",
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
    """Readings and dead letters cut for one write, with the acks of the messages they came in."""

    readings: list[Reading] = field(default_factory=list)
    letters: list[DeadLetterRecord] = field(default_factory=list)
    acks: list[AckToken] = field(default_factory=list)
    first_received_at_s: float | None = None
    readings_durable: bool = False  # the readings are in, the letters may still wait


@dataclass(slots=True)
class _Tally:
    """Counts of one handle_many call, added to the Prometheus counters once."""

    messages: int = 0
    readings_received: int = 0
    readings_accepted: int = 0
    messages_rejected: Tally[str] = field(default_factory=Tally)
    readings_rejected: Tally[str] = field(default_factory=Tally)
    handler_errors: int = 0


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
        self._lock = threading.Lock()  # guards the open batch, the ready queue and the fleet
        self._drain_lock = threading.Lock()  # one writer at a time, so acks go out in order
        self._wake = threading.Condition(self._lock)
        self._threaded = False
        self._open = Batch()
        self._ready: deque[Batch] = deque()
        self._ready_readings = 0
        self._retry_at_s = 0.0
        self._backoff_s = RETRY_BACKOFF_MIN_S
        self._letters_retry_at_s = 0.0
        self._fleet = FleetTracker()
        self._fleet_written_at_s: float | None = None
        self._fleet_strikes: dict[str, int] = {}
        self._fleet_lock = threading.Lock()  # one fleet-health write at a time
        self._fleet_threaded = False

    # --- entry points ------------------------------------------------------------------

    def handle_many(self, messages: Sequence[Message], received_at_s: float) -> list[GatewayStatus]:
        """Take the messages of one socket read (telemetry and status); never raises.

        Returns the statuses among them, for the caller's status hook."""
        tally = _Tally()
        decoded_all: list[tuple[Decoded | GatewayStatus | None, DeadLetterRecord | None]] = []
        for topic, payload, _ack in messages:
            decoded_all.append(self._decode(topic, payload, received_at_s, tally))
        statuses: list[GatewayStatus] = []
        taken = 0
        try:
            with self._lock:
                fleet = self._fleet
                for (_topic, _payload, ack), (outcome, letter) in zip(
                    messages, decoded_all, strict=True
                ):
                    batch = self._open
                    if batch.first_received_at_s is None:
                        batch.first_received_at_s = received_at_s
                    if type(outcome) is Decoded:
                        fleet.observe(outcome, received_at_s)
                        if outcome.readings:
                            batch.readings.extend(outcome.readings)
                    elif type(outcome) is GatewayStatus:
                        fleet.observe_status(outcome)
                        statuses.append(outcome)
                    if letter is not None:
                        batch.letters.append(letter)
                    if ack is not None:
                        batch.acks.append(ack)
                    taken += 1
                    if len(batch.readings) >= self.batch_size or len(batch.acks) >= self.ack_window:
                        self._cut()
        except Exception:
            # Only a bug gets here: ack what was not taken, so the broker does not resend it
            # forever (what was taken is acked with its batch, never twice).
            tally.handler_errors += 1
            log.exception("ingest failed to batch %d messages", len(messages) - taken)
            self._ack_quietly([ack for _t, _p, ack in messages[taken:] if ack is not None])
        self._count(tally)
        self._after_handle(received_at_s)
        return statuses

    def handle(
        self, topic: str, payload: bytes, received_at_s: float, ack: AckToken | None = None
    ) -> Decoded | None:
        """Take one telemetry message; never raises. `ack` is handed back once it is durable."""
        tally = _Tally()
        outcome, letter = self._decode(topic, payload, received_at_s, tally)
        self._take_one(outcome, letter, ack, received_at_s, tally)
        return outcome if type(outcome) is Decoded else None

    def handle_status(
        self, topic: str, payload: bytes, received_at_s: float, ack: AckToken | None = None
    ) -> GatewayStatus | None:
        """Take one status message: keep it, or dead-letter it if malformed; never raises."""
        tally = _Tally()
        outcome, letter = self._decode_status(topic, payload, received_at_s, tally)
        self._take_one(outcome, letter, ack, received_at_s, tally)
        return outcome

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
                return not self._ready
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

    def run_fleet_writer(self, stop: threading.Event, clock: Callable[[], float]) -> None:
        """Serve as the fleet-health thread: persist fleet health every fleet_interval_s.

        Its own thread, so a slow case database (a large fleet's merge takes row locks on
        PostgreSQL) never holds back the telemetry writes, nor their acks."""
        self._fleet_threaded = True
        try:
            while not stop.wait(min(1.0, self.fleet_interval_s)):
                try:
                    self._persist_fleet(clock(), force=False)
                except Exception:
                    self.metrics.handler_errors.inc()
                    log.exception("fleet health write failed")
        finally:
            self._fleet_threaded = False

    def drain(self, now_s: float, *, force: bool = False) -> None:
        """Write ready batches (store, else spool), replay the spool, persist fleet health."""
        with self._drain_lock:
            self._write_ready(now_s)
            self._replay(now_s)
            if force or not self._fleet_threaded:
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
        """Dead letters not yet stored (their messages are not acknowledged)."""
        with self._lock:
            return len(self._open.letters) + sum(len(batch.letters) for batch in self._ready)

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

    # --- decoding (no lock held) -------------------------------------------------------------

    def _decode(
        self, topic: str, payload: bytes, received_at_s: float, tally: _Tally
    ) -> tuple[Decoded | GatewayStatus | None, DeadLetterRecord | None]:
        try:
            if topic.endswith(STATUS_TOPIC_SUFFIX) and topic.startswith(TELEMETRY_TOPIC_PREFIX):
                return self._decode_status(topic, payload, received_at_s, tally)
            decoded = decode_telemetry(
                topic, payload, received_at_s=received_at_s, known_gateway=self._known_gateway
            )
            tally.messages += 1
            if decoded.whole_message_rejected:
                tally.messages_rejected[decoded.rejections[0].code] += 1
            else:
                accepted = len(decoded.readings)
                tally.readings_received += accepted + len(decoded.rejections)
                tally.readings_accepted += accepted
                for rejection in decoded.rejections:
                    tally.readings_rejected[rejection.code] += 1
            if not decoded.rejections:
                return decoded, None
            return decoded, dead_letter_for(topic, payload, received_at_s, decoded)
        except Exception:
            tally.handler_errors += 1
            log.exception("ingest handler failed on a message from %s", show(topic))
            return None, None

    def _decode_status(
        self, topic: str, payload: bytes, received_at_s: float, tally: _Tally
    ) -> tuple[GatewayStatus | None, DeadLetterRecord | None]:
        try:
            if not payload:  # a retained status being cleared
                return None, None
            status = decode_status(topic, payload, received_at_s=received_at_s)
            if not isinstance(status, str):
                return status, None
            decoded = Decoded(gateway_id=None, seq=None, whole_message_rejected=True)
            decoded.rejections.append(Rejection(status, None, None, "status"))
            tally.messages_rejected["status"] += 1
            return None, dead_letter_for(topic, payload, received_at_s, decoded)
        except Exception:
            tally.handler_errors += 1
            log.exception("ingest status handler failed on %s", show(topic))
            return None, None

    def _take_one(
        self,
        outcome: Decoded | GatewayStatus | None,
        letter: DeadLetterRecord | None,
        ack: AckToken | None,
        received_at_s: float,
        tally: _Tally,
    ) -> None:
        try:
            with self._lock:
                batch = self._open
                if batch.first_received_at_s is None:
                    batch.first_received_at_s = received_at_s
                if type(outcome) is Decoded:
                    self._fleet.observe(outcome, received_at_s)
                    batch.readings.extend(outcome.readings)
                elif type(outcome) is GatewayStatus:
                    self._fleet.observe_status(outcome)
                if letter is not None:
                    batch.letters.append(letter)
                if ack is not None:
                    batch.acks.append(ack)
                if len(batch.readings) >= self.batch_size or len(batch.acks) >= self.ack_window:
                    self._cut()
        except Exception:
            tally.handler_errors += 1
            log.exception("ingest failed to batch a message")
            if ack is not None:
                self._ack_quietly([ack])
        self._count(tally)
        self._after_handle(received_at_s)

    def _count(self, tally: _Tally) -> None:
        metrics = self.metrics
        if tally.messages:
            metrics.messages_received.inc(tally.messages)
        if tally.readings_received:
            metrics.readings_received.inc(tally.readings_received)
        if tally.readings_accepted:
            metrics.readings_accepted.inc(tally.readings_accepted)
        for code, count in tally.messages_rejected.items():
            metrics.messages_rejected.labels(reason=code).inc(count)
        for code, count in tally.readings_rejected.items():
            metrics.readings_rejected.labels(reason=code).inc(count)
        if tally.handler_errors:
            metrics.handler_errors.inc(tally.handler_errors)

    # --- batching (lock held) ----------------------------------------------------------------

    def _after_handle(self, now_s: float) -> None:
        if not self._threaded and self._ready:
            self.drain(now_s)

    def _cut(self) -> None:
        batch = self._open
        if not batch.readings and not batch.acks and not batch.letters:
            return
        self._ready.append(batch)
        self._ready_readings += len(batch.readings)
        self._open = Batch()
        self._wake.notify()

    def _cut_if_old(self, now_s: float) -> None:
        started = self._open.first_received_at_s
        if started is not None and now_s - started >= self.max_batch_age_s:
            self._cut()

    # --- making batches durable (writer) -----------------------------------------------------

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
            if not batch.readings_durable:
                if not self._make_durable(batch, now_s):
                    return  # store and spool both refuse: hold the batch (and its acks)
                batch.readings_durable = True
            if batch.letters and not self._letters_durable(batch.letters, now_s):
                return  # case database and spool both refuse: hold the batch (and its acks)
            with self._lock:
                self._ready.popleft()
                self._ready_readings -= len(batch.readings)
            self._ack_quietly(batch.acks)

    def _make_durable(self, batch: Batch, now_s: float) -> bool:
        """Put a batch's readings in the store, else the spool; False when neither takes them.

        Readings the store refuses alone become dead letters of this same batch."""
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
                return self._write_one_by_one(readings, batch.letters, now_s)
            except TelemetryStoreError as exc:
                self.metrics.store_errors.inc()
                self._store_down(now_s, exc, len(readings))
            except Exception:
                self.metrics.store_errors.inc()
                log.exception("telemetry store failed on a batch; writing its readings one by one")
                return self._write_one_by_one(readings, batch.letters, now_s)
            else:
                self.metrics.batch_write_seconds.observe(time.perf_counter() - started)
                self.metrics.readings_written.inc(len(readings))
                if store_was_down and self._backoff_s > RETRY_BACKOFF_MIN_S:
                    log.warning("telemetry store is back")
                self._backoff_s = RETRY_BACKOFF_MIN_S
                self._retry_at_s = 0.0
                return True
        return self._spool(readings)

    def _letters_durable(self, letters: list[DeadLetterRecord], now_s: float) -> bool:
        """Dead letters into the case database, else the spool; False when neither takes them."""
        if now_s >= self._letters_retry_at_s:
            try:
                self._sink(letters)
            except Exception:
                self.metrics.dead_letter_errors.inc()
                log.exception("dead-letter store failed for %d letters", len(letters))
                self._letters_retry_at_s = now_s + LETTER_RETRY_S
            else:
                self.metrics.dead_letters.inc(len(letters))
                self._letters_retry_at_s = 0.0
                return True
        if self.spool is None:
            return False
        try:
            self.spool.append_letters(letters)
        except (SpoolFull, OSError):
            log.exception("SPOOL WRITE OF %d DEAD LETTERS FAILED, holding acks", len(letters))
            return False
        self.metrics.dead_letters_spooled.inc(len(letters))
        return True

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

    def _write_one_by_one(
        self, batch: list[Reading], letters: list[DeadLetterRecord], now_s: float
    ) -> bool:
        """Store what the store will take, dead-letter what it refuses; spool if it went away."""
        for done, reading in enumerate(batch):
            try:
                self._store.write([reading])
                self.metrics.readings_written.inc()
            except TelemetryStoreError as exc:
                if not isinstance(exc, TelemetryStoreRefused):
                    self.metrics.store_errors.inc()
                    self._store_down(now_s, exc, len(batch) - done)
                    return self._spool(batch[done:])
                letters.append(self._refused(reading, exc, now_s))
            except Exception as exc:  # a reading the store cannot represent
                letters.append(self._refused(reading, exc, now_s))
        return True

    def _refused(self, reading: Reading, exc: Exception, now_s: float) -> DeadLetterRecord:
        self.metrics.store_errors.inc()
        return DeadLetterRecord(
            received_at=from_epoch_s(now_s),
            topic=f"homesafe/v1/gw/{reading.gateway_id}/telemetry",
            payload=repr(reading).encode(),
            payload_truncated=False,
            gateway_id=reading.gateway_id,
            reason=f"telemetry store refused sensor {reading.sensor} at ts "
            f"{reading.ts}: {show(exc)}",
            rejected_readings=1,
        )

    def _replay(self, now_s: float) -> None:
        spool = self.spool
        if spool is None:
            return
        if spool.letter_batches and now_s >= self._letters_retry_at_s:
            self._replay_letters(spool, now_s)
        if not spool.batches or now_s < self._retry_at_s:
            return
        for _ in range(REPLAY_BATCHES_PER_PASS):
            oldest = spool.oldest()
            if oldest is None:
                return
            path, readings = oldest
            refused: list[DeadLetterRecord] = []
            try:
                self._store.write(readings)
            except TelemetryStoreRefused:
                for reading in readings:
                    try:
                        self._store.write([reading])
                    except Exception as exc:
                        refused.append(self._refused(reading, exc, now_s))
            except TelemetryStoreError as exc:
                self.metrics.store_errors.inc()
                self._store_down(now_s, exc, len(readings))
                return
            if refused and not self._letters_durable(refused, now_s):
                return  # the refused readings' letters must be kept before the batch goes
            spool.remove(path)
            self.metrics.readings_replayed.inc(len(readings))
            self.metrics.readings_written.inc(len(readings) - len(refused))
            if not spool.batches:
                log.warning("spool replayed in full")

    def _replay_letters(self, spool: Spool, now_s: float) -> None:
        for _ in range(REPLAY_BATCHES_PER_PASS):
            oldest = spool.oldest_letters()
            if oldest is None:
                return
            path, letters = oldest
            try:
                self._sink(letters)
            except Exception:
                self.metrics.dead_letter_errors.inc()
                log.exception(
                    "dead-letter store still failing; %d letters stay spooled", len(letters)
                )
                self._letters_retry_at_s = now_s + LETTER_RETRY_S
                return
            spool.remove(path)
            self.metrics.dead_letters.inc(len(letters))

    # --- fleet health ------------------------------------------------------------------------

    def _persist_fleet(self, now_s: float, *, force: bool) -> None:
        if self._fleet_sink is None:
            return
        with self._fleet_lock:
            self._persist_fleet_now(now_s, force=force)

    def _persist_fleet_now(self, now_s: float, *, force: bool) -> None:
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
            self.metrics.fleet_errors.inc()
            log.exception("fleet health write of %d gateways failed", len(deltas))
            failed = (
                self._persist_fleet_one_by_one(self._fleet_sink, deltas)
                if len(deltas) > 1
                else deltas
            )
            with self._lock:
                self._fleet.restore(failed)
        else:
            self._fleet_strikes.clear()

    def _persist_fleet_one_by_one(
        self, sink: FleetSink, deltas: list[GatewayDelta]
    ) -> list[GatewayDelta]:
        """Each gateway in its own write, so one the store refuses holds back no other.

        Returns the deltas to try again: all of them when none went in (the store is away);
        else those refused, except one refused FLEET_STRIKES times running, which is dropped."""
        failed: list[GatewayDelta] = []
        last_error: Exception | None = None
        for delta in deltas:
            try:
                sink([delta])
            except Exception as exc:
                failed.append(delta)
                last_error = exc
            else:
                self._fleet_strikes.pop(delta.gateway_id, None)
        if len(failed) == len(deltas):
            return failed
        kept = []
        for delta in failed:
            strikes = self._fleet_strikes.get(delta.gateway_id, 0) + 1
            if strikes >= FLEET_STRIKES:
                self._fleet_strikes.pop(delta.gateway_id, None)
                self.metrics.fleet_deltas_dropped.inc()
                log.error(
                    "fleet health of gateway %s refused %d times while others were written; "
                    "dropping this update: %s",
                    delta.gateway_id,
                    strikes,
                    show(last_error),
                )
                continue
            self._fleet_strikes[delta.gateway_id] = strikes
            kept.append(delta)
        return kept

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
            self.metrics.spool_batches.set(self.spool.batches + self.spool.letter_batches)
            self.metrics.spool_nearly_full.set(1 if self.spool.nearly_full else 0)
