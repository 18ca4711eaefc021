"""A durable on-disk spool of reading batches and dead letters, for when their store is away.

One file per batch, written to a temporary name, fsynced and renamed, so a batch is either
whole on disk or absent (kill -9 included). Files are named by a monotonic counter, so
`oldest()` replays in the order batches were spooled. Readings (`.batch`, for the telemetry
store) and dead letters (`.letters`, for the case database) are replayed each on its own, so
one store being away never holds back the other's replay. Bounded by total bytes: `append`
refuses with SpoolFull past the limit, and the caller then holds its MQTT acks instead.
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import orjson

from ingest.contract import DeadLetterRecord, Reading
from registry.clock import from_epoch_s

SUFFIX: Final = ".batch"
LETTERS_SUFFIX: Final = ".letters"
DEFAULT_MAX_BYTES: Final = 1024 * 1024 * 1024
NEARLY_FULL_FRACTION: Final = 0.8


class SpoolFull(Exception):
    """The spool has no room for another batch."""


def encode_batch(readings: Sequence[Reading]) -> bytes:
    """Readings as one compact JSON array of arrays."""
    return orjson.dumps([tuple(r) for r in readings])


def decode_batch(body: bytes) -> list[Reading]:
    """The readings a spool file holds."""
    return [Reading._make(row) for row in orjson.loads(body)]


def encode_letters(letters: Sequence[DeadLetterRecord]) -> bytes:
    """Dead letters as one JSON array (payload in base64, receipt time in epoch seconds)."""
    return orjson.dumps(
        [
            {
                "received_at_s": letter.received_at.timestamp(),
                "topic": letter.topic,
                "payload": base64.b64encode(letter.payload).decode("ascii"),
                "payload_truncated": letter.payload_truncated,
                "gateway_id": letter.gateway_id,
                "reason": letter.reason,
                "rejected_readings": letter.rejected_readings,
            }
            for letter in letters
        ]
    )


def decode_letters(body: bytes) -> list[DeadLetterRecord]:
    """The dead letters a spool file holds."""
    rows: list[dict[str, Any]] = orjson.loads(body)
    return [
        DeadLetterRecord(
            received_at=from_epoch_s(row["received_at_s"]),
            topic=row["topic"],
            payload=base64.b64decode(row["payload"]),
            payload_truncated=row["payload_truncated"],
            gateway_id=row["gateway_id"],
            reason=row["reason"],
            rejected_readings=row["rejected_readings"],
        )
        for row in rows
    ]


class Spool:
    """Batches on disk under one directory, oldest first; safe to share between threads."""

    def __init__(self, directory: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        for stale in self.directory.glob("*.tmp"):  # a write that a crash interrupted
            stale.unlink(missing_ok=True)
        self._files: dict[str, list[Path]] = {
            suffix: sorted(self.directory.glob(f"*{suffix}")) for suffix in (SUFFIX, LETTERS_SUFFIX)
        }
        every = [path for paths in self._files.values() for path in paths]
        self._bytes = sum(path.stat().st_size for path in every)
        self._next = max((int(path.stem) for path in every), default=-1) + 1

    @property
    def bytes_used(self) -> int:
        """Bytes of spooled batches on disk."""
        return self._bytes

    @property
    def batches(self) -> int:
        """How many reading batches wait to be replayed."""
        return len(self._files[SUFFIX])

    @property
    def letter_batches(self) -> int:
        """How many batches of dead letters wait to be replayed."""
        return len(self._files[LETTERS_SUFFIX])

    @property
    def nearly_full(self) -> bool:
        """True past 80 % of the size limit."""
        return self._bytes >= self.max_bytes * NEARLY_FULL_FRACTION

    def append(self, readings: Sequence[Reading]) -> Path:
        """Write a batch of readings durably (fsync file and directory); SpoolFull past the limit."""
        return self._write(encode_batch(readings), SUFFIX)

    def append_letters(self, letters: Sequence[DeadLetterRecord]) -> Path:
        """Write dead letters durably (fsync file and directory); SpoolFull past the limit."""
        return self._write(encode_letters(letters), LETTERS_SUFFIX)

    def _write(self, body: bytes, suffix: str) -> Path:
        with self._lock:
            if self._bytes + len(body) > self.max_bytes:
                raise SpoolFull(
                    f"spool {self.directory} holds {self._bytes} bytes; limit {self.max_bytes}"
                )
            path = self.directory / f"{self._next:020d}{suffix}"
            self._next += 1
            temporary = path.with_suffix(".tmp")
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(descriptor, body)
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            os.replace(temporary, path)
            directory = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
            self._files[suffix].append(path)
            self._bytes += len(body)
            return path

    def oldest(self) -> tuple[Path, list[Reading]] | None:
        """The oldest spooled batch of readings (path and readings), or None."""
        with self._lock:
            if not self._files[SUFFIX]:
                return None
            path = self._files[SUFFIX][0]
        return path, decode_batch(path.read_bytes())

    def oldest_letters(self) -> tuple[Path, list[DeadLetterRecord]] | None:
        """The oldest spooled batch of dead letters (path and letters), or None."""
        with self._lock:
            if not self._files[LETTERS_SUFFIX]:
                return None
            path = self._files[LETTERS_SUFFIX][0]
        return path, decode_letters(path.read_bytes())

    def remove(self, path: Path) -> None:
        """Forget a batch once it is safely in its store."""
        with self._lock:
            files = self._files[path.suffix]
            if path in files:
                files.remove(path)
                self._bytes -= path.stat().st_size
                path.unlink()
