"""Detector pass performance: 100,000 homes (400,000 sensors) by default.

    .venv/bin/python -m bench.detectors.perf --homes 100000 --store influx --db postgresql

Writes `--history-days` of 15-minute readings of every sensor into the telemetry store (SQLite,
or a real influxd started as the tests start it) plus the new hour's first reading, then on each
case database (SQLite, or PostgreSQL on 127.0.0.1:5432, a scratch database) times:
- the first pass: no state, every sensor folds the stored history (issue 15), gateway set by
  gateway set;
- the steady pass: one new hour final for every sensor (load states, read, fold, emit, write the
  changed states);
- a pass with nothing final.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from detectors.runner import SensorSite, stored_pass
from homesafe.database import make_engine, make_sessionmaker
from homesafe.migrate import upgrade
from ingest.contract import Reading
from ingest.sqlite_store import SqliteTelemetryStore
from ingest.store import TelemetryStore, open_telemetry_store

ROOMS = ("living", "bedroom", "kitchen", "bathroom")


def readings_for(homes: int, start: datetime, hours: int, seed: int) -> list[Reading]:
    """15-minute readings of every sensor for `hours` hours from `start`."""
    rng = np.random.default_rng(seed)
    n = homes * len(ROOMS)
    gateways = [f"gw-{h:06d}" for h in range(homes) for _ in ROOMS]
    sensors = [f"s{i + 1}" for _ in range(homes) for i in range(len(ROOMS))]
    out = []
    for k in range(hours * 4):
        ts = int(start.timestamp()) + k * 900
        t = np.round(19.0 + rng.normal(0, 1.0, n), 1).tolist()
        rh = np.round(55.0 + rng.normal(0, 5.0, n), 1).tolist()
        out += [
            Reading(g, s, ts, a, b, 15.0, 80.0)
            for g, s, a, b in zip(gateways, sensors, t, rh, strict=True)
        ]
    return out


def _postgres_url() -> str:
    """A fresh database on the local PostgreSQL (dropped by `_drop_postgres`)."""
    import psycopg

    name = f"bench_detectors_{os.getpid()}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def _drop_postgres(url: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")


def stored(store: TelemetryStore, sites: list[SensorSite], url: str, now: datetime) -> str:
    """Two passes on a case database: the previous hour (first write: inserts), then the timed one."""
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    warm_now = now.replace(minute=0) - timedelta(minutes=40)
    lines = []
    for label, at in (
        ("first pass (no state: stored history folded, all rows inserted)", warm_now),
        ("steady pass (one new hour)", now),
    ):
        with sessions.begin() as session:
            stats = stored_pass(session, store=store, sites=sites, now=at, emit=lambda _f: None)
            t0 = time.perf_counter()
        commit_s = time.perf_counter() - t0
        lines.append(
            f"  {label}: load {stats.load_s:.1f} s, read {stats.read_s:.1f} s "
            f"({stats.result.readings} readings, {stats.result.history_reads} history reads), fold {stats.fold_s:.1f} s ({stats.result.sensor_hours} sensor-hours), "
            f"emit {stats.emit_s:.1f} s, state write {stats.state_rows_written} rows {stats.write_s:.1f} s, "
            f"commit {commit_s:.1f} s; TOTAL {stats.total_s + commit_s:.1f} s"
        )
    with sessions.begin() as session:
        stats = stored_pass(
            session, store=store, sites=sites, now=now + timedelta(minutes=15), emit=lambda _f: None
        )
    lines.append(
        f"  a pass with nothing final: {stats.state_rows_written} rows written, TOTAL {stats.total_s:.1f} s"
    )
    engine.dispose()
    return "\n".join(lines)


def open_store(
    kind: str, tmp: Path, influx_dir: Path | None = None
) -> tuple[TelemetryStore, Callable[[], None]]:
    """The telemetry store to bench, and how to shut it down."""
    if kind == "sqlite":
        sqlite = SqliteTelemetryStore(str(tmp / "telemetry.db"))
        return sqlite, sqlite.close
    from tests.servers import start_influxd

    server = start_influxd(influx_dir or tmp / "influxd")
    influx = open_telemetry_store(server.url)

    def close() -> None:
        influx.close()
        server.stop()

    return influx, close


def main(argv: list[str] | None = None) -> int:
    """Set up the store, then time the first and the steady pass on each case database."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--homes", type=int, default=100_000)
    parser.add_argument("--store", choices=("sqlite", "influx"), default="sqlite")
    parser.add_argument(
        "--db",
        "--databases",
        dest="databases",
        default="sqlite,postgresql",
        help="comma-separated: sqlite, postgresql",
    )
    parser.add_argument(
        "--history-days", type=float, default=7.0, help="stored history before the first pass"
    )
    parser.add_argument(
        "--influx-dir",
        type=Path,
        help="keep InfluxDB's files here: a later run with the same --homes and --history-days "
        "reuses the readings instead of writing them again",
    )
    args = parser.parse_args(argv)
    now = datetime(2026, 1, 15, 12, 20, tzinfo=UTC)
    hour = now.replace(minute=0)
    sites = [
        SensorSite(f"H{h:06d}", f"gw-{h:06d}", f"s{i + 1}", room)
        for h in range(args.homes)
        for i, room in enumerate(ROOMS)
    ]
    history_h = max(2, int(args.history_days * 24))
    with tempfile.TemporaryDirectory() as tmp:
        store, close = open_store(args.store, Path(tmp), args.influx_dir)
        marker = (args.influx_dir or Path(tmp)) / f"written-{args.homes}-{history_h}"
        try:
            t0 = time.perf_counter()
            if not marker.exists():
                for k in range(history_h, 0, -6):  # six hours a write: memory stays bounded
                    hours = min(6, k)
                    store.write(readings_for(args.homes, hour - timedelta(hours=k), hours, k))
                store.write(readings_for(args.homes, hour, 1, 9)[: len(sites)])  # the new hour's
                marker.touch()
            sys.stdout.write(
                f"setup: {len(sites)} sensors, {history_h} h of 15-minute readings in {args.store} "
                f"({len(sites) * history_h * 4} readings) written in {time.perf_counter() - t0:.0f} s\n"
            )
            for database in args.databases.split(","):
                if database == "sqlite":
                    url = f"sqlite:///{Path(tmp) / 'cases.db'}"
                    sys.stdout.write(
                        f"stored on SQLite ({url}):\n{stored(store, sites, url, now)}\n"
                    )
                elif database == "postgresql":
                    url = _postgres_url()
                    try:
                        sys.stdout.write(
                            f"stored on PostgreSQL ({url}):\n{stored(store, sites, url, now)}\n"
                        )
                    finally:
                        _drop_postgres(url)
        finally:
            close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
