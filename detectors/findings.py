"""What detectors output: hazard findings (evidence for a case) and fleet tasks (sensor health)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Category = Literal["emergency", "potential"]
# What a finding's figures rest on: the surface model (θsi, RHsi from outdoor temperature and
# fRsi), the room-air fallback of a surface rule with no outdoor temperature, or room air by design.
Conditions = Literal["surface_model", "room_air_fallback", "room_air"]
CONDITIONS: tuple[str, ...] = ("surface_model", "room_air_fallback", "room_air")
CATEGORIES: tuple[str, ...] = ("emergency", "potential")

# Stable hazard keys (docs/api.md; docs/law.md: `leak` → water_supply/damp_and_mould as the
# investigation decides).
DAMP_AND_MOULD = "damp_and_mould"
EXCESS_COLD = "excess_cold"
EXCESS_HEAT = "excess_heat"
LEAK = "leak"


@dataclass(frozen=True, order=True)
class SensorRef:
    """A sensor by its gateway and its id within the gateway."""

    gateway_id: str
    sensor_id: str


def _check_window(window_start: datetime, window_end: datetime) -> None:
    if window_start.tzinfo is None or window_end.tzinfo is None:
        raise ValueError("window times must be timezone-aware")
    if window_end < window_start:
        raise ValueError("window_end is before window_start")


@dataclass(frozen=True)
class Finding:
    """Sensor evidence of a hazard; a person investigates, the finding decides nothing."""

    home_id: str
    sensor: SensorRef
    room: str
    hazard: str
    category: Category
    window_start: datetime
    window_end: datetime
    figures: Mapping[str, float]  # named with units: hours_over_threshold_h, mould_index, …
    confidence: float  # 0–1
    rule_key: str
    rule_version: int
    evidence_basis: str  # what the figures rest on, e.g. surface conditions vs room air
    conditions: Conditions = "room_air"

    def __post_init__(self) -> None:
        """Refuse a category outside the contract, a confidence outside 0–1, a naive window."""
        if self.category not in CATEGORIES:
            raise ValueError(f"category must be one of {CATEGORIES}, not {self.category!r}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError("confidence must be within 0–1")
        if self.conditions not in CONDITIONS:
            raise ValueError(f"conditions must be one of {CONDITIONS}, not {self.conditions!r}")
        _check_window(self.window_start, self.window_end)


@dataclass(frozen=True)
class FleetTask:
    """Sensor or gateway health work for the fleet team; not a hazard case."""

    home_id: str
    sensor: SensorRef
    kind: str  # stuck_value, out_of_range, drift, flat_battery, silent
    detected_at: datetime
    window_start: datetime
    window_end: datetime
    description: str
    rule_key: str
    rule_version: int
    figures: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse naive or inverted windows."""
        _check_window(self.window_start, self.window_end)
        if self.detected_at.tzinfo is None:
            raise ValueError("detected_at must be timezone-aware")


def finite_figures(figures: Mapping[str, float]) -> dict[str, float]:
    """Figures rounded to 4 places; one that is not a number (too little data for it) is left out."""
    return {k: round(float(v), 4) for k, v in figures.items() if math.isfinite(float(v))}


def evidence(finding: Finding) -> dict[str, object]:
    """What a case's evidence records of a finding: the rule, its version, the figures, the basis."""
    return {
        "rule": finding.rule_key,
        "rule_version": finding.rule_version,
        "figures": dict(finding.figures),
        "conditions": finding.conditions,
        "evidence_basis": finding.evidence_basis,
        "confidence": finding.confidence,
    }
