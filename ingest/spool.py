"""A durable on-disk spool of reading batches, for when the telemetry store is away.

One file per batch, written to a temporary name, fsynced and renamed, so a batch is either
whole on disk or absent (kill -9 included). Files are named by a monotonic counter, so
`oldest()` replays in the order batches were spooled. Bounded by total bytes: `append`
refuses with SpoolFull past the limit, and the caller then holds its MQTT acks instead.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import orjson

from ingest.contract import Reading

SUFFIX: Final = ".batch"
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


class Spool:
    """Batches on disk under one directory, oldest first; safe to share between threads."""

    def __init__(self, directory: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        for stale in self.directory.glob("*.tmp"):  # a write that a crash interrupted
            stale.unlink(missing_ok=True)
        self._files: list[Path] = sorted(self.directory.glob(f"*{SUFFIX}"))
        self._bytes = sum(path.stat().st_size for path in self._files)
        self._next = int(self._files[-1].stem) + 1 if self._files else 0

    @property
    def bytes_used(self) -> int:
        """Bytes of spooled batches on disk."""
        return self._bytes

    @property
    def batches(self) -> int:
        """How many batches wait to be replayed."""
        return len(self._files)

    @property
    def nearly_full(self) -> bool:
        """True past 80 % of the size limit."""
        return self._bytes >= self.max_bytes * NEARLY_FULL_FRACTION

    def append(self, readings: Sequence[Reading]) -> Path:
        """Write a batch durably (fsync file and directory); SpoolFull past the limit."""
        body = encode_batch(readings)
        with self._lock:
            if self._bytes + len(body) > self.max_bytes:
                raise SpoolFull(
                    f"spool {self.directory} holds {self._bytes} bytes; limit {self.max_bytes}"
                )
            path = self.directory / f"{self._next:020d}{SUFFIX}"
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
            self._files.append(path)
            self._bytes += len(body)
            return path

    def oldest(self) -> tuple[Path, list[Reading]] | None:
        """The oldest spooled batch (path and readings), or None when the spool is empty."""
        with self._lock:
            if not self._files:
                return None
            path = self._files[0]
        return path, decode_batch(path.read_bytes())

    def remove(self, path: Path) -> None:
        """Forget a batch once it is safely in the store."""
        with self._lock:
            if path in self._files:
                self._files.remove(path)
                self._bytes -= path.stat().st_size
                path.unlink()
