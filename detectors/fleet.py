"""The fleet fast path, now `detectors.engine`: this module keeps the names callers import.

See `detectors/engine/__init__.py` for the layout (state, fold, conditions, emit, health) and
`detectors.rules.table` for the rules, each one entry carrying its behaviour.
"""

from __future__ import annotations

from detectors.engine.conditions import (
    adaptive_limit_h,
    cold_homes,
    home_cold_week,
    serious_hours_per_day,
    surface_figures,
)
from detectors.engine.fold import ENGINE_RULES, ENGINE_TASKS, fold_hours, running_mean_update
from detectors.engine.health import drift_offsets, drift_tasks, update_silence
from detectors.engine.state import (
    ARRAYS,
    BIT,
    DAYS_D,
    DRIFT_D,
    HOUR_S,
    RING_H,
    SURFACE_D,
    UNOCCUPIED_ROOMS,
    FleetSettings,
    FleetState,
    FoldResult,
    HourBatch,
    LocalHour,
    Site,
    SiteInfo,
    layout_fields,
    layout_from_fields,
    layout_id,
    local_hour,
    state_layout,
)

# The rules that do not run in unheated spaces (registry room "other"), from the rule table.
OCCUPIED_ONLY = tuple(rule.key for rule in ENGINE_RULES if rule.occupied_only)

__all__ = [
    "ARRAYS",
    "BIT",
    "DAYS_D",
    "DRIFT_D",
    "ENGINE_RULES",
    "ENGINE_TASKS",
    "HOUR_S",
    "OCCUPIED_ONLY",
    "RING_H",
    "SURFACE_D",
    "UNOCCUPIED_ROOMS",
    "FleetSettings",
    "FleetState",
    "FoldResult",
    "HourBatch",
    "LocalHour",
    "Site",
    "SiteInfo",
    "adaptive_limit_h",
    "cold_homes",
    "drift_offsets",
    "drift_tasks",
    "fold_hours",
    "home_cold_week",
    "layout_fields",
    "layout_from_fields",
    "layout_id",
    "local_hour",
    "running_mean_update",
    "serious_hours_per_day",
    "state_layout",
    "surface_figures",
    "update_silence",
]
