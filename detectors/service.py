"""Use cases of the detectors room that entry points call: evidence series for a person to read."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from detectors.runner import hourly_frame
from detectors.schemas import EvidenceSeriesOut, SeriesPoint
from ingest.store import TelemetryStore

SERIES_PAD = timedelta(hours=24)
THRESHOLD_WORDS = ("threshold", "level", "limit")


class EvidenceItem(Protocol):
    """What the series needs of a case's evidence row (compliance owns the table)."""

    sensor: str | None
    room: str | None
    rule: str | None
    rule_version: str | None
    description: str | None
    window_start: datetime | None
    window_end: datetime | None
    figures: Mapping[str, Any] | None


def evidence_series(
    store: TelemetryStore, item: EvidenceItem, *, case_id: int, n: int
) -> EvidenceSeriesOut:
    """One evidence item as a chart-ready hourly series around its window, with its thresholds."""
    figures: dict[str, Any] = dict(item.figures or {})
    thresholds = {
        k: float(v)
        for k, v in figures.items()
        if any(w in k for w in THRESHOLD_WORDS) and isinstance(v, int | float)
    }
    series: list[SeriesPoint] = []
    if item.sensor and "/" in item.sensor and item.window_start and item.window_end:
        gateway_id, sensor_id = item.sensor.split("/", 1)
        readings = store.query(
            start=item.window_start - SERIES_PAD,
            end=item.window_end + SERIES_PAD,
            gateway_id=gateway_id,
            sensor=sensor_id,
        )
        frame = hourly_frame(readings)
        for label, row in frame.iterrows():
            values = {
                k: (None if v is None or math.isnan(v) else round(float(v), 2))
                for k, v in row.items()
                if k in ("temperature_c", "humidity_pct", "wme_pct")
            }
            series.append(SeriesPoint(t=label.to_pydatetime(), **values))
    return EvidenceSeriesOut(
        case_id=case_id,
        evidence=n,
        sensor=item.sensor,
        room=item.room,
        rule=item.rule,
        rule_version=item.rule_version,
        description=item.description,
        window_start=item.window_start,
        window_end=item.window_end,
        thresholds=thresholds,
        figures=figures,
        series=series,
    )
