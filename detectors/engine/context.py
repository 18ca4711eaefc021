"""What a rule's behaviour sees in the engine: the hour just folded, and one rising edge."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from detectors.engine.sites import SiteArrays, site_arrays
from detectors.engine.state import FleetState, LocalHour, Site


@dataclass
class HourView:
    """The rows folded for one hour, after folding: their state, sites and local time.

    `notes` carries what a rule's condition worked out and its figures reuse (per row of `rows`),
    keyed by the rule's key and a name.
    """

    state: FleetState
    rows: npt.NDArray[np.int64]
    sites: Sequence[Site | None]
    local: LocalHour
    vulnerable: npt.NDArray[np.bool_]
    notes: dict[str, npt.NDArray[Any]] = field(default_factory=dict)

    @cached_property
    def where(self) -> SiteArrays:
        """Every state row's site as arrays (index them with `rows`)."""
        return site_arrays(self.state, self.sites)

    @cached_property
    def ring_t(self) -> npt.NDArray[Any]:
        """The rows' hourly temperature rings (oldest first)."""
        return self.state["temperature_ring"][self.rows]

    @cached_property
    def ring_rh(self) -> npt.NDArray[Any]:
        """The rows' hourly RH rings."""
        return self.state["humidity_ring"][self.rows]

    @cached_property
    def ring_wme(self) -> npt.NDArray[Any]:
        """The rows' hourly %WME rings."""
        return self.state["wme_ring"][self.rows]


@dataclass(frozen=True)
class Edge:
    """One rising edge: a rule's condition started to hold on one sensor at the end of an hour."""

    view: HourView
    j: int  # index into view.rows
    row: int
    site: Site
    end: datetime

    def note(self, key: str) -> Any:
        """This row's value of a note the condition left."""
        return self.view.notes[key][self.j]


@dataclass(frozen=True)
class Figures:
    """What a finding reports: its window, measured figures, confidence, basis and category."""

    window_start: datetime
    window_end: datetime
    figures: dict[str, float]
    confidence: float
    basis: str
    category: str = "potential"
    conditions: str = "room_air"  # surface_model | room_air_fallback | room_air
