"""The detector pass: stored telemetry in, findings and fleet tasks out, state kept per sensor.

Every stored hour counts (issue 15). A sensor with no state (a new sensor, a registry import of
homes already reporting, detectors that were down, a gateway uploading its buffer) first folds the
store's history from where it stopped, up to `history_h` (the contract's 35 days), gateway set by
gateway set so memory stays bounded; then it goes incremental: each pass reads the store once for
the recent hours (all sensors). Readings become hourly means (numpy, fleet-wide) and are folded
into `detectors.fleet`'s state, which lives in the case database as one row per sensor (written
only when it changed). An hour is folded once it is final: a later reading of the sensor exists (a
sensor that stops keeps its last hour until it resumes). Because a sensor's state only moves with
its own data, a gateway replaying three days oldest-first is folded exactly as if on time.

Late data: a reading that arrives for an hour already folded is found when its hour is re-read —
the last `late_check_h` hours of every sensor, and, for sensors whose last folded day has gap
hours, their gateway over the gap (a gateway that came back live before uploading its buffer). The
sensor is then rewound to a fresh state and re-folded from the stored history, so the late hour
counts; findings it had raised before are not raised again. The re-folded sensor-hours are counted
in `PassResult.late_refolded`, the log line and `homesafe_detector_late_sensor_hours_total`. A late
hour older than the 24-h ring (and not in a re-read window) cannot be told apart and is not seen.

Outdoor temperature: no room in the registry vocabulary is outdoors ("other" may be a cupboard),
so it comes only from a weather feed passed as `outdoor` (home ids, hour starts → °C, NaN where
unknown). Without it the mould rule runs on room air and its finding says so.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
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
    BIT,
    HOUR_S,
    RING_H,
    FleetSettings,
    FleetState,
    FoldResult,
    HourBatch,
    Site,
    drift_tasks,
    fold_hours,
    update_silence,
)
from detectors.rules.rule import MEASUREMENTS
from ingest.contract import Reading
from ingest.store import ReadingColumns, TelemetryStore

log = logging.getLogger(__name__)
LATE_READINGS = Counter(
    "homesafe_detector_late_sensor_hours_total",
    "Folded sensor-hours that received readings later: each sensor is rewound and re-folded.",
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
    """How far each pass reads, how much stored history a first pass folds, and in what bites."""

    fetch_h: int = 2
    grace_h: int = 1
    # The contract refuses readings older than 35 days: a sensor with no state (new sensor,
    # registry import of homes already reporting, detectors down, a buffered upload) folds up to
    # this much stored history on its first pass, before going incremental.
    history_h: int = 24 * 35
    # Stored history is read gateway set by gateway set, each read at most this many sensor-hours
    # (about 4 readings each), so a first pass over a whole fleet keeps its memory bounded. The
    # fold costs per hour folded, whatever the sensors in it, so larger sets fold faster: at
    # 400,000 a 7-day first pass of 40,000 sensors folded in 47 s, at 1,000,000 in 26 s (peak
    # memory of the bench 1.2 GB, three sets in flight; 35 days of history would hold five times
    # the readings a set).
    history_sensor_hours: int = 1_000_000
    # The fleet-wide read of the recent hours runs as this many queries side by side, each
    # over a part of the gateways, and a first pass reads this many gateway sets ahead:
    # InfluxDB answers one query on one core.
    read_parts: int = 2
    late_check_h: int = 0  # re-read this many folded hours of every sensor for late readings
    # Sensors with gap hours among their last folded hours (a gateway that came back live before
    # uploading its buffer) have their gateway re-read over the gap: readings found there are late.
    gap_check_h: int = RING_H
    fleet: FleetSettings = field(default_factory=FleetSettings)


@dataclass
class PassResult:
    """What one pass did."""

    findings: list[Finding] = field(default_factory=list)
    tasks: list[FleetTask] = field(default_factory=list)
    readings: int = 0
    sensor_hours: int = 0
    behind_gateways: int = 0  # gateways whose sensors folded stored history this pass
    history_reads: int = 0  # store queries for stored history (gateway sets)
    late_refolded: int = 0  # folded sensor-hours that got readings later (their sensors re-folded)
    refolded_sensors: int = 0
    cleared: list[tuple[str, str]] = field(default_factory=list)  # heard again after silence
    read_s: float = 0.0  # waiting for the store (history is read ahead while the fold runs)
    fold_s: float = 0.0


def hourly_frame(readings: Iterable[Reading]) -> pd.DataFrame:
    """Readings as hourly means, labelled by the hour's start (UTC)."""
    rows = [(r.ts, r.temperature_c, r.humidity_pct, r.wme_pct, r.battery_pct) for r in readings]
    if not rows:
        return pd.DataFrame(columns=list(MEASUREMENTS), index=pd.DatetimeIndex([], tz="UTC"))
    frame = pd.DataFrame(rows, columns=["ts", *MEASUREMENTS], dtype="float64")
    frame.index = pd.to_datetime(frame.pop("ts").astype("int64"), unit="s", utc=True)
    return frame.resample("1h").mean()


@dataclass(frozen=True)
class HourlyMeans:
    """Readings grouped by (state row, hour): each group's means and each row's newest ts."""

    rows: npt.NDArray[np.int64]
    hour_s: npt.NDArray[np.int64]
    means: npt.NDArray[np.float64]  # (groups, 4): temperature, RH, %WME, battery
    latest: npt.NDArray[np.int64]  # per state row (0 where none)


def sensor_rows(state: FleetState, columns: ReadingColumns) -> npt.NDArray[np.int64]:
    """Each reading's state row (rows added for sensors not seen before).

    The (gateway, sensor) pairs are coded with pandas and looked up once per sensor, not once
    per reading: a steady pass carries about five readings a sensor."""
    if not len(columns):
        return np.zeros(0, dtype=np.int64)
    gateway_codes, gateways = pd.factorize(columns.gateway_id)
    sensor_codes, sensors = pd.factorize(columns.sensor)
    pair = gateway_codes.astype(np.int64) * len(sensors) + sensor_codes
    pairs, inverse = np.unique(pair, return_inverse=True)
    keys = [(gateways[p // len(sensors)], sensors[p % len(sensors)]) for p in pairs.tolist()]
    rows: npt.NDArray[np.int64] = state.rows(keys)[inverse.reshape(-1)]
    return rows


def hourly_means(state: FleetState, columns: ReadingColumns) -> HourlyMeans:
    """Hourly means per sensor (state rows added for sensors not seen before)."""
    if not len(columns):
        empty = np.zeros(0, dtype=np.int64)
        return HourlyMeans(
            empty, empty, np.zeros((0, 4)), np.zeros(len(state.keys), dtype=np.int64)
        )
    rows = sensor_rows(state, columns)
    ts, values = columns.ts, columns.values
    key = rows * (1 << 32) + ts // HOUR_S
    unique, inverse = np.unique(key, return_inverse=True)
    inverse = inverse.reshape(-1)
    present = np.isfinite(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.column_stack(
            [
                np.bincount(inverse, np.where(present[:, m], values[:, m], 0.0), unique.size)
                / np.bincount(inverse, present[:, m], unique.size)
                for m in range(values.shape[1])
            ]
        )
    latest = np.zeros(len(state.keys), dtype=np.int64)
    np.maximum.at(latest, rows, ts)
    return HourlyMeans(
        (unique >> 32).astype(np.int64), (unique & ((1 << 32) - 1)) * HOUR_S, means, latest
    )


def hour_batch(
    grouped: HourlyMeans,
    *,
    now: datetime,
    sites: Sequence[Site | None],
    outdoor: OutdoorFeed | None,
) -> HourBatch:
    """The final hours among the hourly means (one row per sensor and hour)."""
    u_rows, u_hour, means, latest = grouped.rows, grouped.hour_s, grouped.means, grouped.latest
    # Final only once a later reading of the sensor exists: replays come oldest first, so a
    # half-replayed hour waits. A sensor that stops keeps its last hour unfolded until it resumes.
    final = (latest[u_rows] >= u_hour + HOUR_S) & (u_hour + HOUR_S <= int(now.timestamp()))
    u_rows, u_hour, means = u_rows[final], u_hour[final], means[final]
    outdoor_c = np.full(u_rows.size, np.nan)
    if outdoor is not None and u_rows.size:
        homes = [
            site.home_id if site else ""
            for site in (sites[r] if r < len(sites) else None for r in u_rows)
        ]
        outdoor_c = np.asarray(outdoor(homes, u_hour), dtype=np.float64)
    return HourBatch(u_rows, u_hour, means[:, 0], means[:, 1], means[:, 2], means[:, 3], outdoor_c)


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


def site_rows(state: FleetState, sites: Sequence[SensorSite]) -> npt.NDArray[np.int64]:
    """The state row of each site (fresh rows added for sensors not seen before)."""
    return state.rows([(s.gateway_id, s.sensor_id) for s in sites])


def site_table(
    state: FleetState, sites: Sequence[SensorSite], rows: npt.NDArray[np.int64]
) -> list[Site | None]:
    """Each state row's site (None for sensors no longer registered); `rows` from `site_rows`."""
    table: list[Site | None] = [None] * len(state.keys)
    for row, site in zip(rows.tolist(), sites, strict=True):
        table[row] = site
    return table


def steady_start_s(state: FleetState, *, now: datetime, settings: RunnerSettings) -> int:
    """Where the fleet-wide read starts: after the hour most sensors are folded to."""
    now_hour = now.replace(minute=0, second=0, microsecond=0)
    fetch_from = now_hour - timedelta(hours=settings.fetch_h)
    folded = state["through_s"][state["through_s"] > 0]
    if folded.size:
        values, counts = np.unique(folded, return_counts=True)
        usual = datetime.fromtimestamp(int(values[np.argmax(counts)]), UTC)
        fetch_from = max(fetch_from, min(usual, now_hour))
    return int(fetch_from.timestamp()) - settings.late_check_h * HOUR_S


def gap_starts(
    state: FleetState, rows: npt.NDArray[np.int64], *, fetch_from_s: int, settings: RunnerSettings
) -> npt.NDArray[np.int64]:
    """Per row: the first folded hour with no measurement among its last `gap_check_h` (0: none).

    Only gaps after the first measured hour in the ring count (a new sensor's empty start is not
    a gap), and only rows that are not behind (those are read from where they stopped anyway).
    """
    out = np.zeros(rows.size, dtype=np.int64)
    through = state["through_s"][rows]
    width = min(settings.gap_check_h, RING_H)
    if width <= 0 or rows.size == 0:
        return out
    measured = np.zeros((rows.size, width), dtype=bool)
    for name in ("temperature_ring", "humidity_ring", "wme_ring"):
        measured |= np.isfinite(state[name][rows, -width:])
    started = np.maximum.accumulate(measured, axis=1)
    gap = started & ~measured
    has = gap.any(axis=1) & (through >= fetch_from_s)
    first = np.argmax(gap, axis=1)
    out[has] = through[has] - (width - first[has]) * HOUR_S
    return out


def gateway_groups(
    starts: dict[str, int], sensors: dict[str, int], *, end_s: int, budget_sensor_hours: int
) -> list[tuple[int, list[str]]]:
    """Gateways to read from their start to `end_s`, grouped so each read stays within the budget."""
    groups: list[tuple[int, list[str]]] = []
    current: list[str] = []
    current_start = end_s
    used = 0
    for gateway_id in sorted(starts, key=lambda g: (starts[g], g)):
        start = min(current_start, starts[gateway_id])
        cost = sensors.get(gateway_id, 1) * max(1, (end_s - start) // HOUR_S)
        if current and used + cost > budget_sensor_hours:
            groups.append((current_start, current))
            current, used, start = [], 0, starts[gateway_id]
            cost = sensors.get(gateway_id, 1) * max(1, (end_s - start) // HOUR_S)
        current.append(gateway_id)
        current_start = start
        used += cost
    if current:
        groups.append((current_start, current))
    return groups


def read_fleet(
    store: TelemetryStore, *, start: datetime, end: datetime, parts: int
) -> ReadingColumns:
    """Every gateway's readings in [start, end), read as `parts` queries side by side."""
    if parts <= 1:
        return store.query_columns(start=start, end=end)

    def read(k: int) -> ReadingColumns:
        return store.query_columns(start=start, end=end, part=(k, parts))

    with ThreadPoolExecutor(max_workers=parts, thread_name_prefix="detectors-read") as pool:
        return ReadingColumns.concat(pool.map(read, range(parts)))


def read_ahead(
    store: TelemetryStore,
    groups: Sequence[tuple[int, list[str]]],
    *,
    end: datetime,
    depth: int = 2,
) -> Iterator[tuple[ReadingColumns, float]]:
    """Each gateway set's readings from its start to `end`, in order, with the seconds waited.

    The next `depth` sets are read (on as many threads) while the caller folds this one: the
    store answers while Python folds, and InfluxDB answers each query on a core of its own, so a
    first pass costs about the longer of read and fold, not their sum; at most `depth` + 1 sets
    are in memory."""
    if not groups:
        return

    def read(group: tuple[int, list[str]]) -> ReadingColumns:
        start_s, gateways = group
        return store.query_columns(
            start=datetime.fromtimestamp(start_s, UTC), end=end, gateway_ids=gateways
        )

    workers = max(1, depth)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="detectors-read") as pool:
        pending = deque(pool.submit(read, group) for group in groups[:workers])
        following = iter(groups[workers:])
        while pending:
            t0 = time.perf_counter()
            readings = pending.popleft().result()
            waited_s = time.perf_counter() - t0
            group = next(following, None)
            if group is not None:
                pending.append(pool.submit(read, group))
            yield readings, waited_s


def fold_grouped(
    state: FleetState,
    grouped: HourlyMeans,
    table: list[Site | None],
    *,
    now: datetime,
    settings: RunnerSettings,
    timezone: str,
    outdoor: OutdoorFeed | None,
) -> FoldResult:
    """Fold the final hours of these hourly means."""
    batch = hour_batch(grouped, now=now, sites=table, outdoor=outdoor)
    table += [None] * (len(state.keys) - len(table))
    return fold_hours(state, batch, table, timezone=timezone, settings=settings.fleet)


def history_starts(
    state: FleetState,
    rows: npt.NDArray[np.int64],
    *,
    fetch_from_s: int,
    horizon_s: int,
) -> dict[str, int]:
    """Per gateway, where its sensors among `rows` that are behind `fetch_from_s` start folding
    the store's history: where each stopped, at most back to `horizon_s` (the earliest counts)."""
    through = state["through_s"][rows]
    behind = through < fetch_from_s
    starts = np.maximum(np.where(through > 0, through, horizon_s), horizon_s)[behind]
    history_from: dict[str, int] = {}
    for row, start in zip(rows[behind].tolist(), starts.tolist(), strict=True):
        gateway_id = state.keys[row][0]
        history_from[gateway_id] = min(history_from.get(gateway_id, start), start)
    return history_from


def rewind(state: FleetState, rows: npt.NDArray[np.int64]) -> None:
    """Forget the folded state of these sensors (kept: newest reading and the silence episode)."""
    if rows.size == 0:
        return
    fresh = FleetState(keys=[("", "")] * rows.size)
    silent = state["active"][rows] & BIT["silent"]
    latest = state["latest_ts_s"][rows].copy()
    for name, array in state.arrays.items():
        array[rows] = fresh.arrays[name]
    state["active"][rows] = silent
    state["latest_ts_s"][rows] = latest


def run_in_memory(
    store: TelemetryStore,
    state: FleetState,
    sites: Sequence[SensorSite],
    *,
    now: datetime,
    settings: RunnerSettings = RunnerSettings(),
    timezone: str = "Europe/London",
    outdoor: OutdoorFeed | None = None,
) -> PassResult:
    """One pass on a state in memory: read, re-fold late sensors, fold stored history, fold new hours.

    1. One fleet-wide read of the recent hours; the gateways of sensors with gap hours in their
       last folded day are re-read over the gap.
    2. A sensor with readings in an hour it already folded (the mean differs from the ring) is
       rewound to a fresh state and re-folded from the stored history; findings it raised before
       the late hour are not raised again.
    3. Sensors with no state or behind the read (new, imported, detectors down, gateway offline)
       fold the store's history from where they stopped (at most `history_h`), gateway set by
       gateway set, in time order.
    4. The recent read is folded; drift on completed days, silence, cleared sensors.
    """
    clock = time.perf_counter
    result = PassResult()
    t_sites = clock()
    registered = site_rows(state, sites)
    table = site_table(state, sites, registered)
    days_before = state["day_ordinal"].copy()
    now_s = int(now.timestamp())
    fetch_from_s = steady_start_s(state, now=now, settings=settings)
    result.fold_s += clock() - t_sites
    t0 = clock()
    steady = read_fleet(
        store, start=datetime.fromtimestamp(fetch_from_s, UTC), end=now, parts=settings.read_parts
    )
    gaps = gap_starts(state, registered, fetch_from_s=fetch_from_s, settings=settings)
    gap_from: dict[str, int] = {}
    for site, start in zip(sites, gaps.tolist(), strict=True):
        if start:
            gap_from[site.gateway_id] = min(gap_from.get(site.gateway_id, start), start)
    sensors_of: dict[str, int] = {}
    for site in sites:
        sensors_of[site.gateway_id] = sensors_of.get(site.gateway_id, 0) + 1
    checked: list[ReadingColumns] = []
    for start_s, gateways in gateway_groups(
        gap_from, sensors_of, end_s=fetch_from_s, budget_sensor_hours=settings.history_sensor_hours
    ):
        if start_s < fetch_from_s:
            checked.append(
                store.query_columns(
                    start=datetime.fromtimestamp(start_s, UTC),
                    end=datetime.fromtimestamp(fetch_from_s, UTC),
                    gateway_ids=gateways,
                )
            )
    result.read_s += clock() - t0
    t1 = clock()

    # Late readings: rewind those sensors; they fold their stored history below. The steady
    # read's hourly means are kept for its fold at the end (a rewind changes no row numbers).
    grouped = hourly_means(state, steady)
    regrouped = hourly_means(state, ReadingColumns.concat(checked))
    table += [None] * (len(state.keys) - len(table))
    rows = np.concatenate([grouped.rows, regrouped.rows])
    hour_s = np.concatenate([grouped.hour_s, regrouped.hour_s])
    late = late_folded_hours(state, rows, hour_s, np.concatenate([grouped.means, regrouped.means]))
    first_late: dict[int, int] = {}
    for row, hour in zip(rows[late].tolist(), hour_s[late].tolist(), strict=True):
        first_late[row] = min(first_late.get(row, hour), hour)
    result.late_refolded = int(late.sum())
    result.refolded_sensors = len(first_late)
    before_rewind = {row: int(state["active"][row]) for row in first_late}
    rewind(state, np.fromiter(first_late, dtype=np.int64, count=len(first_late)))

    # Sensors behind the fleet-wide read fold the store's history from where they stopped.
    history_from = history_starts(
        state,
        np.union1d(registered, np.fromiter(first_late, dtype=np.int64, count=len(first_late))),
        fetch_from_s=fetch_from_s,
        horizon_s=now_s - settings.history_h * HOUR_S,
    )
    result.behind_gateways = len(history_from)
    latest = np.zeros(len(state.keys), dtype=np.int64)
    result.fold_s += clock() - t1
    groups = gateway_groups(
        history_from, sensors_of, end_s=now_s, budget_sensor_hours=settings.history_sensor_hours
    )
    for readings, waited_s in read_ahead(store, groups, end=now, depth=settings.read_parts):
        t3 = clock()
        result.read_s += waited_s
        result.history_reads += 1
        result.readings += len(readings)
        history = hourly_means(state, readings)
        folded = fold_grouped(
            state, history, table, now=now, settings=settings, timezone=timezone, outdoor=outdoor
        )
        latest = _merge_latest(latest, history.latest)
        _collect(result, folded, first_late, before_rewind)
        result.fold_s += clock() - t3

    t4 = clock()
    folded = fold_grouped(
        state, grouped, table, now=now, settings=settings, timezone=timezone, outdoor=outdoor
    )
    latest = _merge_latest(latest, grouped.latest)
    _collect(result, folded, first_late, before_rewind)
    result.readings += len(steady)
    if (state["day_ordinal"][: days_before.size] != days_before).any():  # a local day completed
        result.tasks += drift_tasks(state, table, now=now)
    silent, cleared = update_silence(state, table, now=now, latest_ts_s=latest)
    result.tasks += silent
    result.cleared = [state.keys[r] for r in cleared]
    result.fold_s += clock() - t4
    return result


def _merge_latest(
    latest: npt.NDArray[np.int64], seen: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    if seen.size > latest.size:
        latest = np.concatenate([latest, np.zeros(seen.size - latest.size, dtype=np.int64)])
    latest[: seen.size] = np.maximum(latest[: seen.size], seen)
    return latest


def _collect(
    result: PassResult,
    folded: FoldResult,
    first_late: dict[int, int],
    before_rewind: dict[int, int],
) -> None:
    """Add a fold's findings and tasks, leaving out what a re-folded sensor had already raised.

    A re-folded sensor's rising edges before its first late hour are those it raised then; after
    it, a rule that was in an episode when the sensor was rewound is not raised again.
    """
    result.sensor_hours += folded.hours_folded
    for (row, hour_s), finding in zip(folded.finding_at, folded.findings, strict=True):
        if _raised_before(row, hour_s, finding.rule_key, first_late, before_rewind):
            continue
        result.findings.append(finding)
    for (row, hour_s), task in zip(folded.task_at, folded.tasks, strict=True):
        if _raised_before(row, hour_s, task.rule_key, first_late, before_rewind):
            continue
        result.tasks.append(task)


def _raised_before(
    row: int, hour_s: int, key: str, first_late: dict[int, int], before_rewind: dict[int, int]
) -> bool:
    if row not in first_late:
        return False
    return hour_s < first_late[row] or bool(before_rewind[row] & BIT.get(key, 0))


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
    """Fold the final hours of `readings` into the state (no store reads); findings and tasks on rising edges."""
    table = site_table(state, sites, site_rows(state, sites))
    days_before = state["day_ordinal"].copy()
    grouped = hourly_means(state, ReadingColumns.from_readings(readings))
    folded = fold_grouped(
        state, grouped, table, now=now, settings=settings, timezone=timezone, outdoor=outdoor
    )
    latest = grouped.latest
    result = PassResult(
        findings=folded.findings,
        tasks=folded.tasks,
        readings=len(readings),
        sensor_hours=folded.hours_folded,
    )
    if (state["day_ordinal"][: days_before.size] != days_before).any():
        result.tasks += drift_tasks(state, table, now=now)
    silent, cleared = update_silence(state, table, now=now, latest_ts_s=latest)
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
    result = run_in_memory(
        store, state, sites, now=now, settings=settings, timezone=timezone, outdoor=outdoor
    )
    LATE_READINGS.inc(result.late_refolded)
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
    written = repository.save_state(session, stored, state.keys, records, changed)
    t5 = clock()
    stats = PassStats(
        result,
        len(state.keys),
        written,
        t1 - t0,
        result.read_s,
        (t3 - t1) - result.read_s,
        t4 - t3,
        t5 - t4,
    )
    log.info(
        "detector pass: %d readings, %d sensor-hours, %d gateways folding stored history "
        "(%d reads), %d late sensor-hours re-folded (%d sensors), %d findings, %d tasks, "
        "%d of %d states written; %.1f s",
        result.readings,
        result.sensor_hours,
        result.behind_gateways,
        result.history_reads,
        result.late_refolded,
        result.refolded_sensors,
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
