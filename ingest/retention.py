"""Telemetry retention: hourly rollups kept forever, raw readings kept for a set number of days.

docs/operations.md, "Retention". Every hour the scheduler's retention job (homesafe/scheduler.py)

1. rolls up every *final* hour not yet rolled up: one row per sensor and hour with the mean,
   minimum, maximum and count of each measurement. An hour is final once no reading for it can
   still arrive: gateways may send readings up to 35 days old (docs/gateways.md), so an hour
   becomes final LATE_LIMIT_S (36 days) after it ends. Rolling up is idempotent (a rerun
   overwrites the same rows), and the job keeps a watermark so that each hour is done once;
2. only then lets raw readings older than the raw retention go: on InfluxDB by setting the
   duration of the database's default retention policy (InfluxDB drops whole shards itself),
   on SQLite by deleting rows. Raw readings are never dropped before their hours are rolled up.

Rollups live beside the raw readings: on InfluxDB in measurement `reading_hourly` of retention
policy `forever` (duration INF), on SQLite in table `reading_hourly`. The telemetry API reads
them for periods older than the raw retention (api/routers/telemetry.py).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import httpx
import orjson

from ingest.influx import escape_tag, quote_identifier, quote_string
from ingest.store import MEASUREMENTS, TelemetryStoreError, epoch_bounds_s

HOUR_S = 3600
DAY_S = 86400
LATE_LIMIT_S = 36 * DAY_S  # readings may arrive up to 35 days after they were taken, and a day more
MIN_RAW_DAYS = 40  # raw must outlive the late limit, or hours would go before they are final
DEFAULT_RAW_DAYS = 397  # 13 months: 13 consecutive calendar months are at most 397 days
MAX_DAYS_PER_RUN = 31  # one job run rolls up at most a month: a backlog is caught up run by run
ROLLUP_MEASUREMENT = "reading_hourly"
PROGRESS_MEASUREMENT = "rollup_progress"
FOREVER_RP = "forever"
AGGREGATES = ("mean", "min", "max", "count")


@dataclass(frozen=True, slots=True)
class HourlyReading:
    """One sensor's hour: per measurement (mean, min, max, count); None where it measured nothing."""

    gateway_id: str
    sensor: str
    hour_ts: int  # the hour's start, epoch seconds
    home_id: str | None
    figures: dict[str, tuple[float, float, float, int]]

    def mean(self, measurement: str) -> float | None:
        found = self.figures.get(measurement)
        return None if found is None else found[0]


@dataclass(frozen=True, slots=True)
class RetentionRun:
    """What one run of the retention job did."""

    rolled_from_s: int | None
    rolled_until_s: int | None
    rollup_rows: int
    raw_kept_from_s: int | None  # raw readings before this may go (None: nothing may go yet)
    raw_deleted: int | None  # rows deleted (SQLite); None where the store drops them itself


# --- pure: which hours, which cutoffs ---------------------------------------------------------


def floor_hour(ts: int) -> int:
    return ts - ts % HOUR_S


def final_before(now_s: int) -> int:
    """Hours that start before this are final: no reading for them can still arrive."""
    return floor_hour(now_s - LATE_LIMIT_S)


def raw_cutoff(now_s: int, raw_days: int) -> int | None:
    """Raw readings older than this are past their retention (None: raw is kept forever)."""
    if raw_days <= 0:
        return None
    return floor_hour(now_s - raw_days * DAY_S)


def next_window(
    watermark_s: int | None, earliest_s: int | None, now_s: int
) -> tuple[int, int] | None:
    """The hours [start, end) the next run rolls up, at most MAX_DAYS_PER_RUN; None when up to date."""
    start = watermark_s if watermark_s is not None else earliest_s
    if start is None:
        return None
    start = floor_hour(start)
    end = min(final_before(now_s), start + MAX_DAYS_PER_RUN * DAY_S)
    return (start, end) if end > start else None


def hourly_split(
    start_s: int, end_s: int, *, now_s: int, raw_days: int
) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """[start, end) split into (hours served from rollups, the rest served raw).

    Whole hours before the raw cutoff come from rollups; from the cutoff on, raw readings.
    """
    cutoff = raw_cutoff(now_s, raw_days)
    if cutoff is None or start_s >= cutoff:
        return None, (start_s, end_s) if end_s > start_s else None
    hourly_end = min(end_s, cutoff)
    hourly = (floor_hour(start_s), hourly_end) if hourly_end > start_s else None
    raw = (cutoff, end_s) if end_s > cutoff else None
    return hourly, raw


def validate_raw_days(raw_days: int) -> int:
    """0 (keep raw forever) or at least MIN_RAW_DAYS; ValueError otherwise."""
    if raw_days != 0 and raw_days < MIN_RAW_DAYS:
        raise ValueError(
            f"must be 0 (keep raw readings forever) or at least {MIN_RAW_DAYS} days: readings "
            "may arrive 35 days late and are rolled up only after that"
        )
    return raw_days


# --- the interface and its two adapters --------------------------------------------------------


class TelemetryRetention(Protocol):
    """Hourly rollups and raw retention on one telemetry store."""

    def run(self, *, now: datetime, raw_days: int) -> RetentionRun:
        """Roll up the next final hours, then let raw readings past retention go."""
        ...

    def hourly(
        self,
        *,
        start: datetime,
        end: datetime,
        home_id: str | None = None,
        sensor: str | None = None,
    ) -> list[HourlyReading]:
        """Rollups with start <= hour < end, ordered by hour, sensor, gateway_id."""
        ...

    def watermark(self) -> int | None:
        """Every hour before this (epoch s) is rolled up; None before the first run."""
        ...

    def close(self) -> None: ...


def open_retention(url: str) -> TelemetryRetention:
    """The retention adapter for a HOMESAFE_TELEMETRY_URL (the same URL the store is opened with)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("influxdb", "influxdbs"):
        if not parts.hostname:
            raise ValueError(f"telemetry URL {url!r} has no host")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        http = "https" if scheme == "influxdbs" else "http"
        return InfluxRetention(
            base_url=f"{http}://{host}:{parts.port or 8086}",
            database=unquote(parts.path.lstrip("/")),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )
    if scheme == "sqlite":
        path = unquote(url[len("sqlite:///") :].split("?", 1)[0])
        if not path or path == ":memory:":
            raise ValueError(f"telemetry URL {url!r}: retention needs a SQLite file")
        return SqliteRetention(path)
    raise ValueError(f"telemetry URL {url!r}: scheme must be influxdb, influxdbs or sqlite")


def _sort_key(row: HourlyReading) -> tuple[int, str, str]:
    return (row.hour_ts, row.sensor, row.gateway_id)


class SqliteRetention:
    """Rollups in table reading_hourly of the embedded telemetry file; raw rows deleted by age."""

    _SCHEMA = (
        "CREATE TABLE IF NOT EXISTS reading_hourly ("
        " gateway_id TEXT NOT NULL, sensor TEXT NOT NULL, hour_ts INTEGER NOT NULL, home_id TEXT,"
        + "".join(
            f" {m}_{a} {'INTEGER' if a == 'count' else 'REAL'},"
            for m in MEASUREMENTS
            for a in AGGREGATES
        )
        + " PRIMARY KEY (gateway_id, sensor, hour_ts)) WITHOUT ROWID",
        "CREATE INDEX IF NOT EXISTS ix_reading_hourly_home_id ON reading_hourly (home_id, hour_ts)",
        "CREATE TABLE IF NOT EXISTS rollup_progress (name TEXT PRIMARY KEY, until_ts INTEGER NOT NULL)",
    )

    def __init__(self, path: str, *, busy_timeout_s: float = 30.0) -> None:
        self._db = sqlite3.connect(
            path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        try:
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            self._db.execute("PRAGMA journal_mode = WAL")
            for statement in self._SCHEMA:
                self._db.execute(statement)
        except sqlite3.Error as exc:
            raise TelemetryStoreError(f"SQLite telemetry retention on {path}: {exc}") from exc

    def watermark(self) -> int | None:
        row = self._db.execute(
            "SELECT until_ts FROM rollup_progress WHERE name = 'hourly'"
        ).fetchone()
        return None if row is None else int(row[0])

    def _earliest(self) -> int | None:
        exists = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'reading'"
        ).fetchone()
        if exists is None:
            return None
        row = self._db.execute("SELECT MIN(ts) FROM reading").fetchone()
        return None if row[0] is None else int(row[0])

    def _roll_up(self, start_s: int, end_s: int) -> int:
        aggregates = ", ".join(
            f"{'avg' if a == 'mean' else a}({m})" for m in MEASUREMENTS for a in AGGREGATES
        )
        columns = ", ".join(f"{m}_{a}" for m in MEASUREMENTS for a in AGGREGATES)
        updates = ", ".join(f"{c} = excluded.{c}" for c in ["home_id", *columns.split(", ")])
        cursor = self._db.execute(
            f"INSERT INTO reading_hourly (gateway_id, sensor, hour_ts, home_id, {columns})"
            f" SELECT gateway_id, sensor, ts - ts % {HOUR_S} AS hour, max(home_id), {aggregates}"
            " FROM reading WHERE ts >= ? AND ts < ? GROUP BY gateway_id, sensor, hour"
            f" ON CONFLICT (gateway_id, sensor, hour_ts) DO UPDATE SET {updates}",
            (start_s, end_s),
        )
        return max(cursor.rowcount, 0)

    def run(self, *, now: datetime, raw_days: int) -> RetentionRun:
        now_s = math.floor(now.timestamp())
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                watermark = self.watermark()
                earliest = self._earliest() if watermark is None else None
                window = next_window(watermark, earliest, now_s)
                rows = 0
                if window is not None:
                    rows = self._roll_up(*window)
                    self._db.execute(
                        "INSERT INTO rollup_progress (name, until_ts) VALUES ('hourly', ?)"
                        " ON CONFLICT (name) DO UPDATE SET until_ts = excluded.until_ts",
                        (window[1],),
                    )
                kept_from, deleted = self._expire(now_s, raw_days)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise TelemetryStoreError(f"SQLite telemetry retention failed: {exc}") from exc
        return RetentionRun(
            rolled_from_s=window[0] if window else None,
            rolled_until_s=window[1] if window else None,
            rollup_rows=rows,
            raw_kept_from_s=kept_from,
            raw_deleted=deleted,
        )

    def _expire(self, now_s: int, raw_days: int) -> tuple[int | None, int]:
        cutoff = raw_cutoff(now_s, raw_days)
        watermark = self.watermark()
        if cutoff is None or watermark is None:
            return None, 0
        before = min(cutoff, watermark)  # never a raw reading whose hour is not rolled up
        cursor = self._db.execute("DELETE FROM reading WHERE ts < ?", (before,))
        return before, max(cursor.rowcount, 0)

    def hourly(
        self,
        *,
        start: datetime,
        end: datetime,
        home_id: str | None = None,
        sensor: str | None = None,
    ) -> list[HourlyReading]:
        low_s, high_s = epoch_bounds_s(start, end)
        columns = ", ".join(f"{m}_{a}" for m in MEASUREMENTS for a in AGGREGATES)
        sql = (
            f"SELECT gateway_id, sensor, hour_ts, home_id, {columns} FROM reading_hourly"
            " WHERE hour_ts >= ? AND hour_ts < ?"
        )
        params: list[object] = [low_s, high_s]
        for column, value in (("home_id", home_id), ("sensor", sensor)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        try:
            rows = self._db.execute(sql + " ORDER BY hour_ts, sensor, gateway_id", params)
            return [_hourly_from_columns(row[:4], row[4:]) for row in rows.fetchall()]
        except sqlite3.Error as exc:
            raise TelemetryStoreError(f"SQLite hourly telemetry query failed: {exc}") from exc

    def close(self) -> None:
        self._db.close()


def _hourly_from_columns(keys: Sequence[Any], values: Sequence[Any]) -> HourlyReading:
    """A rollup row from (gateway_id, sensor, hour_ts, home_id) and the MEASUREMENTS × AGGREGATES."""
    figures: dict[str, tuple[float, float, float, int]] = {}
    for i, measurement in enumerate(MEASUREMENTS):
        mean, low, high, count = values[4 * i : 4 * i + 4]
        if count:
            figures[measurement] = (float(mean), float(low), float(high), int(count))
    return HourlyReading(
        gateway_id=str(keys[0]),
        sensor=str(keys[1]),
        hour_ts=int(keys[2]),
        home_id=keys[3] or None,
        figures=figures,
    )


class InfluxRetention:
    """Rollups in `forever`.`reading_hourly`; raw retention as the default policy's duration.

    Through the v1 HTTP API only (aggregate InfluxQL and line protocol, no SELECT INTO and no
    continuous query), so it also serves InfluxDB 2.x and 3.x behind their v1 API; there, set
    the raw bucket's retention in InfluxDB and map `forever` to a bucket without one.
    """

    def __init__(
        self,
        *,
        base_url: str,
        database: str,
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 120.0,
    ) -> None:
        self.database = database
        self._client = httpx.Client(
            base_url=base_url,
            auth=(username, password or "") if username else None,
            timeout=httpx.Timeout(timeout_s, connect=5.0),
        )
        self._forever_ready = False

    # -- HTTP --

    def _statement(self, q: str, *, db: bool = True) -> list[dict[str, Any]]:
        params = {"epoch": "s", **({"db": self.database} if db else {})}
        try:
            response = self._client.post("/query", params=params, data={"q": q})
        except httpx.HTTPError as exc:
            raise TelemetryStoreError(f"InfluxDB unreachable: {exc}") from exc
        if response.status_code >= 300:
            raise TelemetryStoreError(
                f"InfluxDB answered {response.status_code}: {response.text[:300]}"
            )
        document = orjson.loads(response.content)
        if document.get("error"):
            raise TelemetryStoreError(f"InfluxDB: {document['error']}")
        results: list[dict[str, Any]] = document.get("results", [])
        for result in results:
            if result.get("error"):
                raise TelemetryStoreError(f"InfluxDB: {result['error']} ({q[:120]})")
        return results

    def _write(self, lines: list[str], *, rp: str) -> None:
        for begin in range(0, len(lines), 5000):
            try:
                response = self._client.post(
                    "/write",
                    params={"db": self.database, "rp": rp, "precision": "s"},
                    content="\n".join(lines[begin : begin + 5000]).encode(),
                )
            except httpx.HTTPError as exc:
                raise TelemetryStoreError(f"InfluxDB unreachable: {exc}") from exc
            if response.status_code >= 300:
                raise TelemetryStoreError(
                    f"InfluxDB write answered {response.status_code}: {response.text[:300]}"
                )

    @staticmethod
    def _rows(results: list[dict[str, Any]]) -> Iterable[tuple[dict[str, str], dict[str, Any]]]:
        for result in results:
            for series in result.get("series", ()):
                tags = series.get("tags") or {}
                for values in series["values"]:
                    yield tags, dict(zip(series["columns"], values, strict=True))

    # -- policies --

    def _policies(self) -> list[dict[str, Any]]:
        results = self._statement(f"SHOW RETENTION POLICIES ON {quote_identifier(self.database)}")
        return [row for _, row in self._rows(results)]

    def _ensure_forever(self) -> None:
        if self._forever_ready:
            return
        self._statement(f"CREATE DATABASE {quote_identifier(self.database)}", db=False)
        if not any(p["name"] == FOREVER_RP for p in self._policies()):
            self._statement(
                f"CREATE RETENTION POLICY {quote_identifier(FOREVER_RP)} ON "
                f"{quote_identifier(self.database)} DURATION INF REPLICATION 1"
            )
        self._forever_ready = True

    def raw_policy(self) -> tuple[str, str]:
        """(name, duration) of the database's default retention policy, where raw readings go."""
        for policy in self._policies():
            if policy.get("default"):
                return str(policy["name"]), str(policy["duration"])
        raise TelemetryStoreError(f"InfluxDB database {self.database!r} has no default policy")

    def _set_raw_duration(self, raw_days: int) -> None:
        name, duration = self.raw_policy()
        wanted = f"{raw_days * 24}h0m0s" if raw_days > 0 else "0s"
        if duration != wanted:
            self._statement(
                f"ALTER RETENTION POLICY {quote_identifier(name)} ON "
                f"{quote_identifier(self.database)} DURATION "
                + (f"{raw_days}d" if raw_days > 0 else "INF")
            )

    # -- progress --

    def watermark(self) -> int | None:
        self._ensure_forever()
        results = self._statement(
            f'SELECT "until_s" FROM {quote_identifier(FOREVER_RP)}.{quote_identifier(PROGRESS_MEASUREMENT)}'
        )
        values = [row["until_s"] for _, row in self._rows(results)]
        return int(values[-1]) if values else None

    def _earliest(self) -> int | None:
        results = self._statement('SELECT * FROM "reading" ORDER BY time ASC LIMIT 1')
        times = [int(row["time"]) for _, row in self._rows(results)]
        return min(times) if times else None

    # -- the job --

    def _roll_up(self, start_s: int, end_s: int) -> int:
        rows = 0
        for day in range(start_s, end_s, DAY_S):
            selected = ", ".join(
                f"{a}({quote_identifier(m)}) AS {quote_identifier(f'{m}_{a}')}"
                for m in MEASUREMENTS
                for a in AGGREGATES
            )
            results = self._statement(
                f'SELECT {selected} FROM "reading" WHERE time >= {day}s AND time < '
                f'{min(day + DAY_S, end_s)}s GROUP BY time(1h), "gateway_id", "sensor", "home_id" '
                "fill(none)"
            )
            lines = []
            for tags, row in self._rows(results):
                fields = []
                for m in MEASUREMENTS:
                    count = row.get(f"{m}_count") or 0
                    if count:
                        fields += [
                            f"{m}_{a}={float(row[f'{m}_{a}'])!r}" for a in ("mean", "min", "max")
                        ]
                        fields.append(f"{m}_count={int(count)}i")
                if not fields:
                    continue
                series = f"{ROLLUP_MEASUREMENT},gateway_id={escape_tag(tags['gateway_id'])}"
                if tags.get("home_id"):
                    series += f",home_id={escape_tag(tags['home_id'])}"
                series += f",sensor={escape_tag(tags['sensor'])}"
                lines.append(f"{series} {','.join(fields)} {int(row['time'])}")
            self._write(lines, rp=FOREVER_RP)
            rows += len(lines)
        return rows

    def run(self, *, now: datetime, raw_days: int) -> RetentionRun:
        now_s = math.floor(now.timestamp())
        watermark = self.watermark()
        window = next_window(watermark, self._earliest() if watermark is None else None, now_s)
        rows = 0
        if window is not None:
            rows = self._roll_up(*window)
            self._write([f"{PROGRESS_MEASUREMENT} until_s={window[1]}i 0"], rp=FOREVER_RP)
            watermark = window[1]
        cutoff = raw_cutoff(now_s, raw_days)
        kept_from = None
        if cutoff is None:
            self._set_raw_duration(0)
        elif watermark is not None and watermark >= cutoff:
            # Only once every hour the policy would drop is rolled up.
            self._set_raw_duration(raw_days)
            kept_from = cutoff
        return RetentionRun(
            rolled_from_s=window[0] if window else None,
            rolled_until_s=window[1] if window else None,
            rollup_rows=rows,
            raw_kept_from_s=kept_from,
            raw_deleted=None,
        )

    def hourly(
        self,
        *,
        start: datetime,
        end: datetime,
        home_id: str | None = None,
        sensor: str | None = None,
    ) -> list[HourlyReading]:
        low_s, high_s = epoch_bounds_s(start, end)
        where = [f"time >= {low_s}s", f"time < {high_s}s"]
        for tag, value in (("home_id", home_id), ("sensor", sensor)):
            if value is not None:
                where.append(f"{quote_identifier(tag)} = {quote_string(value)}")
        self._ensure_forever()
        results = self._statement(
            f"SELECT * FROM {quote_identifier(FOREVER_RP)}.{quote_identifier(ROLLUP_MEASUREMENT)}"
            f" WHERE {' AND '.join(where)}"
        )
        found = [
            _hourly_from_columns(
                (row["gateway_id"], row["sensor"], row["time"], row.get("home_id")),
                [row.get(f"{m}_{a}") for m in MEASUREMENTS for a in AGGREGATES],
            )
            for _, row in self._rows(results)
        ]
        found.sort(key=_sort_key)
        return found

    def close(self) -> None:
        self._client.close()
