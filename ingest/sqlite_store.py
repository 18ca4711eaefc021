"""The embedded telemetry store: one SQLite file in WAL mode, safe to share between threads."""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import numpy as np

from ingest.contract import Reading
from ingest.store import ReadingColumns, TelemetryStoreError, epoch_bounds_s, has_measurement

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS reading (
        gateway_id TEXT NOT NULL,
        sensor TEXT NOT NULL,
        ts INTEGER NOT NULL,
        home_id TEXT,
        temperature_c REAL,
        humidity_pct REAL,
        wme_pct REAL,
        battery_pct REAL,
        PRIMARY KEY (gateway_id, sensor, ts)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX IF NOT EXISTS ix_reading_home_id_ts ON reading (home_id, ts)",
)

# A repeat of (gateway_id, sensor, ts) merges like an InfluxDB point: fields given win,
# fields left out keep what was stored.
_UPSERT = """
    INSERT INTO reading (gateway_id, sensor, ts, home_id,
                         temperature_c, humidity_pct, wme_pct, battery_pct)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (gateway_id, sensor, ts) DO UPDATE SET
        home_id = COALESCE(excluded.home_id, reading.home_id),
        temperature_c = COALESCE(excluded.temperature_c, reading.temperature_c),
        humidity_pct = COALESCE(excluded.humidity_pct, reading.humidity_pct),
        wme_pct = COALESCE(excluded.wme_pct, reading.wme_pct),
        battery_pct = COALESCE(excluded.battery_pct, reading.battery_pct)
"""

_SELECT = (
    "SELECT gateway_id, sensor, ts, temperature_c, humidity_pct, wme_pct, battery_pct, home_id"
    " FROM reading"
)
_SELECT_COLUMNS = (
    "SELECT gateway_id, sensor, ts, temperature_c, humidity_pct, wme_pct, battery_pct FROM reading"
)


def _where(
    start: datetime,
    end: datetime,
    home_id: str | None,
    gateway_id: str | None,
    sensor: str | None,
    gateway_ids: Sequence[str] | None,
) -> tuple[str, list[object]]:
    """The WHERE clause (without the word) and its parameters for a query's bounds and filters."""
    low_s, high_s = epoch_bounds_s(start, end)
    sql = "ts >= ? AND ts < ?"
    params: list[object] = [low_s, high_s]
    for column, value in (("home_id", home_id), ("gateway_id", gateway_id), ("sensor", sensor)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    if gateway_ids is not None:
        sql += f" AND gateway_id IN ({', '.join('?' * len(gateway_ids))})"
        params.extend(gateway_ids)
    return sql, params


class SqliteTelemetryStore:
    """TelemetryStore on one SQLite file; one writer at a time, readers alongside (WAL)."""

    def __init__(self, path: str, *, busy_timeout_s: float = 10.0) -> None:
        self._path = path
        self._timeout_s = busy_timeout_s
        self._shared = path == ":memory:"  # one in-memory database: every call shares it
        self._write_lock = threading.Lock()
        self._idle_readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._closed = False
        try:
            self._writer = self._connect()
            with self._write_lock:
                for statement in _SCHEMA:
                    self._writer.execute(statement)
        except sqlite3.Error as exc:
            raise TelemetryStoreError(f"cannot open SQLite telemetry store {path}: {exc}") from exc

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self._path, timeout=self._timeout_s, isolation_level=None, check_same_thread=False
        )
        connection.execute(f"PRAGMA busy_timeout = {int(self._timeout_s * 1000)}")
        if not self._shared:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
        with self._all_lock:
            self._all.append(connection)
        return connection

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        if self._closed:
            raise TelemetryStoreError("SQLite telemetry store is closed")
        if self._shared:
            with self._write_lock:
                yield self._writer
            return
        try:
            connection = self._idle_readers.get_nowait()
        except queue.Empty:
            connection = self._connect()
        try:
            yield connection
        finally:
            self._idle_readers.put(connection)

    def write(self, readings: Sequence[Reading]) -> None:
        """Upsert readings in one transaction."""
        rows = [
            (
                r.gateway_id,
                r.sensor,
                r.ts,
                r.home_id,
                r.temperature_c,
                r.humidity_pct,
                r.wme_pct,
                r.battery_pct,
            )
            for r in readings
            if has_measurement(r)
        ]
        if not rows:
            return
        if self._closed:
            raise TelemetryStoreError("SQLite telemetry store is closed")
        with self._write_lock:
            try:
                self._writer.execute("BEGIN IMMEDIATE")
                try:
                    self._writer.executemany(_UPSERT, rows)
                except BaseException:
                    self._writer.execute("ROLLBACK")
                    raise
                self._writer.execute("COMMIT")
            except sqlite3.Error as exc:
                raise TelemetryStoreError(f"SQLite telemetry write failed: {exc}") from exc

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
        """Readings with start <= ts < end, ordered by ts, sensor, gateway_id."""
        if gateway_ids is not None and not gateway_ids:
            return []
        where, params = _where(start, end, home_id, gateway_id, sensor, gateway_ids)
        rows = self._select(f"{_SELECT} WHERE {where} ORDER BY ts, sensor, gateway_id", params)
        return [Reading._make(row) for row in rows]

    def query_columns(
        self,
        *,
        start: datetime,
        end: datetime,
        gateway_ids: Sequence[str] | None = None,
        part: tuple[int, int] | None = None,
    ) -> ReadingColumns:
        """The readings `query` would return, as columns and in no order (`part`: see the protocol)."""
        if gateway_ids is not None and not gateway_ids:
            return ReadingColumns.empty()
        where, params = _where(start, end, None, None, None, gateway_ids)
        if part is not None:
            where += " AND unicode(substr(gateway_id, -1)) % ? = ?"
            params += [part[1], part[0]]
        rows = self._select(f"{_SELECT_COLUMNS} WHERE {where}", params)
        if not rows:
            return ReadingColumns.empty()
        gateway_id, sensor, ts, *measured = zip(*rows, strict=True)
        return ReadingColumns(
            np.array(gateway_id, dtype=object),
            np.array(sensor, dtype=object),
            np.array(ts, dtype=np.int64),
            np.array(measured, dtype=np.float64).T.copy(),  # None becomes NaN
        )

    def _select(self, sql: str, params: list[object]) -> list[tuple[Any, ...]]:
        try:
            with self._reader() as connection:
                return connection.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise TelemetryStoreError(f"SQLite telemetry query failed: {exc}") from exc

    def ping(self) -> bool:
        """True when the file answers a trivial query."""
        try:
            with self._reader() as connection:
                connection.execute("SELECT 1 FROM reading LIMIT 1").fetchall()
            return True
        except (sqlite3.Error, TelemetryStoreError):
            return False

    def close(self) -> None:
        """Close every connection this store opened."""
        self._closed = True
        with self._write_lock, self._all_lock:
            for connection in self._all:
                connection.close()
            self._all.clear()
