"""A home's sensor readings as charts: one per measure, each with the thresholds that belong to it.

The measures are a table: which readings, their unit, which of a finding's figures are its
thresholds, and the line drawn when no finding names one (the detectors' own defaults, so the
chart shows the level the detector works to).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from api.pages import charts
from detectors.rules.cold import ExcessColdSettings
from detectors.rules.damp_and_mould import SustainedHumiditySettings
from detectors.rules.moisture import DampSettings
from ingest.store import TelemetryStore, TelemetryStoreError
from registry import repository as registry
from registry.clock import from_epoch_s

BEFORE_WINDOW = timedelta(days=2)
AFTER_WINDOW = timedelta(hours=12)
DEFAULT_SPAN = timedelta(days=3)
PERIODS: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "3d": timedelta(days=3),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}


def _is_threshold(key: str) -> bool:
    return "threshold" in key


@dataclass(frozen=True)
class Measure:
    """One measured quantity and how its chart reads a finding's thresholds."""

    reading: str  # the Reading attribute
    title: str
    unit: str
    threshold_key: Callable[[str], bool]  # which figure keys are this measure's thresholds
    default: charts.Threshold


MEASURES: tuple[Measure, ...] = (
    Measure(
        "humidity_pct",
        "Relative humidity",
        "% RH",
        lambda k: _is_threshold(k) and ("humidity" in k or "_rh_" in k) and k.endswith("_pct"),
        charts.Threshold(
            f"{SustainedHumiditySettings().threshold_humidity_pct:g} % RH: mould risk",
            SustainedHumiditySettings().threshold_humidity_pct,
        ),
    ),
    Measure(
        "temperature_c",
        "Temperature",
        "°C",
        lambda k: _is_threshold(k) and k.endswith("_c"),
        charts.Threshold(
            f"{ExcessColdSettings().health_c:g} °C: too cold for health",
            ExcessColdSettings().health_c,
        ),
    ),
    Measure(
        "wme_pct",
        "Damp in the wall or floor (wood moisture equivalent)",
        "% WME",
        lambda k: _is_threshold(k) and "wme" in k,
        charts.Threshold(
            f"{DampSettings().threshold_wme_pct:g} % WME: damp",
            DampSettings().threshold_wme_pct,
        ),
    ),
)


@dataclass(frozen=True)
class Chart:
    """A chart in two drawings (wide screens and phones), its legend and evidence window."""

    caption: str
    wide: str
    narrow: str
    window: tuple[datetime, datetime] | None
    legend: tuple[tuple[str, int], ...] = ()  # (label, series index: its colour and dash)
    thresholds: tuple[charts.Threshold, ...] = ()
    series: tuple[charts.Series, ...] = ()
    unit: str = ""
    failed: bool = False


def thresholds_for(measure: Measure, figures: dict[str, Any]) -> list[charts.Threshold]:
    """The finding's thresholds for this measure, or the detectors' default when it names none."""
    found = [
        charts.Threshold(f"threshold {value:g} {measure.unit}", float(value))
        for key, value in sorted(figures.items())
        if measure.threshold_key(key)
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ]
    return found or [measure.default]


def evidence_period(
    evidence: Sequence[Any], now: datetime
) -> tuple[tuple[datetime, datetime] | None, datetime, datetime]:
    """The findings' window (None without one) and the period a chart shows around it."""
    windows = [
        (e.window_start, e.window_end)
        for e in evidence
        if e.window_start is not None and e.window_end is not None
    ]
    if not windows:
        return None, now - DEFAULT_SPAN, now
    window = (min(w[0] for w in windows), max(w[1] for w in windows))
    return window, window[0] - BEFORE_WINDOW, min(window[1] + AFTER_WINDOW, now)


def home_charts(
    telemetry: TelemetryStore,
    session: Session,
    *,
    home_id: str,
    evidence: Sequence[Any] = (),
    now: datetime,
    timezone: str,
    start: datetime | None = None,
    end: datetime | None = None,
    id_prefix: str = "chart",
) -> list[Chart]:
    """One chart per measure the home's sensors report, around the evidence window (or over
    ``start``–``end``), each with its own thresholds and local-time axis."""
    window, default_start, default_end = evidence_period(evidence, now)
    start, end = start or default_start, end or default_end
    try:
        readings = telemetry.query(start=start, end=end, home_id=home_id)
    except TelemetryStoreError:
        return [
            Chart(
                "The sensor readings could not be fetched; try again shortly.",
                "",
                "",
                None,
                failed=True,
            )
        ]
    figures: dict[str, Any] = {}
    for e in evidence:
        figures.update(e.figures or {})
    rooms = {
        f"{s.gateway_id}/{s.sensor_id}": s.room for s in registry.sensors_of_home(session, home_id)
    }
    made = []
    for n, measure in enumerate(MEASURES):
        by_sensor: dict[str, list[tuple[datetime, float]]] = {}
        for r in readings:
            value = getattr(r, measure.reading)
            if value is not None:
                by_sensor.setdefault(f"{r.gateway_id}/{r.sensor}", []).append(
                    (from_epoch_s(r.ts), value)
                )
        if not by_sensor:
            continue
        series = [
            charts.Series(
                f"{(rooms.get(key) or 'unknown room').replace('_', ' ').capitalize()} ({key})",
                sorted(points),
            )
            for key, points in sorted(by_sensor.items())
        ]
        thresholds = thresholds_for(measure, figures)
        title = f"{measure.title}, {measure.unit}"
        common: dict[str, Any] = {
            "title": title,
            "unit": measure.unit,
            "thresholds": thresholds,
            "window": window,
            "start": start,
            "end": end,
            "timezone": timezone,
        }
        made.append(
            Chart(
                title,
                charts.line_chart(series, chart_id=f"{id_prefix}-{n}-wide", **common),
                charts.line_chart(
                    series,
                    chart_id=f"{id_prefix}-{n}-narrow",
                    width=360,
                    height=240,
                    most_ticks=4,
                    font_px=13,
                    **common,
                ),
                window,
                tuple((one.label, i % len(charts.SERIES_COLOURS)) for i, one in enumerate(series)),
                tuple(thresholds),
                tuple(series),
                measure.unit,
            )
        )
    return made
