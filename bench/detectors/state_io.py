"""Detector state load and save on the case database: 400,000 sensors by default.

    .venv/bin/python -m bench.detectors.state_io --sensors 400000 --db postgresql
    .venv/bin/python -m bench.detectors.state_io --sensors 400000 --db sqlite

On a scratch database (PostgreSQL on 127.0.0.1:5432, or a SQLite file), migrated to the newest
schema, times `detectors.repository` alone, each step in its own transaction (commit included):
the first save (every sensor new); `--rounds` times a load then a save with every sensor changed
(the steady pass); a save with 1% of the sensors changed and a load after it. The states are
random but shaped like real ones (rings of temperatures, counters, a few NaN); each load is
checked equal to what was saved. The machine is shared: compare the best of the rounds.

400,000 sensors on the shared 2-core machine, best of three (before: one row per sensor, at
f4f7375; after: blocks of 256 sensors): PostgreSQL load 4.2 -> 0.9 s, save with every sensor
changed 10.0 -> 1.5 s, first save 6.9 -> 1.6 s, save with 1% changed 0.2 -> 2.1 s; SQLite load
1.7 -> 0.3 s, save with every sensor changed 3.8 -> 1.9 s, 1% changed 0.3 -> 1.6 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session, sessionmaker

from bench.detectors.perf import _drop_postgres, _postgres_url
from detectors import repository
from detectors.fleet import state_layout
from homesafe.database import make_engine, make_sessionmaker
from homesafe.migrate import upgrade

SENSORS_PER_GATEWAY = 4


def sensor_keys(n: int) -> list[tuple[str, str]]:
    """`n` sensors, four to a gateway, named as the perf bench names them."""
    return [
        (f"gw-{i // SENSORS_PER_GATEWAY:06d}", f"s{i % SENSORS_PER_GATEWAY + 1}") for i in range(n)
    ]


def random_states(n: int, rng: np.random.Generator) -> npt.NDArray[np.void]:
    """`n` records of the current layout: floats near room values (some NaN), small counters."""
    layout = state_layout()
    out = np.zeros(n, dtype=layout)
    for name in layout.names or ():
        column: Any = out[name]
        if column.dtype.kind == "f":
            values = rng.normal(20.0, 5.0, column.shape)
            values[rng.random(column.shape) < 0.05] = np.nan
            column[...] = values
        elif column.dtype.kind == "b":
            column[...] = rng.random(column.shape) < 0.5
        else:
            column[...] = rng.integers(0, min(100, np.iinfo(column.dtype).max), column.shape)
    out["through_s"] = 1_768_478_400 + rng.integers(-3, 1, n) * 3600
    return out


def moved_on(records: npt.NDArray[np.void], rows: npt.NDArray[np.int64]) -> npt.NDArray[np.void]:
    """The records after one more hour folded into `rows`: rings shifted, the new hour appended."""
    out = records.copy()
    for name in ("temperature_ring", "humidity_ring", "wme_ring"):
        out[name][rows] = np.roll(out[name][rows], -1, axis=1)
        out[name][rows, -1] += 0.5
    out["through_s"][rows] += 3600
    out["mould_hours_h"][rows] += 1.0
    return out


def timed(sessions: sessionmaker[Session], step: Callable[[Session], object]) -> tuple[float, Any]:
    """Seconds of one step in its own transaction, commit included, and what it returned."""
    t0 = time.perf_counter()
    with sessions.begin() as session:
        value = step(session)
    return time.perf_counter() - t0, value


def check(stored: repository.StoredState, keys: list[tuple[str, str]], records: Any) -> None:
    """The load holds exactly the saved sensors and states, in the saved order."""
    if stored.keys != keys or stored.records.tobytes() != records.tobytes():
        raise SystemExit("the loaded states differ from the saved ones")


def run(url: str, n: int, rounds: int) -> str:
    """Every step on one database; the figures as lines."""
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    rng = np.random.default_rng(7)
    keys = sensor_keys(n)
    records = random_states(n, rng)
    everyone = np.arange(n, dtype=np.int64)
    stored = timed(sessions, repository.load_state)[1]  # nothing yet

    def save(rows: npt.NDArray[np.int64]) -> float:
        seconds, written = timed(
            sessions, lambda s: repository.save_state(s, stored, keys, records, rows)
        )
        assert written == rows.size
        return seconds

    def load() -> tuple[float, repository.StoredState]:
        seconds, loaded = timed(sessions, repository.load_state)
        check(loaded, keys, records)
        return seconds, loaded

    def line(label: str, seconds: list[float]) -> str:
        each = ", ".join(f"{s:.2f}" for s in seconds)
        return f"  {label}: {each} s (best {min(seconds):.2f} s)"

    lines = [line("first save (all inserted)", [save(everyone)])]
    loads, saves = [], []
    for _ in range(rounds):
        seconds, stored = load()
        loads.append(seconds)
        records = moved_on(records, everyone)
        saves.append(save(everyone))
    some = np.sort(rng.choice(n, size=max(1, n // 100), replace=False)).astype(np.int64)
    seconds, stored = load()
    records = moved_on(records, some)
    lines += [
        line("load", loads),
        line("save, every sensor changed", saves),
        line("save, 1% changed", [save(some)]),
        line("load after the 1% save", [load()[0]]),
    ]
    engine.dispose()
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Time the state steps on each case database asked for."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sensors", type=int, default=400_000)
    parser.add_argument(
        "--db", dest="databases", default="postgresql", help="comma-separated: sqlite, postgresql"
    )
    parser.add_argument("--rounds", type=int, default=3, help="loads and full saves, alternated")
    args = parser.parse_args(argv)
    sys.stdout.write(f"{args.sensors} sensors, {state_layout().itemsize} bytes of state each\n")
    for database in args.databases.split(","):
        if database == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{Path(tmp) / 'cases.db'}"
                sys.stdout.write(f"SQLite:\n{run(url, args.sensors, args.rounds)}\n")
        elif database == "postgresql":
            url = _postgres_url()
            try:
                sys.stdout.write(f"PostgreSQL:\n{run(url, args.sensors, args.rounds)}\n")
            finally:
                _drop_postgres(url)
        else:
            raise SystemExit(f"unknown database {database!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
