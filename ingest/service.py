"""The ingest use case: decode each message, batch accepted readings into the store,
send rejections to the dead-letter sink, count everything. No exception leaves `handle`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge

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
from ingest.store import TelemetryStore, TelemetryStoreError
from registry.clock import from_epoch_s

log = logging.getLogger(__name__)

DeadLetterSink = Callable[[list[DeadLetterRecord]], None]
KnownGateway = Callable[[str], str | None]

DEFAULT_BATCH_SIZE: Final = 5000
DEFAULT_MAX_BATCH_AGE_S: Final = 1.0
DEFAULT_MAX_PENDING_READINGS: Final = 500_000
DEFAULT_MAX_PENDING_DEAD_LETTERS: Final = 10_000
DEAD_LETTER_BATCH_SIZE: Final = 100
RETRY_BACKOFF_MIN_S: Final = 0.5
RETRY_BACKOFF_MAX_S: Final = 30.0


class IngestMetrics:
    """The ingest counters, on one Prometheus registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        on = registry if registry is not None else REGISTRY
        self.messages_received = Counter(
            "homesafe_ingest_messages_received", "Telemetry messages received.", registry=on
        )
        self.messages_rejected = Counter(
            "homesafe_ingest_messages_rejected",
            "Telemetry messages rejected whole, by reason class.",
            ["reason"],
            registry=on,
        )
        self.readings_received = Counter(
            "homesafe_ingest_readings_received",
            "Readings in messages that were not rejected whole.",
            registry=on,
        )
        self.readings_accepted = Counter(
            "homesafe_ingest_readings_accepted", "Readings that passed validation.", registry=on
        )
        self.readings_rejected = Counter(
            "homesafe_ingest_readings_rejected",
            "Readings rejected alone, by reason class.",
            ["reason"],
            registry=on,
        )
        self.readings_written = Counter(
            "homesafe_ingest_readings_written",
            "Readings written to the telemetry store.",
            registry=on,
        )
        self.readings_dropped = Counter(
            "homesafe_ingest_readings_dropped",
            "Accepted readings dropped because the store stayed down past the buffer limit.",
            registry=on,
        )
        self.store_errors = Counter(
            "homesafe_ingest_store_errors", "Failed telemetry store writes.", registry=on
        )
        self.dead_letters = Counter(
            "homesafe_ingest_dead_letters", "Dead letters handed to the sink.", registry=on
        )
        self.dead_letter_errors = Counter(
            "homesafe_ingest_dead_letter_errors", "Failed dead-letter sink calls.", registry=on
        )
        self.handler_errors = Counter(
            "homesafe_ingest_handler_errors",
            "Unexpected errors caught in the handler.",
            registry=on,
        )
        self.pending_readings = Gauge(
            "homesafe_ingest_pending_readings", "Readings waiting to be written.", registry=on
        )


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
class GatewayProgress:
    """What the telemetry stream says about one gateway."""

    last_seq: int
    last_seen_at_s: float
    messages: int = 1
    missed_messages: int = 0
    repeated_messages: int = 0
    seq_resets: int = 0


class IngestService:
    """Decode, batch and store telemetry; dead-letter what the contract refuses."""

    def __init__(
        self,
        *,
        store: TelemetryStore,
        dead_letter_sink: DeadLetterSink,
        known_gateway: KnownGateway,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_batch_age_s: float = DEFAULT_MAX_BATCH_AGE_S,
        max_pending_readings: int = DEFAULT_MAX_PENDING_READINGS,
        metrics: IngestMetrics | None = None,
    ) -> None:
        self._store = store
        self._sink = dead_letter_sink
        self._known_gateway = known_gateway
        self.batch_size = batch_size
        self.max_batch_age_s = max_batch_age_s
        self.max_pending_readings = max_pending_readings
        self.metrics = metrics if metrics is not None else default_metrics()
        self._lock = threading.RLock()
        self._pending: list[Reading] = []
        self._pending_since_s: float | None = None
        self._letters: list[DeadLetterRecord] = []
        self._letters_since_s: float | None = None
        self._letters_retry_at_s = 0.0
        self._retry_at_s = 0.0
        self._backoff_s = RETRY_BACKOFF_MIN_S
        self._progress: dict[str, GatewayProgress] = {}
        self._statuses: dict[str, GatewayStatus] = {}

    # --- entry points ------------------------------------------------------------------

    def handle(self, topic: str, payload: bytes, received_at_s: float) -> Decoded | None:
        """Take one telemetry message; never raises. Returns the decoding for the caller's use."""
        try:
            decoded = decode_telemetry(
                topic, payload, received_at_s=received_at_s, known_gateway=self._known_gateway
            )
            with self._lock:
                self._count(decoded)
                self._track(decoded, received_at_s)
                if decoded.rejections:
                    letter = dead_letter_for(topic, payload, received_at_s, decoded)
                    if letter is not None:
                        self._add_letter(letter, received_at_s)
                if decoded.readings:
                    if self._pending_since_s is None:
                        self._pending_since_s = received_at_s
                    self._pending.extend(decoded.readings)
                self._flush_if_due(received_at_s)
            return decoded
        except Exception:
            self.metrics.handler_errors.inc()
            log.exception("ingest handler failed on a message from %s", show(topic))
            return None

    def handle_status(
        self, topic: str, payload: bytes, received_at_s: float
    ) -> GatewayStatus | None:
        """Take one status message: keep it, or dead-letter it if malformed; never raises."""
        try:
            if not payload:
                return None  # a cleared retained message, not a status
            status = decode_status(topic, payload, received_at_s=received_at_s)
            with self._lock:
                if isinstance(status, str):
                    decoded = Decoded(gateway_id=None, seq=None, whole_message_rejected=True)
                    decoded.rejections.append(Rejection(status, None, None, "status"))
                    letter = dead_letter_for(topic, payload, received_at_s, decoded)
                    if letter is not None:
                        self._add_letter(letter, received_at_s)
                    self.metrics.messages_rejected.labels(reason="status").inc()
                    self._flush_if_due(received_at_s)
                    return None
                self._statuses[status.gateway_id] = status
                return status
        except Exception:
            self.metrics.handler_errors.inc()
            log.exception("ingest status handler failed on %s", show(topic))
            return None

    def tick(self, now_s: float) -> None:
        """Flush what is due by age (called a few times a second); never raises."""
        try:
            with self._lock:
                self._flush_if_due(now_s)
        except Exception:
            self.metrics.handler_errors.inc()
            log.exception("ingest tick failed")

    def flush(self, now_s: float) -> bool:
        """Write everything pending now, ignoring backoff; True when nothing is left pending."""
        try:
            with self._lock:
                self._retry_at_s = 0.0
                self._write_pending(now_s)
                self._send_letters(now_s)
                return not self._pending and not self._letters
        except Exception:
            self.metrics.handler_errors.inc()
            log.exception("ingest flush failed")
            return False

    # --- views -----------------------------------------------------------------------------

    @property
    def pending_readings(self) -> int:
        """Readings accepted but not yet written."""
        return len(self._pending)

    @property
    def pending_dead_letters(self) -> int:
        """Dead letters not yet handed to the sink."""
        return len(self._letters)

    def gateway_progress(self) -> dict[str, GatewayProgress]:
        """A copy of what the stream says about each gateway (seq, gaps, repeats)."""
        with self._lock:
            return {k: GatewayProgress(**_fields(v)) for k, v in self._progress.items()}

    def gateway_statuses(self) -> dict[str, GatewayStatus]:
        """The latest status each gateway published."""
        with self._lock:
            return dict(self._statuses)

    # --- internals --------------------------------------------------------------------------

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

    def _track(self, decoded: Decoded, received_at_s: float) -> None:
        if decoded.whole_message_rejected or decoded.gateway_id is None or decoded.seq is None:
            return
        seq = decoded.seq
        progress = self._progress.get(decoded.gateway_id)
        if progress is None:
            self._progress[decoded.gateway_id] = GatewayProgress(seq, received_at_s)
            return
        progress.messages += 1
        progress.last_seen_at_s = max(progress.last_seen_at_s, received_at_s)
        if seq == progress.last_seq + 1:
            progress.last_seq = seq
        elif seq > progress.last_seq + 1:
            progress.missed_messages += seq - progress.last_seq - 1
            progress.last_seq = seq
        elif seq == progress.last_seq:
            progress.repeated_messages += 1
        else:  # a lower seq: the gateway restarted its count (or a very late redelivery)
            progress.seq_resets += 1
            progress.last_seq = seq

    def _flush_if_due(self, now_s: float) -> None:
        if self._pending and now_s >= self._retry_at_s:
            old = self._pending_since_s is not None and (
                now_s - self._pending_since_s >= self.max_batch_age_s
            )
            if len(self._pending) >= self.batch_size or old:
                self._write_pending(now_s)
        if self._letters and now_s >= self._letters_retry_at_s:
            old = self._letters_since_s is not None and (
                now_s - self._letters_since_s >= self.max_batch_age_s
            )
            if len(self._letters) >= DEAD_LETTER_BATCH_SIZE or old:
                self._send_letters(now_s)
        self.metrics.pending_readings.set(len(self._pending))

    def _write_pending(self, now_s: float) -> None:
        while self._pending:
            batch = self._pending[: self.batch_size]
            try:
                self._store.write(batch)
            except TelemetryStoreError as exc:
                self.metrics.store_errors.inc()
                self._retry_at_s = now_s + self._backoff_s
                log.warning(
                    "telemetry store write of %d readings failed (retry in %.1f s): %s",
                    len(batch),
                    self._backoff_s,
                    exc,
                )
                self._backoff_s = min(self._backoff_s * 2, RETRY_BACKOFF_MAX_S)
                self._shed_overflow()
                return
            except Exception:
                log.exception("telemetry store refused a batch; writing its readings one by one")
                done = self._write_one_by_one(batch, now_s)
                del self._pending[:done]
                if done < len(batch):
                    self._retry_at_s = now_s + self._backoff_s
                    return
                continue
            else:
                self.metrics.readings_written.inc(len(batch))
            del self._pending[: len(batch)]
            self._backoff_s = RETRY_BACKOFF_MIN_S
            self._retry_at_s = 0.0
        self._pending_since_s = None

    def _write_one_by_one(self, batch: list[Reading], now_s: float) -> int:
        """Store what the store will take, dead-letter what it refuses; how many were done."""
        for done, reading in enumerate(batch):
            try:
                self._store.write([reading])
                self.metrics.readings_written.inc()
            except TelemetryStoreError:
                self.metrics.store_errors.inc()
                return done  # the store went away: the rest stays pending
            except Exception as exc:  # a reading the store cannot represent
                self.metrics.store_errors.inc()
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
        return len(batch)

    def _shed_overflow(self) -> None:
        overflow = len(self._pending) - self.max_pending_readings
        if overflow > 0:
            del self._pending[:overflow]
            self.metrics.readings_dropped.inc(overflow)
            log.error("telemetry store down: dropped the %d oldest pending readings", overflow)

    def _add_letter(self, letter: DeadLetterRecord, now_s: float) -> None:
        if self._letters_since_s is None:
            self._letters_since_s = now_s
        self._letters.append(letter)

    def _send_letters(self, now_s: float) -> None:
        if not self._letters:
            return
        letters = self._letters
        self._letters = []
        try:
            self._sink(letters)
            self.metrics.dead_letters.inc(len(letters))
            self._letters_since_s = None
            self._letters_retry_at_s = 0.0
        except Exception:
            self.metrics.dead_letter_errors.inc()
            log.exception("dead-letter sink failed for %d letters; will retry", len(letters))
            self._letters_retry_at_s = now_s + RETRY_BACKOFF_MIN_S * 4
            self._letters = letters + self._letters
            overflow = len(self._letters) - DEFAULT_MAX_PENDING_DEAD_LETTERS
            if overflow > 0:
                del self._letters[:overflow]
                log.error("dead-letter sink down: dropped the %d oldest dead letters", overflow)


def _fields(progress: GatewayProgress) -> dict[str, float | int]:
    return {name: getattr(progress, name) for name in GatewayProgress.__slots__}
