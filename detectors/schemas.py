"""Pydantic shapes the detectors room hands out: fleet tasks and chart-ready evidence series."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class FleetTaskOut(BaseModel):
    """A sensor or gateway health task."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    home_id: str
    gateway_id: str
    sensor_id: str
    kind: str
    status: str
    detected_at: datetime
    window_start: datetime
    window_end: datetime
    resolved_at: datetime | None
    description: str
    rule_key: str
    rule_version: int
    figures: dict[str, Any]


class SeriesPoint(BaseModel):
    """One hour's means (hour start, UTC)."""

    t: datetime
    temperature_c: float | None = None
    humidity_pct: float | None = None
    wme_pct: float | None = None


class EvidenceSeriesOut(BaseModel):
    """A finding's evidence as a chart: hourly series around the window, thresholds, figures."""

    case_id: int
    evidence: int  # 1-based position in the case's evidence
    sensor: str | None
    room: str | None
    rule: str | None
    rule_version: str | None
    description: str | None
    window_start: datetime | None
    window_end: datetime | None
    thresholds: dict[str, float]
    figures: dict[str, Any]
    series: list[SeriesPoint]
