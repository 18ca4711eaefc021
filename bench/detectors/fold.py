"""The steady pass's fold, step by step: 100,000 homes (400,000 sensors), one new hour.

    .venv/bin/python -m bench.detectors.fold --homes 100000
    .venv/bin/python -m bench.detectors.fold --homes 100000 --profile 25   # and the top functions

The readings are `bench.detectors.perf`'s (15-minute readings of every sensor, two stored hours
and the new hour's first reading), held in memory so nothing waits on a store: a first pass builds
the state, then the steady pass (one hour final for every sensor) is timed as `run_in_memory` runs
it, each step it calls timed on its own (exclusive of the steps it calls in turn; "rest" is the
pass's own code between them).
"""

from __future__ import annotations

import argparse
import bisect
import cProfile
import gc
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.detectors.perf import ROOMS, readings_for
from detectors import runner
from detectors.fleet import FleetState, drift_tasks
from detectors.runner import SensorSite, run_in_memory
from ingest.contract import Reading
from ingest.store import ReadingColumns, epoch_bounds_s, gateway_part, sort_key

# The steps of `run_in_memory` timed on their own (module globals of `detectors.runner`).
STEPS = (
    "site_rows",
    "site_table",
    "steady_start_s",
    "gap_starts",
    "sensor_rows",
    "hourly_means",
    "late_folded_hours",
    "rewind",
    "history_starts",
    "hour_batch",
    "fold_hours",
    "drift_tasks",
    "update_silence",
    "_collect",
)


class MemoryStore:
    """Readings in a list, answered as the telemetry stores answer (ordered, by ts range)."""

    def __init__(self, readings: list[Reading]) -> None:
        self.readings = sorted(readings, key=sort_key)
        self.seconds = 0.0

    def query(
        self,
        *,
        start: datetime,
        end: datetime,
        gateway_ids: Sequence[str] | None = None,
        **_ignored: Any,
    ) -> list[Reading]:
        """Readings with start <= ts < end (of the gateways, if given)."""
        t0 = time.perf_counter()
        try:
            return self._query(start, end, gateway_ids)
        finally:
            self.seconds += time.perf_counter() - t0

    def query_columns(
        self,
        *,
        start: datetime,
        end: datetime,
        gateway_ids: Sequence[str] | None = None,
        part: tuple[int, int] | None = None,
    ) -> ReadingColumns:
        """The same readings as columns (of one part of the gateways, if given)."""
        t0 = time.perf_counter()
        try:
            readings = self._query(start, end, gateway_ids)
            if part is not None:
                readings = [r for r in readings if gateway_part(r.gateway_id, part[1]) == part[0]]
            return ReadingColumns.from_readings(readings)
        finally:
            self.seconds += time.perf_counter() - t0

    def _query(
        self, start: datetime, end: datetime, gateway_ids: Sequence[str] | None
    ) -> list[Reading]:
        low_s, high_s = epoch_bounds_s(start, end)
        first = bisect.bisect_left(self.readings, low_s, key=lambda r: r.ts)
        stop = bisect.bisect_left(self.readings, high_s, key=lambda r: r.ts)
        if gateway_ids is None:
            return self.readings[first:stop]
        wanted = set(gateway_ids)
        return [r for r in self.readings[first:stop] if r.gateway_id in wanted]


def now_s() -> tuple[float, float]:
    """Wall and CPU seconds: on a shared machine the CPU figure is the steadier one."""
    return time.perf_counter(), time.process_time()


class GcClock:
    """Wall seconds the cyclic garbage collector ran, by generation (it walks every live container)."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
        else:
            self.seconds[info["generation"]] += time.perf_counter() - self.started


class StepClock:
    """Exclusive wall and CPU seconds per step: a step's time less the timed steps it called."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        self.calls: dict[str, int] = defaultdict(int)
        self.stack: list[list[float]] = []

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """`function`, timed under `name`."""

        def timed(*args: Any, **kwargs: Any) -> Any:
            self.stack.append([0.0, 0.0])
            started = now_s()
            try:
                return function(*args, **kwargs)
            finally:
                spent = [b - a for a, b in zip(started, now_s(), strict=True)]
                children = self.stack.pop()
                for k in range(2):
                    self.seconds[name][k] += spent[k] - children[k]
                    if self.stack:
                        self.stack[-1][k] += spent[k]
                self.calls[name] += 1

        return timed


def main(argv: list[str] | None = None) -> int:
    """Build the state with a first pass, then time the steady pass step by step."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--homes", type=int, default=100_000)
    parser.add_argument("--profile", type=int, default=0, help="print this many top functions")
    parser.add_argument(
        "--state", type=Path, help="keep the first pass's state here (reused when present)"
    )
    args = parser.parse_args(argv)
    now = datetime(2026, 1, 15, 12, 20, tzinfo=UTC)
    hour = now.replace(minute=0)
    sites = [
        SensorSite(f"H{h:06d}", f"gw-{h:06d}", f"s{i + 1}", room)
        for h in range(args.homes)
        for i, room in enumerate(ROOMS)
    ]
    t0 = time.perf_counter()
    readings = readings_for(args.homes, hour - timedelta(hours=2), 2, 2)
    readings += readings_for(args.homes, hour, 1, 9)[: len(sites)]  # the new hour's first
    store = MemoryStore(readings)
    del readings
    if args.state and args.state.exists():
        state = FleetState.from_bytes(args.state.read_bytes())
    else:
        state = FleetState()
        run_in_memory(store, state, sites, now=hour - timedelta(minutes=40))  # type: ignore[arg-type]
        if args.state:
            args.state.write_bytes(state.to_bytes())
    sys.stdout.write(
        f"setup: {len(sites)} sensors, state after the first pass in {time.perf_counter() - t0:.0f} s\n"
    )

    clock = StepClock()
    originals = {name: getattr(runner, name) for name in STEPS if hasattr(runner, name)}
    for name, function in originals.items():
        setattr(runner, name, clock.wrap(name, function))
    original_rows = state.rows
    state.rows = clock.wrap("FleetState.rows", original_rows)  # type: ignore[method-assign]
    profiler = cProfile.Profile() if args.profile else None
    collector = GcClock()
    gc.callbacks.append(collector)
    try:
        if profiler:
            profiler.enable()
        store.seconds = 0.0
        started = now_s()
        result = run_in_memory(store, state, sites, now=now)  # type: ignore[arg-type]
        total = [b - a for a, b in zip(started, now_s(), strict=True)]
        if profiler:
            profiler.disable()
    finally:
        gc.callbacks.remove(collector)
        for name, function in originals.items():
            setattr(runner, name, function)
        del state.rows
    sys.stdout.write(
        f"steady pass: {result.readings} readings, {result.sensor_hours} sensor-hours, "
        f"{len(result.findings)} findings, {len(result.tasks)} tasks; waiting on the store "
        f"{store.seconds:.2f} s; the rest {total[0] - store.seconds:.2f} s wall, "
        f"{total[1]:.2f} s CPU (the runner counts read {result.read_s:.2f} s, fold {result.fold_s:.2f} s)\n"
        f"  {'step (exclusive)':<20} {'wall':>8} {'CPU':>8}\n"
    )
    for name, (wall_s, cpu_s) in sorted(clock.seconds.items(), key=lambda item: -item[1][1]):
        sys.stdout.write(f"  {name:<20} {wall_s:8.3f} {cpu_s:8.3f}  ({clock.calls[name]} calls)\n")
    rest = [
        total[k] - sum(step[k] for step in clock.seconds.values()) - (store.seconds, 0.0)[k]
        for k in range(2)
    ]
    sys.stdout.write(f"  {'rest':<20} {rest[0]:8.3f} {rest[1]:8.3f}\n")
    gc_s = ", ".join(f"{s:.2f}" for s in collector.seconds)
    sys.stdout.write(
        f"  (garbage collector, wall, included above: {gc_s} s in generations 0, 1, 2)\n"
    )
    # Once a local day completes, a pass also runs the drift rule over the whole fleet.
    table = runner.site_table(state, sites, runner.site_rows(state, sites))
    started = now_s()
    drift = drift_tasks(state, table, now=now)
    spent = [b - a for a, b in zip(started, now_s(), strict=True)]
    sys.stdout.write(
        f"drift_tasks (a pass that completes a local day): {spent[0]:.3f} s wall, "
        f"{spent[1]:.3f} s CPU, {len(drift)} tasks\n"
    )
    if profiler:
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(args.profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
