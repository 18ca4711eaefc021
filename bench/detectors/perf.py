"""Detector pass performance: 100,000 homes (400,000 sensors), one hour of new data each.

    .venv/bin/python -m bench.detectors.perf --homes 100000

Sets up a SQLite telemetry store with the previous hours (so every sensor has state) and one
new hour of 15-minute readings, then times one incremental pass: the store query, hourly means,
folding, findings and tasks, and serialising the state snapshot.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from detectors.fleet import FleetState
from detectors.runner import RunnerSettings, SensorSite, advance, read_new
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
        out += [Reading(g, s, ts, a, b, 15.0, 80.0) for g, s, a, b in zip(gateways, sensors, t, rh, strict=True)]
    return out


def main(argv: list[str] | None = None) -> int:
    """Set up and time one pass."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--homes", type=int, default=100_000)
    args = parser.parse_args(argv)
    now = datetime(2026, 1, 15, 12, 20, tzinfo=UTC)
    hour = now.replace(minute=0)
    sites = [SensorSite(f"H{h:06d}", f"gw-{h:06d}", f"s{i + 1}", room)
             for h in range(args.homes) for i, room in enumerate(ROOMS)]
    settings = RunnerSettings()
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteTelemetryStore(str(Path(tmp) / "telemetry.db"))
        t0 = time.perf_counter()
        for k, start in enumerate((hour - timedelta(hours=2), hour - timedelta(hours=1))):
            store.write(readings_for(args.homes, start, 1, k))
        sys.stdout.write(f"setup: {len(sites)} sensors, 2 h of readings written in {time.perf_counter() - t0:.0f} s\n")
        state = FleetState()
        warm_now = hour - timedelta(minutes=40)  # the previous pass: folds the hour before
        readings, fetch_from_s, _ = read_new(store, state, sites, now=warm_now, settings=settings)
        advance(state, readings, sites, now=warm_now, final_from_s=fetch_from_s, settings=settings)
        store.write(readings_for(args.homes, hour, 1, 9)[: len(sites)])  # the new hour's first reading
        t0 = time.perf_counter()
        readings, fetch_from_s, behind = read_new(store, state, sites, now=now, settings=settings)
        t_read = time.perf_counter() - t0
        result = advance(state, readings, sites, now=now, final_from_s=fetch_from_s, settings=settings)
        t_fold = time.perf_counter() - t0 - t_read
        payload = state.to_bytes()
        t_total = time.perf_counter() - t0
        store.close()
    sys.stdout.write(
        f"pass over {args.homes} homes ({len(sites)} sensors): {result.readings} readings read in {t_read:.1f} s "
        f"({behind} catch-up queries), {result.sensor_hours} sensor-hours folded in {t_fold:.1f} s, "
        f"snapshot {len(payload) / 1e6:.0f} MB; total {t_total:.1f} s\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
