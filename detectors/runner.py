"""The incremental detector pass: new telemetry in, findings and fleet tasks out, state kept.

Each pass reads the store once for the last `fetch_h` hours (all sensors), plus — for the few
gateways whose sensors are behind (silent, or replaying a backlog) — from where each stopped.
Readings become hourly means (numpy, fleet-wide) and are folded into `detectors.fleet`'s state,
which lives in the case database as one row per sensor (written only when it changed). An hour is folded once it is final: a later
reading of the sensor exists (a sensor that stops keeps its last hour until it resumes). Because a
sensor's state only moves with its own data, a gateway replaying three days oldest-first is
folded exactly as if its readings had arrived on time.

Late data: the fast path folds each sensor's hours once, in time order; it cannot unfold. A reading
that arrives for an hour already folded is ignored — the sensor-hours it touched are counted
(ring-checked, so re-reads are not counted) in `PassResult.late_ignored`, the log line and the
Prometheus counter `homesafe_detector_late_sensor_hours_total`. In-order arrival is what the gateways do (they
buffer while offline and replay oldest first, and an hour waits until a later reading exists); the
telemetry contract does not promise it, so `late_check_h` re-reads folded hours to measure it.

Outdoor temperature: no room in the registry vocabulary is outdoors ("other" may be a cupboard),
so it comes only from a weather feed passed as `outdoor` (home ids, hour starts → °C, NaN where
unknown). Without it the mould rule runs on room air and its finding says so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from prometheus_client import Counter
from sqlalchemy.orm import Session

from detectors import repository
from detectors.findings import Finding, FleetTask
from detectors.fleet import (
    HOUR_S,
    RING_H,
    FleetSettings,
    FleetState,
    HourBatch,
    SiteInfo,
    drift_tasks,
    fold_hours,
    update_silence,
)
from detectors.rules.rule import MEASUREMENTS
from ingest.contract import Reading
from ingest.store import TelemetryStore

log = logging.getLogger(__name__)
LATE_READINGS = Counter(
    "homesafe_detector_late_sensor_hours_total",
    "Sensor-hours that received readings after the detectors had folded them (ignored).",
)

OutdoorFeed = Callable[[Sequence[str], npt.NDArray[np.int64]], npt.NDArray[np.float64]]


@dataclass(frozen=True, slots=True)
class SensorSite:
    """A registered sensor, where it is, and whether its household is vulnerable."""

    home_id: str
    gateway_id: str
    sensor_id: str
    room: str
    vulnerable: bool = False


@dataclass(frozen=True)
class RunnerSettings:
    """How far each pass reads, and when an hour is final."""

    fetch_h: int = 2
    grace_h: int = 1
    replay_horizon_h: int = 24 * 35  # the contract refuses readings older than 35 days
    max_gateway_queries: int = 5000  # beyond this, one wide query replaces per-gateway ones
    late_check_h: int = 0  # re-read this many folded hours to count late arrivals (costs read time)
    fleet: FleetSettings = field(default_factory=FleetSettings)


@dataclass
class PassResult:
    """What one pass did."""

    findings: list[Finding] = field(default_factory=list)
    tasks: list[FleetTask] = field(default_factory=list)
    readings: int = 0
    sensor_hours: int = 0
    behind_gateways: int = 0
    late_ignored: int = (
        0  # sensor-hours already folded that got more readings (see `late_folded_hours`)
    )
    cleared: list[tuple[str, str]] = field(
        default_factory=list
    )  # sensors heard again after silence


def hourly_frame(readings: Iterable[Reading]) -> pd.DataFrame:
    """Readings as hourly means, labelled by the hour's start (UTC)."""
    rows = [(r.ts, r.temperature_c, r.humidity_pct, r.wme_pct, r.battery_pct) for r in readings]
    if not rows:
        return pd.DataFrame(columns=list(MEASUREMENTS), index=pd.DatetimeIndex([], tz="UTC"))
    frame = pd.DataFrame(rows, columns=["ts", *MEASUREMENTS], dtype="float64")
    frame.index = pd.to_datetime(frame.pop("ts").astype("int64"), unit="s", utc=True)
    return frame.resample("1h").mean()


def hour_batch(
    state: FleetState,
    readings: Sequence[Reading],
    *,
    now: datetime,
    sites: Sequence[SiteInfo | None],
    outdoor: OutdoorFeed | None,
) -> tuple[HourBatch, npt.NDArray[np.int64]]:
    """Hourly means of the final hours among `readings` (one row per sensor and hour), and each row's newest ts."""
    state.late_ignored = 0
    if not readings:
        empty = np.zeros(0, dtype=np.int64)
        nan = np.zeros(0)
        return HourBatch(empty, empty, nan, nan, nan, nan, nan), np.zeros(
            len(state.keys), dtype=np.int64
        )
    rows = state.rows([(r.gateway_id, r.sensor) for r in readings])
    ts = np.fromiter((r.ts for r in readings), dtype=np.int64, count=len(readings))
    values = np.array(
        [(r.temperature_c, r.humidity_pct, r.wme_pct, r.battery_pct) for r in readings],
        dtype=np.float64,
    )
    hour = ts // HOUR_S * HOUR_S
    key = rows * (1 << 32) + (hour // HOUR_S)
    unique, inverse = np.unique(key, return_inverse=True)
    present = np.isfinite(values)
    sums = np.zeros((unique.size, 4))
    counts = np.zeros((unique.size, 4))
    for m in range(4):
        np.add.at(sums[:, m], inverse, np.where(present[:, m], values[:, m], 0.0))
        np.add.at(counts[:, m], inverse, present[:, m])
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    u_rows = (unique >> 32).astype(np.int64)
    u_hour = (unique & ((1 << 32) - 1)) * HOUR_S
    latest = np.zeros(len(state.keys), dtype=np.int64)
    np.maximum.at(latest, rows, ts)
    # Final only once a later reading of the sensor exists: replays come oldest first, so a
    # half-replayed hour waits. A sensor that stops keeps its last hour unfolded until it resumes.
    final = (latest[u_rows] >= u_hour + HOUR_S) & (u_hour + HOUR_S <= int(now.timestamp()))
    late_hours = late_folded_hours(state, u_rows, u_hour, means)
    state.late_ignored = int(late_hours.sum())
    u_rows, u_hour, means = u_rows[final], u_hour[final], means[final]
    outdoor_c = np.full(u_rows.size, np.nan)
    if outdoor is not None and u_rows.size:
        homes = [
            site.home_id if site else ""
            for site in (sites[r] if r < len(sites) else None for r in u_rows)
        ]
        outdoor_c = np.asarray(outdoor(homes, u_hour), dtype=np.float64)
    batch = HourBatch(u_rows, u_hour, means[:, 0], means[:, 1], means[:, 2], means[:, 3], outdoor_c)
    return batch, latest


def late_folded_hours(
    state: FleetState,
    rows: npt.NDArray[np.int64],
    hour_s: npt.NDArray[np.int64],
    means: npt.NDArray[np.float64],
) -> npt.NDArray[np.bool_]:
    """Which (sensor, hour) groups are late data: an hour already folded whose mean now differs.

    Checked against the hourly means kept in the state's 24-h rings, so a re-read of an hour
    that was folded whole is not counted; older hours cannot be checked and are not counted.
    """
    through = state["through_s"][rows]
    back = (through - hour_s) // HOUR_S  # 1 = the last hour folded
    checkable = (hour_s < through) & (back <= RING_H)
    out = np.zeros(rows.size, dtype=bool)
    idx = np.flatnonzero(checkable)
    if idx.size == 0:
        return out
    slot = (RING_H - back[idx]).astype(np.int64)
    for m, name in enumerate(("temperature_ring", "humidity_ring", "wme_ring")):
        folded = state[name][rows[idx], slot].astype(np.float64)
        now_mean = means[idx, m].astype(np.float32).astype(np.float64)
        differs = np.where(
            np.isfinite(folded),
            ~np.isclose(now_mean, folded, rtol=0, atol=1e-4, equal_nan=True),
            np.isfinite(now_mean),
        )
        out[idx] |= differs
    return out


def site_table(state: FleetState, sites: Sequence[SensorSite]) -> list[SiteInfo | None]:
    """SiteInfo by state row (None for sensors no longer registered)."""
    rows = state.rows([(s.gateway_id, s.sensor_id) for s in sites])
    table: list[SiteInfo | None] = [None] * len(state.keys)
    for row, site in zip(rows.tolist(), sites, strict=True):
        table[row] = SiteInfo(site.home_id, site.room, site.vulnerable)
    return table


def read_new(
    store: TelemetryStore,
    state: FleetState,
    sites: Sequence[SensorSite],
    *,
    now: datetime,
    settings: RunnerSettings,
) -> tuple[list[Reading], int, int]:
    """One fleet-wide query for recent hours, plus catch-up queries for gateways that are behind."""
    fetch_from = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=settings.fetch_h)
    first_pass = not state.keys or bool((state["through_s"] == 0).all())
    if not first_pass:  # most sensors are folded up to the same hour: read only after it
        through = state["through_s"][state["through_s"] > 0]
        values, counts = np.unique(through, return_counts=True)
        usual = datetime.fromtimestamp(int(values[np.argmax(counts)]), UTC)
        fetch_from = max(fetch_from, min(usual, now.replace(minute=0, second=0, microsecond=0)))
    fetch_from -= timedelta(hours=settings.late_check_h)
    fetch_from_s = int(fetch_from.timestamp())
    readings = list(store.query(start=fetch_from, end=now))
    horizon_s = int(now.timestamp()) - settings.replay_horizon_h * HOUR_S
    behind: dict[str, int] = {}
    if first_pass:
        behind = {"*": fetch_from_s - 24 * HOUR_S}
    else:
        rows = state.rows([(s.gateway_id, s.sensor_id) for s in sites])
        through = state["through_s"][rows]
        for site, t in zip(sites, through.tolist(), strict=True):
            if t < fetch_from_s:
                start = max(t if t > 0 else fetch_from_s - 24 * HOUR_S, horizon_s)
                behind[site.gateway_id] = min(behind.get(site.gateway_id, start), start)
    if len(behind) > settings.max_gateway_queries:
        behind = {"*": min(behind.values())}
    for gateway_id, start_s in behind.items():
        if start_s >= fetch_from_s:
            continue
        start = datetime.fromtimestamp(start_s, UTC)
        readings += store.query(
            start=start, end=fetch_from, gateway_id=None if gateway_id == "*" else gateway_id
        )
    return readings, fetch_from_s, len(behind)


def advance(
    state: FleetState,
    readings: Sequence[Reading],
    sites: Sequence[SensorSite],
    *,
    now: datetime,
    settings: RunnerSettings = RunnerSettings(),
    timezone: str = "Europe/London",
    outdoor: OutdoorFeed | None = None,
) -> PassResult:
    """Fold the final hours of `readings` into the state; findings and tasks on rising edges."""
    table = site_table(state, sites)
    batch, latest = hour_batch(
        state,
        readings,
        now=now,
        sites=table,
        outdoor=outdoor,
    )
    table += [None] * (len(state.keys) - len(table))
    days_before = state["day_ordinal"].copy()
    folded = fold_hours(state, batch, table, timezone=timezone, settings=settings.fleet)
    result = PassResult(
        findings=folded.findings,
        tasks=folded.tasks,
        readings=len(readings),
        sensor_hours=folded.hours_folded,
        late_ignored=state.late_ignored,
    )
    if (
        state["day_ordinal"][: days_before.size] != days_before
    ).any():  # a local day completed somewhere
        result.tasks += drift_tasks(state, table, now=now)
    silent, cleared = update_silence(
        state, table, now=now, latest_ts_s=latest, settings=settings.fleet
    )
    result.tasks += silent
    result.cleared = [state.keys[r] for r in cleared]
    return result


@dataclass
class PassStats:
    """What one stored pass did, and where its time went (seconds)."""

    result: PassResult
    sensors: int = 0
    state_rows_written: int = 0
    load_s: float = 0.0
    read_s: float = 0.0
    fold_s: float = 0.0
    emit_s: float = 0.0
    write_s: float = 0.0

    @property
    def total_s(self) -> float:
        """The whole pass."""
        return self.load_s + self.read_s + self.fold_s + self.emit_s + self.write_s


def stored_pass(
    session: Session,
    *,
    store: TelemetryStore,
    sites: Sequence[SensorSite],
    now: datetime,
    emit: Callable[[Finding], None],
    settings: RunnerSettings = RunnerSettings(),
    timezone: str = "Europe/London",
    outdoor: OutdoorFeed | None = None,
) -> PassStats:
    """Load the sensor states, read and fold new telemetry, emit, write back only the changed states."""
    clock = time.perf_counter
    t0 = clock()
    stored = repository.load_state(session)
    state = FleetState.from_records(stored.keys, stored.records)
    t1 = clock()
    readings, _fetch_from_s, behind = read_new(store, state, sites, now=now, settings=settings)
    t2 = clock()
    result = advance(
        state,
        readings,
        sites,
        now=now,
        settings=settings,
        timezone=timezone,
        outdoor=outdoor,
    )
    result.behind_gateways = behind
    LATE_READINGS.inc(result.late_ignored)
    t3 = clock()
    for finding in result.findings:
        emit(finding)
    repository.add_fleet_tasks(session, result.tasks)
    silent = [(t.sensor.gateway_id, t.sensor.sensor_id) for t in result.tasks if t.kind == "silent"]
    if silent:
        repository.set_silent(session, silent, active=True, now=now)
    cleared = result.cleared
    if cleared:
        repository.set_silent(session, cleared, active=False, now=now)
        repository.resolve_silent_tasks(session, cleared, now=now)
    session.flush()
    t4 = clock()
    records = state.records()
    changed = repository.changed_rows(stored.records, records)
    written = repository.save_state(
        session, [state.keys[i] for i in changed.tolist()], records[changed]
    )
    t5 = clock()
    stats = PassStats(result, len(state.keys), written, t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)
    log.info(
        "detector pass: %d readings, %d sensor-hours, %d behind gateways, %d late sensor-hours ignored, "
        "%d findings, %d tasks, %d of %d states written; %.1f s",
        result.readings,
        result.sensor_hours,
        behind,
        result.late_ignored,
        len(result.findings),
        len(result.tasks),
        written,
        len(state.keys),
        stats.total_s,
    )
    return stats


def run_pass(
    session: Session,
    *,
    store: TelemetryStore,
    sites: Sequence[SensorSite],
    now: datetime,
    emit: Callable[[Finding], None],
    settings: RunnerSettings = RunnerSettings(),
    timezone: str = "Europe/London",
    outdoor: OutdoorFeed | None = None,
    **_ignored: Any,
) -> int:
    """One incremental pass (`stored_pass`); returns the number of findings emitted."""
    stats = stored_pass(
        session,
        store=store,
        sites=sites,
        now=now,
        emit=emit,
        settings=settings,
        timezone=timezone,
        outdoor=outdoor,
    )
    return len(stats.result.findings)
