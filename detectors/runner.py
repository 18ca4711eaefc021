"""Feed the rules from the telemetry store and hand findings on, once per episode."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from detectors.findings import Finding, SensorRef
from detectors.models import DetectorState
from detectors.rules.rule import MEASUREMENTS, Rule, SensorContext
from detectors.rules.table import SUSTAINED_HUMIDITY
from ingest.contract import Reading
from ingest.store import TelemetryStore

log = logging.getLogger(__name__)

# The walking skeleton's rule; the detectors issue widens this once its evaluation is in.
ACTIVE_RULES: tuple[Rule[Any], ...] = (SUSTAINED_HUMIDITY,)


@dataclass(frozen=True, slots=True)
class SensorSite:
    """A registered sensor and where it is."""

    home_id: str
    gateway_id: str
    sensor_id: str
    room: str


def hourly_frame(readings: Iterable[Reading]) -> pd.DataFrame:
    """Readings as hourly means, labelled by the hour's start (UTC)."""
    rows = [(r.ts, r.temperature_c, r.humidity_pct, r.wme_pct, r.battery_pct) for r in readings]
    if not rows:
        return pd.DataFrame(columns=list(MEASUREMENTS), index=pd.DatetimeIndex([], tz="UTC"))
    frame = pd.DataFrame(rows, columns=["ts", *MEASUREMENTS], dtype="float64")
    frame.index = pd.to_datetime(frame.pop("ts").astype("int64"), unit="s", utc=True)
    return frame.resample("1h").mean()


def run_pass(
    session: Session,
    *,
    store: TelemetryStore,
    sites: Sequence[SensorSite],
    now: datetime,
    emit: Callable[[Finding], None],
    rules: Sequence[Rule[Any]] = ACTIVE_RULES,
    timezone: str = "Europe/London",
) -> int:
    """Evaluate every rule on every sensor; emit a finding when its condition starts to hold."""
    lookback = timedelta(hours=max(rule.lookback_h for rule in rules) + 1)
    by_gateway: dict[tuple[str, str], list[Reading]] = {}
    for reading in store.query(start=now - lookback, end=now):
        by_gateway.setdefault((reading.gateway_id, reading.sensor), []).append(reading)
    emitted = 0
    for site in sites:
        frame = hourly_frame(by_gateway.get((site.gateway_id, site.sensor_id), ()))
        context = SensorContext(
            home_id=site.home_id,
            sensor=SensorRef(site.gateway_id, site.sensor_id),
            room=site.room,
            now=now,
            timezone=timezone,
        )
        for rule in rules:
            state = session.get(DetectorState, (site.gateway_id, site.sensor_id, rule.key))
            if state is None:
                state = DetectorState(
                    gateway_id=site.gateway_id,
                    sensor_id=site.sensor_id,
                    rule_key=rule.key,
                    active=False,
                )
                session.add(state)
            findings = rule.run(frame, context).findings
            if findings and not state.active:
                for finding in findings:
                    emit(finding)
                    emitted += 1
                state.last_finding_at = now
            state.active = bool(findings)
            state.last_evaluated_at = now
    session.flush()
    return emitted
