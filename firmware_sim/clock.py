"""The simulator's one reading of the wall clock (firmware_sim imports nothing of the project's)."""

from __future__ import annotations

import time


def wall_time_s() -> float:
    """Seconds since the Unix epoch, now."""
    return time.time()
