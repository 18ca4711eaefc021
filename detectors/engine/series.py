"""One sensor's hourly frame run through the engine: what the rule tests' series give in production.

The frame is the rules' convention (`detectors.rules.rule`): hour starts in UTC, columns
`temperature_c, humidity_pct, wme_pct, battery_pct` and optionally `outdoor_temperature_c`. Every
hour from the frame's first to the one before `now` is folded (missing hours as gaps), so the
state is the engine's at `now`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from detectors.engine.fold import fold_hours
from detectors.engine.state import BIT, UNOCCUPIED_ROOMS, FleetState, HourBatch, SiteInfo
from detectors.findings import Finding, FleetTask

COLUMNS = ("temperature_c", "humidity_pct", "wme_pct", "battery_pct", "outdoor_temperature_c")


@dataclass
class SeriesRun:
    """The engine's state after the series, and what it raised on the way."""

    state: FleetState
    site: SiteInfo
    findings: list[Finding]
    tasks: list[FleetTask]
    held: list[int]  # the episode bits after each folded hour, oldest first

    def holds_now(self, rule: Any, *, within_h: int = 1) -> bool:
        """Whether the rule would be raised on this sensor now (or held in the last `within_h`
        hours): its condition holds, in its room."""
        if not any(mask & BIT[rule.key] for mask in self.held[-within_h:]):
            return False
        if rule.rooms is not None and self.site.room not in rule.rooms:
            return False
        if self.site.room in UNOCCUPIED_ROOMS and rule.occupied_only:
            return False
        return True


def run_series(
    frame: pd.DataFrame,
    *,
    now: datetime,
    home_id: str,
    room: str,
    vulnerable: bool = False,
    timezone: str = "Europe/London",
) -> SeriesRun:
    """Fold one sensor's frame, hour by hour up to `now`, through the engine."""
    state = FleetState()
    rows = state.rows([("series", "s1")])
    site = SiteInfo(home_id, room, vulnerable)
    index = pd.DatetimeIndex(frame.index)
    frame = frame[~index.duplicated(keep="last")]
    frame.index = pd.DatetimeIndex(frame.index).floor("h")
    frame = frame[~frame.index.duplicated(keep="last")]
    findings: list[Finding] = []
    tasks: list[FleetTask] = []
    held: list[int] = []
    if frame.empty:
        return SeriesRun(state, site, findings, tasks, [])
    now_hour = pd.Timestamp(now).floor("h")
    grid = pd.date_range(frame.index.min(), now_hour - pd.Timedelta(hours=1), freq="h")
    full = frame.reindex(grid)
    values = {
        name: (
            full[name].to_numpy(dtype=np.float64)
            if name in full.columns
            else np.full(len(grid), np.nan)
        )
        for name in COLUMNS
    }
    hours = np.asarray(grid.as_unit("s").asi8, dtype=np.int64)
    for i, hour_s in enumerate(hours.tolist()):
        batch = HourBatch(
            rows,
            np.array([hour_s], dtype=np.int64),
            *(values[name][i : i + 1] for name in COLUMNS),
        )
        folded = fold_hours(state, batch, [site], timezone=timezone)
        findings += folded.findings
        tasks += folded.tasks
        held.append(int(state["active"][0]))
    return SeriesRun(state, site, findings, tasks, held)
