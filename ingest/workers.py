"""`homesafe ingest --workers N`: N ingest processes joined to one $share/ subscription.

Each worker is a whole ingest (its own paho connection, MQTT session, spool and metrics
port), so a crash of one loses nothing: the broker redelivers its unacknowledged messages to
the others, and the supervisor starts it again with the same client id and spool. The
parent only forks, forwards SIGTERM/SIGINT and restarts workers that die.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

log = logging.getLogger(__name__)

RESTART_DELAY_S: Final = 1.0
STOP_TIMEOUT_S: Final = 60.0


@dataclass(frozen=True, slots=True)
class WorkerSlot:
    """What makes worker `index` itself across restarts: client id, spool, metrics port."""

    index: int
    client_id: str
    spool_dir: Path
    metrics_port: int


def worker_slots(
    count: int, *, client_id: str, spool_dir: Path, metrics_port: int
) -> list[WorkerSlot]:
    """Stable identities for `count` workers: `<id>-<i>`, `<spool>/<i>`, port + i (0 stays 0)."""
    if count < 1:
        raise ValueError("need at least one worker")
    return [
        WorkerSlot(
            index=i,
            client_id=f"{client_id}-{i}",
            spool_dir=spool_dir / f"worker-{i}",
            metrics_port=metrics_port + i if metrics_port else 0,
        )
        for i in range(count)
    ]


def run_workers(
    slots: list[WorkerSlot],
    run_one: Callable[[WorkerSlot], None],
    *,
    stop: threading.Event,
) -> None:
    """Run `run_one(slot)` in a forked process per slot until `stop`; restart any that die."""
    context = mp.get_context("fork")
    processes: dict[int, mp.process.BaseProcess] = {}

    def start(slot: WorkerSlot) -> None:
        process = context.Process(
            target=_child, args=(run_one, slot), name=f"ingest-{slot.index}", daemon=False
        )
        process.start()
        processes[slot.index] = process

    for slot in slots:
        start(slot)
    try:
        while not stop.wait(0.5):
            for slot in slots:
                process = processes[slot.index]
                if process.exitcode is not None:
                    log.error(
                        "ingest worker %d exited with %s; starting it again",
                        slot.index,
                        process.exitcode,
                    )
                    time.sleep(RESTART_DELAY_S)
                    start(slot)
    finally:
        for process in processes.values():
            if process.exitcode is None and process.pid is not None:
                try:
                    process.terminate()  # SIGTERM: the worker flushes and acks
                except OSError:
                    pass
        for process in processes.values():
            process.join(STOP_TIMEOUT_S)
            if process.exitcode is None:
                process.kill()
                process.join()


def _child(run_one: Callable[[WorkerSlot], None], slot: WorkerSlot) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # run_one installs its own handlers
    run_one(slot)
