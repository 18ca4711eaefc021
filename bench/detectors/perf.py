"""Detector pass performance: 100,000 homes (400,000 sensors), one hour of new data each.

    .venv/bin/python -m bench.detectors.perf --homes 100000

Sets up a SQLite telemetry store with the previous hours (so every sensor has state) and one
new hour of 15-minute readings, then times one incremental pass: the store query, hourly means,
folding, findings and tasks — in memory, then stored: loading every sensor's state row and writing
back the changed ones, on SQLite and on PostgreSQL (127.0.0.1:5432, a scratch database).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from detectors.fleet import FleetState
from detectors.runner import RunnerSettings, SensorSite, run_in_memory, stored_pass
from homesafe.database import make_engine, make_sessionmaker
from homesafe.migrate import upgrade
from ingest.contract import Reading
from ingest.sqlite_store import SqliteTelemetryStore

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


def stored(store: SqliteTelemetryStore, sites: list[SensorSite], url: str, now: datetime) -> str:
    """Two passes on a case database: the previous hour (first write: inserts), then the timed one."""
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    warm_now = now.replace(minute=0) - timedelta(minutes=40)
    lines = []
    for label, at in (("previous pass (all rows inserted)", warm_now), ("timed pass", now)):
        with sessions.begin() as session:
            stats = stored_pass(session, store=store, sites=sites, now=at, emit=lambda _f: None)
            t0 = time.perf_counter()
        commit_s = time.perf_counter() - t0
        lines.append(
            f"  {label}: load {stats.load_s:.1f} s, read {stats.read_s:.1f} s "
            f"({stats.result.readings} readings), fold {stats.fold_s:.1f} s ({stats.result.sensor_hours} sensor-hours), "
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


def main(argv: list[str] | None = None) -> int:
    """Set up and time one pass: in memory, then stored on SQLite and on PostgreSQL."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--homes", type=int, default=100_000)
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql"
    )
    args = parser.parse_args(argv)
    now = datetime(2026, 1, 15, 12, 20, tzinfo=UTC)
    hour = now.replace(minute=0)
    sites = [
        SensorSite(f"H{h:06d}", f"gw-{h:06d}", f"s{i + 1}", room)
        for h in range(args.homes)
        for i, room in enumerate(ROOMS)
    ]
    settings = RunnerSettings()
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteTelemetryStore(str(Path(tmp) / "telemetry.db"))
        t0 = time.perf_counter()
        for k, start in enumerate((hour - timedelta(hours=2), hour - timedelta(hours=1))):
            store.write(readings_for(args.homes, start, 1, k))
        store.write(
            readings_for(args.homes, hour, 1, 9)[: len(sites)]
        )  # the new hour's first reading
        sys.stdout.write(
            f"setup: {len(sites)} sensors, 2 h of readings written in {time.perf_counter() - t0:.0f} s\n"
        )
        state = FleetState()
        warm_now = hour - timedelta(minutes=40)  # the previous pass: folds the hour before
        run_in_memory(store, state, sites, now=warm_now, settings=settings)
        t0 = time.perf_counter()
        result = run_in_memory(store, state, sites, now=now, settings=settings)
        t_read, t_fold, behind = result.read_s, result.fold_s, result.history_reads
        records = state.records()
        t_total = time.perf_counter() - t0
        sys.stdout.write(
            f"in memory, {args.homes} homes ({len(sites)} sensors): {result.readings} readings read in {t_read:.1f} s "
            f"({behind} catch-up queries), {result.sensor_hours} sensor-hours folded in {t_fold:.1f} s, "
            f"state {records.nbytes / 1e6:.0f} MB ({records.dtype.itemsize} B per sensor); total {t_total:.1f} s\n"
        )
        for database in args.databases.split(","):
            if database == "sqlite":
                url = f"sqlite:///{Path(tmp) / 'cases.db'}"
                sys.stdout.write(f"stored on SQLite ({url}):\n{stored(store, sites, url, now)}\n")
            elif database == "postgresql":
                url = _postgres_url()
                try:
                    sys.stdout.write(
                        f"stored on PostgreSQL ({url}):\n{stored(store, sites, url, now)}\n"
                    )
                finally:
                    _drop_postgres(url)
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
