"""The telemetry store interface, and the one place that picks an adapter from a URL."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import numpy as np
import numpy.typing as npt

from ingest.contract import Reading

MEASUREMENTS = ("temperature_c", "humidity_pct", "wme_pct", "battery_pct")


class TelemetryStoreError(Exception):
    """The store could not do what was asked; the caller may retry or spool."""


class TelemetryStoreRefused(TelemetryStoreError):
    """The store is up but refused the batch (e.g. a point it cannot take): retrying is futile."""


@dataclass(frozen=True)
class ReadingColumns:
    """Readings as columns, in no particular order: what a fleet-wide read hands the detectors.

    A steady detector pass reads a couple of million readings; as `Reading` tuples they cost
    more to make, sort and take apart again than the store takes to answer. Columns go
    straight into numpy. `values` holds MEASUREMENTS in order, NaN where a reading lacks one.
    """

    gateway_id: npt.NDArray[np.object_]
    sensor: npt.NDArray[np.object_]
    ts: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]  # (readings, len(MEASUREMENTS))

    def __len__(self) -> int:
        return int(self.ts.size)

    @classmethod
    def empty(cls) -> ReadingColumns:
        """No readings."""
        return cls(
            np.empty(0, dtype=object),
            np.empty(0, dtype=object),
            np.empty(0, dtype=np.int64),
            np.empty((0, len(MEASUREMENTS)), dtype=np.float64),
        )

    @classmethod
    def from_readings(cls, readings: Sequence[Reading]) -> ReadingColumns:
        """Columns of `Reading`s (None measurements become NaN)."""
        if not readings:
            return cls.empty()
        return cls(
            np.fromiter((r.gateway_id for r in readings), dtype=object, count=len(readings)),
            np.fromiter((r.sensor for r in readings), dtype=object, count=len(readings)),
            np.fromiter((r.ts for r in readings), dtype=np.int64, count=len(readings)),
            np.array(
                [(r.temperature_c, r.humidity_pct, r.wme_pct, r.battery_pct) for r in readings],
                dtype=np.float64,
            ).reshape(len(readings), len(MEASUREMENTS)),
        )

    @classmethod
    def concat(cls, parts: Iterable[ReadingColumns]) -> ReadingColumns:
        """One set of columns from several."""
        kept = [part for part in parts if len(part)]
        if not kept:
            return cls.empty()
        if len(kept) == 1:
            return kept[0]
        return cls(
            np.concatenate([p.gateway_id for p in kept]),
            np.concatenate([p.sensor for p in kept]),
            np.concatenate([p.ts for p in kept]),
            np.concatenate([p.values for p in kept]),
        )


class TelemetryStore(Protocol):
    """Where readings live: idempotent on (gateway_id, sensor, ts)."""

    def write(self, readings: Sequence[Reading]) -> None:
        """Store readings; a repeat of (gateway_id, sensor, ts) overwrites, never doubles."""
        ...

    def query(
        self,
        *,
        start: datetime,
        end: datetime,
        home_id: str | None = None,
        gateway_id: str | None = None,
        sensor: str | None = None,
        gateway_ids: Sequence[str] | None = None,
    ) -> list[Reading]:
        """Readings with start <= ts < end, ordered by ts then sensor (then gateway_id).

        `gateway_ids` reads a set of gateways in one query (the detectors' first pass reads
        stored history gateway set by gateway set, so memory stays bounded).
        """
        ...

    def query_columns(
        self,
        *,
        start: datetime,
        end: datetime,
        gateway_ids: Sequence[str] | None = None,
        part: tuple[int, int] | None = None,
    ) -> ReadingColumns:
        """The readings `query` would return for these bounds, as columns and in no order.

        `part=(k, n)` keeps the gateways whose id ends in a character c with ord(c) % n == k
        (`gateway_part`): n such reads, run side by side, cover the fleet once."""
        ...

    def ping(self) -> bool:
        """True when the store answers."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def epoch_bounds_s(start: datetime, end: datetime) -> tuple[int, int]:
    """Integer epoch bounds (low inclusive, high exclusive) for aware datetimes."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("query start and end must be timezone-aware")
    return math.ceil(start.timestamp()), math.ceil(end.timestamp())


def gateway_part(gateway_id: str, parts: int) -> int:
    """Which of `parts` disjoint parts of the fleet a gateway falls in (by its last character)."""
    return ord(gateway_id[-1]) % parts


def has_measurement(reading: Reading) -> bool:
    """True when a reading carries at least one measurement worth storing."""
    return not (
        reading.temperature_c is None
        and reading.humidity_pct is None
        and reading.wme_pct is None
        and reading.battery_pct is None
    )


def sort_key(reading: Reading) -> tuple[int, str, str]:
    """The order query() returns: ts, then sensor, then gateway_id."""
    return (reading.ts, reading.sensor, reading.gateway_id)


def open_telemetry_store(url: str) -> TelemetryStore:
    """An adapter for `influxdb://[user:pass@]host:port/db`, `influxdbs://…` or `sqlite:///path`."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("influxdb", "influxdbs"):
        from ingest.influx import InfluxTelemetryStore

        if not parts.hostname:
            raise ValueError(f"telemetry URL {url!r} has no host")
        database = parts.path.lstrip("/")
        if not database or "/" in database:
            raise ValueError(f"telemetry URL {url!r} must name one database: …/dbname")
        http_scheme = "https" if scheme == "influxdbs" else "http"
        port = parts.port or 8086
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        return InfluxTelemetryStore(
            base_url=f"{http_scheme}://{host}:{port}",
            database=unquote(database),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )
    if scheme == "sqlite":
        from ingest.sqlite_store import SqliteTelemetryStore

        if not url.lower().startswith("sqlite:///"):
            raise ValueError(f"telemetry URL {url!r} must be sqlite:///relative or sqlite:////abs")
        raw_path = unquote(url[len("sqlite:///") :].split("?", 1)[0])
        if not raw_path:
            raise ValueError(f"telemetry URL {url!r} has no file path")
        if raw_path == ":memory:":
            return SqliteTelemetryStore(":memory:")
        path = Path(raw_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteTelemetryStore(str(path))
    raise ValueError(f"telemetry URL {url!r}: scheme must be influxdb, influxdbs or sqlite")
