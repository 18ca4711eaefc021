"""A scheduler process for the two-process test: waits for a start time, then sweeps the database."""

from __future__ import annotations

import sys
import time
from datetime import datetime

from compliance.jobs import run_sweep, run_warnings
from homesafe.database import make_engine, make_sessionmaker


def main(url: str, now_iso: str, start_at_epoch: float, rounds: int) -> None:
    sessions = make_sessionmaker(make_engine(url))
    now = datetime.fromisoformat(now_iso)
    time.sleep(max(0.0, start_at_epoch - time.time()))
    breached = warned = 0
    for _ in range(rounds):
        breached += run_sweep(sessions, now=now)
        warned += run_warnings(sessions, now=now)
    sys.stdout.write(f"{breached} {warned}\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))
