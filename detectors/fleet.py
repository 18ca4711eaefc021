"""The fleet fast path: every sensor's detector state as numpy arrays, folded one hour at a time.

Pure (no I/O; time is an argument). The rules of `rules/table.py` restated over per-sensor
state so that one pass over 400,000 sensors is a few array operations per hour:

- a ring of the last `RING_H` hourly means of temperature, RH and %WME per sensor;
- the VTT mould index and its decline clock (`detectors.mould.step_mould`), on surface
  conditions where an outdoor temperature is given for the hour, else on room air;
- per local day: hours measured, hours below the cold thresholds, the day's maximum, whether
  heating raised the room, and M at the day's end (for the weekly rise);
- TM59 bedroom-night hours over 26 °C this year; run lengths for stuck values;
- per local day for 30 days: surface RH sums, hours ≥ 80 % and surface temperature (7-day hours
  and the ASHRAE 160-2009 30-day mean, on room air when there is no outdoor temperature);
- TM59 adaptive: Trm (α 0.8, updated at each local day from that day's outdoor mean) and the
  season's exceedance hours — skipped (never raised) for sensors without outdoor temperature;
- daily vapour-pressure sums for 14 days, compared across a home's sensors by `drift_tasks`.

Unheated spaces: the registry room "other" (roof spaces, voids, cupboards) is not lived in. The
occupied-room rules (`OCCUPIED_ONLY`: room humidity, Approved Document F, surface RH, cold, heat)
do not run there; the VTT index runs on the space's own air (no fRsi correction: that models a
heated room's cold wall) and is raised only once M reaches its level (roof timber cycles; trend and
projection findings there were noise on the TRH roof series); damp and leak rules run as anywhere.

Persistence: `records()` packs each sensor's state into one fixed-width record (`state_layout()`);
the runner stores one row per sensor and writes back only the rows that changed.

A sensor's state only moves when it has data: the hours it missed are folded as gaps when its
next hour arrives. So a gateway that replays three days of backlog, oldest first, is folded in
time order and ends in exactly the state it would have had on time (`fold_hours`).
A finding or fleet task is emitted when its condition starts to hold (once per episode).
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from detectors.findings import (
    Finding,
    FleetTask,
    SensorRef,
)
from detectors.mould import MouldState, step_mould
from detectors.psychro import (
    humidity_from_wme_pct,
    surface_rh_pct,
    surface_temperature_c,
    vapour_pressure_pa,
)
from detectors.rules.sensor_health import drift_figures, drift_holds
from detectors.rules.table import (
    ADAPTIVE_HEAT,
    BEDROOM_NIGHT_HEAT,
    DAMP,
    DRIFT,
    EXCESS_COLD_RULE,
    LEAK_STEP,
    MOULD_GROWTH,
    SURFACE_HUMIDITY,
    SUSTAINED_HUMIDITY,
    VENTILATION,
)

F = npt.NDArray[np.float64]
HOUR_S = 3600
RING_H = 24  # hourly means kept per sensor
DAYS_D = 8  # local days kept per sensor (7 full days of evidence and today)
SURFACE_D = 30  # local days of surface RH sums (ASHRAE 160-2009 30-day mean: today and 29 before)
DRIFT_D = 15  # local days of vapour-pressure sums (14 complete days and today)
# Rooms that are not lived in (registry room "other": roof spaces, unheated voids, cupboards):
# occupied-room rules (room humidity, ventilation, cold, heat) do not run there; mould is still
# modelled, on the space's own air, and raised only when the index reaches its level.
UNOCCUPIED_ROOMS = ("other",)
OCCUPIED_ONLY = (
    "sustained_humidity",
    "ventilation_adf",
    "surface_humidity",
    "excess_cold",
    "tm59_bedroom_night",
    "tm59_adaptive",
)

# Rule bits for "condition holds" (one finding per episode).
BIT = {
    key: 1 << i
    for i, key in enumerate(
        (
            "sustained_humidity",
            "ventilation_adf",
            "mould_growth",
            "damp_wme",
            "leak_step",
            "excess_cold",
            "tm59_bedroom_night",
            "stuck_value",
            "out_of_range",
            "flat_battery",
            "silent",
            "surface_humidity",
            "tm59_adaptive",
            "humidity_drift",
        )
    )
}


@dataclass(frozen=True)
class FleetSettings:
    """Which rules run in the fast path, and settings the rule tables do not carry."""

    ventilation_findings: bool = False  # Approved Document F: kept as figures, not cases (noisy)
    stuck_hours_h: int = 24
    silent_h: int = 6
    flat_battery_pct: float = 10.0
    out_of_range_hours_h: int = 2


def _nan(shape: tuple[int, ...], dtype: type = np.float32) -> npt.NDArray[Any]:
    return np.full(shape, np.nan, dtype=dtype)


ARRAYS: dict[str, tuple[tuple[int, ...], type, float]] = {
    # name: (extra shape, dtype, fill)
    "through_s": ((), np.int64, 0),  # end of the last hour folded (0: never)
    "last_seen_s": ((), np.int64, 0),  # end of the last hour with any measurement
    "latest_ts_s": ((), np.int64, 0),  # newest reading received (for silence)
    "temperature_ring": ((RING_H,), np.float32, np.nan),
    "humidity_ring": ((RING_H,), np.float32, np.nan),
    "wme_ring": ((RING_H,), np.float32, np.nan),
    "battery_pct": ((), np.float32, np.nan),
    "mould_m": ((), np.float64, 0.0),
    "mould_hours_h": ((), np.float64, 0.0),
    "mould_room_air_h": ((), np.int32, 0),  # hours on room air (no outdoor temperature)
    "day_ordinal": ((), np.int32, 0),  # local date of the last day slot
    "day_measured_h": ((DAYS_D,), np.uint8, 0),
    "day_below_health_h": ((DAYS_D,), np.uint8, 0),
    "day_below_serious_h": ((DAYS_D,), np.uint8, 0),
    "day_max_c": ((DAYS_D,), np.float32, np.nan),
    "day_heating_rise": ((DAYS_D,), np.bool_, False),
    "day_end_m": ((DAYS_D,), np.float32, np.nan),
    "heat_year": ((), np.int16, 0),
    "heat_night_h": ((), np.int16, 0),
    "stuck_run_h": ((), np.int16, 0),
    "surface_rh_day_sum": ((SURFACE_D,), np.float32, 0.0),  # Σ hourly surface RH (capped at 100)
    "surface_t_day_sum": ((SURFACE_D,), np.float32, 0.0),  # Σ hourly surface temperature
    "surface_day_n": ((SURFACE_D,), np.uint8, 0),  # hours with temperature and RH
    "surface_day_over_h": ((SURFACE_D,), np.uint8, 0),  # hours with surface RH ≥ threshold
    "pv_day_sum": ((DRIFT_D,), np.float32, 0.0),  # Σ hourly room vapour pressure (Pa)
    "outdoor_day_sum": ((), np.float32, 0.0),  # today's outdoor temperature so far
    "outdoor_day_n": ((), np.uint8, 0),
    "trm_c": ((), np.float32, np.nan),  # TM59 running mean outdoor temperature, through yesterday
    "adaptive_year": ((), np.int16, 0),
    "adaptive_h": ((), np.int16, 0),  # occupied season hours with T − Tmax ≥ 1 K this year
    "active": ((), np.int32, 0),
}


def state_layout() -> np.dtype[np.void]:
    """One sensor's state as a fixed-width record (field order and types of `ARRAYS`)."""
    return np.dtype(
        [(name, np.dtype(dtype).str, shape) for name, (shape, dtype, _fill) in ARRAYS.items()]
    )


def layout_id(layout: np.dtype[np.void]) -> str:
    """A short stable name of a record layout (stored with each state row)."""
    return hashlib.sha1(json.dumps(layout_fields(layout)).encode()).hexdigest()[:16]


def layout_fields(layout: np.dtype[np.void]) -> list[list[object]]:
    """A layout as JSON-able [name, type, shape] triples."""
    fields: dict[str, Any] = dict(layout.fields or {})
    return [
        [name, fields[name][0].base.str, list(fields[name][0].shape)] for name in layout.names or ()
    ]


def layout_from_fields(fields: list[list[object]]) -> np.dtype[np.void]:
    """The layout `layout_fields` described."""
    return np.dtype([(str(name), str(kind), tuple(shape)) for name, kind, shape in fields])  # type: ignore[arg-type]


@dataclass
class FleetState:
    """Detector state of many sensors: row i belongs to `keys[i]`."""

    keys: list[tuple[str, str]] = field(default_factory=list)
    arrays: dict[str, npt.NDArray[Any]] = field(default_factory=dict)
    index: dict[tuple[str, str], int] = field(default_factory=dict)
    late_ignored: int = (
        0  # folded sensor-hours with late readings in the last `hour_batch` (not persisted)
    )
    homes_cache: tuple[object, ...] | None = field(
        default=None, repr=False, compare=False
    )  # see `cold_homes`

    def __post_init__(self) -> None:
        """Build the index and any missing arrays."""
        self.index = {k: i for i, k in enumerate(self.keys)}
        for name, (shape, dtype, fill) in ARRAYS.items():
            if name not in self.arrays:
                self.arrays[name] = np.full((len(self.keys), *shape), fill, dtype=dtype)

    def __getitem__(self, name: str) -> npt.NDArray[Any]:
        """One state array."""
        return self.arrays[name]

    def rows(self, keys: Sequence[tuple[str, str]]) -> npt.NDArray[np.int64]:
        """Row numbers of the keys, adding fresh rows for new sensors."""
        new = [k for k in dict.fromkeys(keys) if k not in self.index]
        if new:
            start = len(self.keys)
            self.keys.extend(new)
            for offset, key in enumerate(new):
                self.index[key] = start + offset
            for name, (shape, dtype, fill) in ARRAYS.items():
                extra: npt.NDArray[Any] = np.full((len(new), *shape), fill, dtype=dtype)
                self.arrays[name] = np.concatenate([self.arrays[name], extra])
        return np.fromiter((self.index[k] for k in keys), dtype=np.int64, count=len(keys))

    def copy_rows(self, rows: npt.NDArray[np.int64]) -> dict[str, npt.NDArray[Any]]:
        """The state of some rows (for tests and recomputation)."""
        return {name: array[rows].copy() for name, array in self.arrays.items()}

    def records(self, rows: npt.NDArray[np.int64] | None = None) -> npt.NDArray[np.void]:
        """The state of some rows (all by default) as fixed-width records of `state_layout()`."""
        layout = state_layout()
        picked = np.arange(len(self.keys)) if rows is None else rows
        out = np.empty(picked.size, dtype=layout)
        for name in ARRAYS:
            out[name] = self.arrays[name][picked]
        return out

    @classmethod
    def from_records(cls, keys: list[tuple[str, str]], records: npt.NDArray[np.void]) -> FleetState:
        """A state from records of any layout: fields matched by name, missing ones filled fresh."""
        arrays: dict[str, npt.NDArray[Any]] = {}
        present = set(records.dtype.names or ())
        for name, (shape, dtype, fill) in ARRAYS.items():
            if name in present and records[name].shape[1:] == shape:
                arrays[name] = np.ascontiguousarray(records[name], dtype=dtype)
            else:
                arrays[name] = np.full((len(keys), *shape), fill, dtype=dtype)
        return cls(keys=list(keys), arrays=arrays)

    def to_bytes(self) -> bytes:
        """The whole state as an uncompressed .npz (keys included)."""
        buffer = io.BytesIO()
        gateways = np.array([k[0] for k in self.keys], dtype=np.str_)
        sensors = np.array([k[1] for k in self.keys], dtype=np.str_)
        np.savez(buffer, _gateways=gateways, _sensors=sensors, **self.arrays)  # type: ignore[arg-type]
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, payload: bytes) -> FleetState:
        """A state saved by `to_bytes`."""
        with np.load(io.BytesIO(payload)) as data:
            keys = list(zip(data["_gateways"].tolist(), data["_sensors"].tolist(), strict=True))
            arrays = {name: data[name] for name in ARRAYS if name in data.files}
        return cls(keys=keys, arrays=arrays)


@dataclass(frozen=True)
class SiteInfo:
    """What the rules need to know about a sensor besides its readings."""

    home_id: str
    room: str
    vulnerable: bool = False


@dataclass(frozen=True)
class HourBatch:
    """Hourly means of some sensors for hours labelled by their start (epoch s, on the hour)."""

    rows: npt.NDArray[np.int64]  # FleetState rows
    hour_s: npt.NDArray[np.int64]
    temperature_c: F
    humidity_pct: F
    wme_pct: F
    battery_pct: F
    outdoor_c: F  # NaN where no outdoor temperature is known


@dataclass
class FoldResult:
    """What folding produced."""

    findings: list[Finding] = field(default_factory=list)
    tasks: list[FleetTask] = field(default_factory=list)
    cleared_silent: list[int] = field(default_factory=list)  # rows heard again
    hours_folded: int = 0


def _utc(epoch_s: int) -> datetime:
    return datetime.fromtimestamp(int(epoch_s), UTC)


@dataclass(frozen=True)
class LocalHour:
    """Local calendar facts of one hour."""

    ordinal: int
    hour: int
    month: int
    year: int


def local_hour(hour_s: int, timezone: str) -> LocalHour:
    """The local date ordinal, hour of day, month and year of an hour's start."""
    local = _utc(hour_s).astimezone(ZoneInfo(timezone))
    return LocalHour(local.toordinal(), local.hour, local.month, local.year)


def running_mean_update(
    trm_c: npt.ArrayLike, day_sum: npt.ArrayLike, day_n: npt.ArrayLike, alpha: float
) -> npt.NDArray[np.float32]:
    """TM59 / BS EN 15251 running mean at a new day: Trm = (1 − α)·Tod(yesterday) + α·Trm(before).

    The first day with outdoor data starts Trm at its mean; a day without keeps Trm.
    """
    trm = np.asarray(trm_c, dtype=np.float64)
    n = np.asarray(day_n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.asarray(day_sum, dtype=np.float64) / n
    updated = np.where(np.isfinite(trm), (1.0 - alpha) * mean + alpha * trm, mean)
    return np.where(n > 0, updated, trm).astype(np.float32)


def _occupied(site: SiteInfo | None, hour: int) -> bool:
    """Whether a TM59 adaptive room is occupied at a local hour."""
    if site is None:
        return False
    span = ADAPTIVE_HEAT.thresholds.occupied(site.room)
    return span is not None and span[0] <= hour < span[1]


def adaptive_limit_h(sites: Sequence[SiteInfo | None], rows: npt.NDArray[np.int64]) -> F:
    """TM59 adaptive limit per row: 3 % of the season's occupied hours (inf where not assessed)."""
    ad = ADAPTIVE_HEAT.thresholds
    out = np.full(rows.size, np.inf)
    for j, row in enumerate(rows.tolist()):
        site = sites[row] if row < len(sites) else None
        span = ad.occupied(site.room) if site else None
        if span is not None:
            out[j] = ad.max_fraction * ad.season_days * (span[1] - span[0])
    return out


@dataclass(frozen=True)
class SurfaceFigures:
    """Surface RH over the last 7 and 30 local days (today included), per row."""

    hours_over_7d_h: npt.NDArray[np.int64]
    mean_7d_pct: F
    mean_30d_pct: F  # NaN below the coverage the rule asks for
    mean_30d_surface_c: F


def surface_figures(state: FleetState, rows: npt.NDArray[np.int64]) -> SurfaceFigures:
    """The 7-day hours over threshold and the 30-day running means from the day sums."""
    th = SURFACE_HUMIDITY.thresholds
    s = state.arrays
    days_7 = th.window_h // 24
    n = s["surface_day_n"][rows].astype(np.float64)
    rh_sum = s["surface_rh_day_sum"][rows].astype(np.float64)
    t_sum = s["surface_t_day_sum"][rows].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_7 = rh_sum[:, -days_7:].sum(1) / n[:, -days_7:].sum(1)
        hours_30 = n.sum(1)
        enough = hours_30 >= th.min_running_mean_coverage * th.running_mean_h
        mean_30 = np.where(enough, rh_sum.sum(1) / hours_30, np.nan)
        t_30 = np.where(enough, t_sum.sum(1) / hours_30, np.nan)
    return SurfaceFigures(
        s["surface_day_over_h"][rows, -days_7:].sum(1).astype(np.int64), mean_7, mean_30, t_30
    )


def surface_humidity_holds(state: FleetState, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Surface RH ≥ 80 % for half the last 7 days' hours, or as a 30-day mean at 5–40 °C (ASHRAE 160-2009)."""
    th = SURFACE_HUMIDITY.thresholds
    f = surface_figures(state, rows)
    low, high = th.surface_temperature_c
    with np.errstate(invalid="ignore"):
        by_mean = (
            (f.mean_30d_pct >= th.threshold_humidity_pct)
            & (f.mean_30d_surface_c >= low)
            & (f.mean_30d_surface_c <= high)
        )
    return np.asarray((f.hours_over_7d_h >= th.min_hours_h) | by_mean, dtype=bool)


@dataclass(frozen=True)
class ColdHomes:
    """Each state row's home number, whether it is a cold-rule room, and its rank as its home's voice."""

    home: npt.NDArray[np.int64]  # row → home number (rows without a site share one extra number)
    member: npt.NDArray[np.bool_]  # a living room or bedroom (EXCESS_COLD_RULE rooms)
    rank: npt.NDArray[np.int64]  # living rooms first, then bedrooms, each in row order
    homes: int


def cold_homes(state: FleetState, sites: Sequence[SiteInfo | None]) -> ColdHomes:
    """The home grouping of the cold rule's rooms (cached on the state for this `sites` list and size).

    The home's "never reached" finding is carried by its best-ranked room with the days measured.
    """
    n = len(state.keys)
    cached = state.homes_cache
    if cached is not None and cached[0] is sites and cached[1] == len(sites) and cached[2] == n:
        return cached[3]  # type: ignore[return-value]
    rooms = EXCESS_COLD_RULE.thresholds.rooms
    numbers: dict[str, int] = {}
    home = np.empty(n, dtype=np.int64)
    member = np.zeros(n, dtype=bool)
    rank = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    for row in range(n):
        site = sites[row] if row < len(sites) else None
        if site is None:
            home[row] = -1
            continue
        h = numbers.setdefault(site.home_id, len(numbers))
        home[row] = h
        if site.room in rooms:
            member[row] = True
            rank[row] = rooms.index(site.room) * (1 << 40) + row
    home[home < 0] = len(numbers)
    result = ColdHomes(home, member, rank, len(numbers) + 1)
    state.homes_cache = (sites, len(sites), n, result)
    return result


def home_cold_week(
    state: FleetState, sites: Sequence[SiteInfo | None], rows: npt.NDArray[np.int64], ordinal: int
) -> tuple[F, npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Per row: its home's highest temperature over the cold rule's days, the most days measured,
    and whether the row speaks for the home (its best-ranked room with `min_days` measured).

    Across the home's living rooms and bedrooms, on local days `ordinal − days + 1 … ordinal` counted
    when a sensor measured `min_hours_per_day_h` (slots aligned by each sensor's own day ordinal).
    """
    c = EXCESS_COLD_RULE.thresholds
    g = cold_homes(state, sites)
    s = state.arrays
    homes_here = g.home[rows]
    wanted = np.zeros(g.homes, dtype=bool)
    wanted[homes_here] = True
    sel = np.flatnonzero(g.member & wanted[g.home])  # the living rooms and bedrooms of these homes
    day_ordinal = s["day_ordinal"][sel].astype(np.int64)
    age = (ordinal - day_ordinal)[:, None] + (DAYS_D - 1 - np.arange(DAYS_D))[
        None, :
    ]  # days before today
    counted = (
        (day_ordinal > 0)[:, None]
        & (age >= 0)
        & (age < c.days)
        & (s["day_measured_h"][sel] >= c.min_hours_per_day_h)
    )
    with np.errstate(invalid="ignore"):
        row_max = np.where(counted, s["day_max_c"][sel], -np.inf).max(1)
    home_max = np.full(g.homes, -np.inf)
    np.maximum.at(home_max, g.home[sel], row_max)
    home_days = np.zeros(g.homes, dtype=np.int64)
    np.maximum.at(home_days, g.home[sel], counted.sum(1))
    best = np.full(g.homes, np.iinfo(np.int64).max, dtype=np.int64)
    ok = counted.sum(1) >= c.min_days
    np.minimum.at(best, g.home[sel[ok]], g.rank[sel[ok]])
    return home_max[homes_here], home_days[homes_here], best[homes_here] == g.rank[rows]


def serious_hours_per_day(state: FleetState, rows: npt.NDArray[np.int64], hour: int) -> F:
    """Mean hours a day below the serious threshold over about the last `days`·24 h, per row.

    A rolling week from day slots: today so far, the `days − 1` days before, and the day before
    those weighted by the share of it still inside the 168 h (hours assumed spread evenly); with no
    day before those, the complete days only.
    """
    days = EXCESS_COLD_RULE.thresholds.days
    s = state.arrays
    below = s["day_below_serious_h"][rows, -days - 1 :].astype(np.float64)
    measured = s["day_measured_h"][rows, -days - 1 :].astype(np.float64)
    weight = np.ones((rows.size, days + 1))
    weight[:, 0] = 1.0 - (hour + 1) / 24.0
    # Without the day before (a short history), today's part-day would stand in for nothing: leave it out.
    weight[:, -1] = np.where(measured[:, 0] > 0, 1.0, 0.0)
    below, measured = (below * weight).sum(1), (measured * weight).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(measured > 0, 24.0 * below / np.maximum(measured, 1e-9), 0.0)


def _shift(
    ring: npt.NDArray[Any],
    rows: npt.NDArray[np.int64],
    by: npt.NDArray[np.int64],
    fill: float | bool,
) -> None:
    """Shift each row's ring left by `by` slots (≥ 1), filling the freed slots."""
    width = ring.shape[1]
    for step in np.unique(by):
        sel = rows[by == step]
        if step >= width:
            ring[sel] = fill
        else:
            ring[sel, : width - step] = ring[sel, step:]
            ring[sel, width - step :] = fill


def fold_hours(
    state: FleetState,
    batch: HourBatch,
    sites: Sequence[SiteInfo | None],
    *,
    timezone: str = "Europe/London",
    settings: FleetSettings = FleetSettings(),
) -> FoldResult:
    """Fold hourly means into the state in time order; rows at or before a sensor's state are ignored."""
    result = FoldResult()
    order = np.lexsort((batch.rows, batch.hour_s))
    hours = batch.hour_s[order]
    bounds = np.flatnonzero(np.diff(hours)) + 1
    for chunk in np.split(np.arange(len(order)), bounds):
        if chunk.size == 0:
            continue
        take = order[chunk]
        hour_s = int(batch.hour_s[take[0]])
        rows = batch.rows[take]
        rows, first = np.unique(rows, return_index=True)
        take = take[first]
        fresh = state["through_s"][rows] <= hour_s
        rows, take = rows[fresh], take[fresh]
        if rows.size:
            _fold_one_hour(state, rows, hour_s, batch, take, sites, timezone, settings, result)
            result.hours_folded += int(rows.size)
    return result


def _fold_one_hour(
    state: FleetState,
    rows: npt.NDArray[np.int64],
    hour_s: int,
    batch: HourBatch,
    take: npt.NDArray[np.int64],
    sites: Sequence[SiteInfo | None],
    timezone: str,
    settings: FleetSettings,
    result: FoldResult,
) -> None:
    s = state.arrays
    t = batch.temperature_c[take]
    rh = batch.humidity_pct[take]
    wme = batch.wme_pct[take]
    battery = batch.battery_pct[take]
    outdoor = batch.outdoor_c[take]
    through = s["through_s"][rows]
    gap = np.where(through == 0, RING_H, (hour_s - through) // HOUR_S).astype(np.int64) + 1
    for name, values in (("temperature_ring", t), ("humidity_ring", rh), ("wme_ring", wme)):
        _shift(s[name], rows, gap, np.nan)
        s[name][rows, -1] = values
    measured = np.isfinite(t) | np.isfinite(rh) | np.isfinite(wme) | np.isfinite(battery)
    s["through_s"][rows] = hour_s + HOUR_S
    s["last_seen_s"][rows] = np.where(measured, hour_s + HOUR_S, s["last_seen_s"][rows])
    s["battery_pct"][rows] = np.where(np.isfinite(battery), battery, s["battery_pct"][rows])

    local = local_hour(hour_s, timezone)
    # Day rings: a new local day shifts the slots.
    days_on = np.where(s["day_ordinal"][rows] == 0, DAYS_D, local.ordinal - s["day_ordinal"][rows])
    moved = days_on > 0
    if moved.any():
        mrows, by = rows[moved], days_on[moved].astype(np.int64)
        for name in ("day_measured_h", "day_below_health_h", "day_below_serious_h"):
            _shift(s[name], mrows, by, 0)
        _shift(s["day_max_c"], mrows, by, np.nan)
        _shift(s["day_heating_rise"], mrows, by, False)
        _shift(s["day_end_m"], mrows, by, np.nan)
        for name in (
            "surface_rh_day_sum",
            "surface_t_day_sum",
            "surface_day_n",
            "surface_day_over_h",
            "pv_day_sum",
        ):
            _shift(s[name], mrows, by, 0)
        s["trm_c"][mrows] = running_mean_update(
            s["trm_c"][mrows],
            s["outdoor_day_sum"][mrows],
            s["outdoor_day_n"][mrows],
            ADAPTIVE_HEAT.thresholds.alpha,
        )
        s["outdoor_day_sum"][mrows] = 0.0
        s["outdoor_day_n"][mrows] = 0
        s["day_ordinal"][mrows] = local.ordinal

    # Mould: surface conditions where outdoor temperature is known, room air elsewhere.
    mould = MOULD_GROWTH.thresholds
    occupied = np.fromiter(
        (
            (site.room not in UNOCCUPIED_ROOMS) if site else True
            for site in (sites[r] for r in rows)
        ),
        dtype=bool,
        count=rows.size,
    )
    has_out = (
        np.isfinite(outdoor) & occupied
    )  # an unheated space's air is already near its surfaces
    out_safe = np.where(has_out, outdoor, t)
    with np.errstate(invalid="ignore"):
        t_surface = np.where(has_out, surface_temperature_c(t, out_safe, mould.f_rsi), t)
        rh_surface = np.where(has_out, surface_rh_pct(t, rh, out_safe, mould.f_rsi), rh)
    stepped = step_mould(
        MouldState(s["mould_m"][rows], s["mould_hours_h"][rows]),
        t_surface,
        np.minimum(rh_surface, 100.0),
        mould.sensitivity,
        mould.decline_factor,
    )
    s["mould_m"][rows] = stepped.index_m
    s["mould_hours_h"][rows] = stepped.hours_since_growth_h
    s["mould_room_air_h"][rows] += (np.isfinite(t) & np.isfinite(rh) & ~has_out & occupied).astype(
        np.int32
    )
    s["day_end_m"][rows, -1] = stepped.index_m

    # Surface RH day sums (7-day hours over, 30-day mean) and vapour pressure (drift).
    sh = SURFACE_HUMIDITY.thresholds
    has_th = np.isfinite(t) & np.isfinite(rh)
    capped = np.minimum(rh_surface, 100.0)
    # A damp probe on the wall reads the surface's own moisture: the RH its %WME implies counts
    # where it is higher than the estimate from the critical fRsi (a junction worse than 0.75).
    probe = np.flatnonzero(np.isfinite(wme) & has_th & occupied)
    if probe.size:
        capped[probe] = np.fmax(capped[probe], humidity_from_wme_pct(t_surface[probe], wme[probe]))
    s["surface_rh_day_sum"][rows, -1] += np.where(has_th, capped, 0.0).astype(np.float32)
    s["surface_t_day_sum"][rows, -1] += np.where(has_th, t_surface, 0.0).astype(np.float32)
    s["surface_day_n"][rows, -1] += has_th
    with np.errstate(invalid="ignore"):
        s["surface_day_over_h"][rows, -1] += has_th & (capped >= sh.threshold_humidity_pct)
    s["pv_day_sum"][rows, -1] += np.where(has_th, vapour_pressure_pa(t, rh), 0.0).astype(np.float32)
    s["outdoor_day_sum"][rows] += np.where(has_out, outdoor, 0.0).astype(np.float32)
    s["outdoor_day_n"][rows] += has_out

    # Cold day counters.
    vulnerable = np.fromiter(
        ((site.vulnerable if site else False) for site in (sites[r] for r in rows)),
        dtype=bool,
        count=rows.size,
    )
    cold = EXCESS_COLD_RULE.thresholds
    raise_c = np.where(vulnerable, cold.vulnerable_raise_c, 0.0)
    health_c, serious_c, hypo_c = (
        cold.health_c + raise_c,
        cold.serious_c + raise_c,
        cold.hypothermia_c + raise_c,
    )
    has_t = np.isfinite(t)
    s["day_measured_h"][rows, -1] += has_t
    with np.errstate(invalid="ignore"):
        s["day_below_health_h"][rows, -1] += has_t & (t < health_c)
        s["day_below_serious_h"][rows, -1] += has_t & (t < serious_c)
        s["day_max_c"][rows, -1] = np.fmax(s["day_max_c"][rows, -1], t)
        ring_t = s["temperature_ring"][rows]
        rise = (ring_t[:, -1] - ring_t[:, -1 - cold.heating_rise_window_h]) >= cold.heating_rise_c
    s["day_heating_rise"][rows, -1] |= rise

    # TM59 bedroom night hours this local year.
    night = BEDROOM_NIGHT_HEAT.thresholds
    new_year = s["heat_year"][rows] != local.year
    s["heat_night_h"][rows[new_year]] = 0
    s["heat_year"][rows] = local.year
    is_night = local.hour >= night.night_from_hour or local.hour < night.night_to_hour
    if is_night:
        with np.errstate(invalid="ignore"):
            s["heat_night_h"][rows] += (t > night.threshold_c).astype(np.int16)

    # TM59 adaptive: occupied season hours with T − Tmax ≥ 1 K (needs outdoor temperature for Trm).
    ad = ADAPTIVE_HEAT.thresholds
    new_year = s["adaptive_year"][rows] != local.year
    s["adaptive_h"][rows[new_year]] = 0
    s["adaptive_year"][rows] = local.year
    if local.month in ad.season_months:
        intercept = np.where(vulnerable, ad.vulnerable_intercept_c, ad.intercept_c)
        in_use = np.fromiter(
            (_occupied(site, local.hour) for site in (sites[r] for r in rows)),
            dtype=bool,
            count=rows.size,
        )
        with np.errstate(invalid="ignore"):
            over = (t - (ad.slope * s["trm_c"][rows] + intercept)) >= ad.exceed_k
        s["adaptive_h"][rows] += (in_use & over).astype(np.int16)

    # Stuck: identical hourly means of temperature and RH hour after hour.
    ring_rh = s["humidity_ring"][rows]
    same = (
        (ring_t[:, -1] == ring_t[:, -2])
        & (ring_rh[:, -1] == ring_rh[:, -2])
        & (ring_rh[:, -1] < 99.5)
    )
    s["stuck_run_h"][rows] = np.where(same, s["stuck_run_h"][rows] + 1, 0)

    conditions = _conditions(
        state, rows, local, vulnerable, health_c, serious_c, hypo_c, settings, sites
    )
    _emit(
        state, rows, hour_s, conditions, sites, result, local, health_c, serious_c, hypo_c, settings
    )


def _conditions(
    state: FleetState,
    rows: npt.NDArray[np.int64],
    local: LocalHour,
    _vulnerable: npt.NDArray[np.bool_],
    health_c: F,
    _serious_c: F,
    hypo_c: F,
    settings: FleetSettings,
    sites: Sequence[SiteInfo | None],
) -> dict[str, npt.NDArray[np.bool_]]:
    """Which rule conditions hold for each row after the hour just folded."""
    s = state.arrays
    ring_t, ring_rh, ring_wme = (
        s["temperature_ring"][rows],
        s["humidity_ring"][rows],
        s["wme_ring"][rows],
    )
    out: dict[str, npt.NDArray[np.bool_]] = {}
    with np.errstate(invalid="ignore"):
        sh = SUSTAINED_HUMIDITY.thresholds
        out["sustained_humidity"] = (ring_rh[:, -sh.window_h :] >= sh.threshold_humidity_pct).sum(
            1
        ) >= sh.min_hours_h
        v = VENTILATION.thresholds
        out["ventilation_adf"] = (
            (ring_rh[:, -v.window_h :] > v.high_humidity_pct).sum(1) > v.high_max_h
        ) | ((ring_rh[:, -v.window_h :] > v.very_high_humidity_pct).sum(1) > v.very_high_max_h)
        m = MOULD_GROWTH.thresholds
        index_m = s["mould_m"][rows]
        week_ago = s["day_end_m"][rows, -1 - m.trend_days]
        rise_per_week = np.where(np.isfinite(week_ago), index_m - week_ago, np.nan)
        rate_per_day = rise_per_week / 7.0
        safe_rate = np.where(rate_per_day > 0, rate_per_day, 1.0)
        projected_days = np.where(rate_per_day > 0, (m.level_index - index_m) / safe_rate, np.inf)
        out["mould_growth"] = (
            (index_m >= m.level_index)
            | (rise_per_week >= m.rise_per_week)
            | ((index_m >= m.min_index) & (projected_days <= m.horizon_days))
        )
        d = DAMP.thresholds
        out["damp_wme"] = (ring_wme[:, -d.window_h :] > d.threshold_wme_pct).sum(1) >= d.min_hours_h
        lk = LEAK_STEP.thresholds
        leak = np.zeros(rows.size, dtype=bool)
        for end in range(1, lk.recent_h + 1):
            for k in range(1, lk.step_window_h + 1):
                wme_rise = ring_wme[:, -end] - ring_wme[:, -end - k]
                rh_rise = ring_rh[:, -end] - ring_rh[:, -end - k]
                explained = np.isfinite(rh_rise) & (rh_rise >= lk.explained_rise_humidity_pct)
                leak |= (wme_rise >= lk.step_wme_pct) & ~explained
        out["leak_step"] = leak
        c = EXCESS_COLD_RULE.thresholds
        in_season = local.month in c.season_months
        if in_season:
            # (a) the HOME never reached the health threshold in any living room or bedroom over the
            # days (docs/detectors.md): raised once, on the home's representative room.
            home_max, home_days, speaks = home_cold_week(state, sites, rows, local.ordinal)
            never = (home_days >= c.min_days) & (home_max < health_c) & speaks
            # (b) the ROOM averaged ≥ `sustained_serious_hours_per_day_h` a day below the serious threshold.
            per_day = serious_hours_per_day(state, rows, local.hour)
            enough = (s["day_measured_h"][rows, -c.days :] >= c.min_hours_per_day_h).sum(
                1
            ) >= c.min_days
            serious = enough & (per_day >= c.sustained_serious_hours_per_day_h)
        else:
            home_max, per_day = np.full(rows.size, np.nan), np.zeros(rows.size)
            never = serious = np.zeros(rows.size, dtype=bool)
        hypothermia = (ring_t < hypo_c[:, None]).sum(1) >= c.hypothermia_hours_h
        out["excess_cold"] = (never | serious | hypothermia) & in_season
        out["_cold_hypothermia"] = hypothermia
        out["_cold_home_never"] = never
        out["_cold_serious"] = serious
        out["_cold_home_max_c"] = home_max  # type: ignore[assignment]
        out["_cold_per_day_h"] = per_day  # type: ignore[assignment]
        out["tm59_bedroom_night"] = (
            s["heat_night_h"][rows] > BEDROOM_NIGHT_HEAT.thresholds.max_hours_h
        )
        out["tm59_adaptive"] = s["adaptive_h"][rows] > adaptive_limit_h(sites, rows)
        out["surface_humidity"] = surface_humidity_holds(state, rows)
        out["stuck_value"] = s["stuck_run_h"][rows] >= settings.stuck_hours_h
        rng = (ring_t < -5) | (ring_t > 45) | (ring_rh < 1) | (ring_rh > 100)
        jumps = np.abs(np.diff(ring_t, axis=1)) > 8.0
        out["out_of_range"] = (rng.sum(1) + jumps.sum(1)) >= settings.out_of_range_hours_h
        out["flat_battery"] = s["battery_pct"][rows] <= settings.flat_battery_pct
    return out


HAZARD_RULES: dict[str, Any] = {
    "sustained_humidity": SUSTAINED_HUMIDITY,
    "ventilation_adf": VENTILATION,
    "mould_growth": MOULD_GROWTH,
    "damp_wme": DAMP,
    "leak_step": LEAK_STEP,
    "excess_cold": EXCESS_COLD_RULE,
    "tm59_bedroom_night": BEDROOM_NIGHT_HEAT,
    "surface_humidity": SURFACE_HUMIDITY,
    "tm59_adaptive": ADAPTIVE_HEAT,
}
TASK_KINDS = ("stuck_value", "out_of_range", "flat_battery")
# Rules that read the sensor's air temperature or humidity: not raised while the sensor is under a
# humidity-drift task (its vapour pressure, from both, has left its home's); re-checked each hour.
AIR_RULES = frozenset(HAZARD_RULES) - {"damp_wme", "leak_step"}


def _emit(
    state: FleetState,
    rows: npt.NDArray[np.int64],
    hour_s: int,
    conditions: dict[str, npt.NDArray[np.bool_]],
    sites: Sequence[SiteInfo | None],
    result: FoldResult,
    _local: LocalHour,
    health_c: F,
    serious_c: F,
    hypo_c: F,
    settings: FleetSettings,
) -> None:
    """Set the episode bits and build findings and tasks on rising edges."""
    s = state.arrays
    active = s["active"][rows]
    room_ok = {
        "excess_cold": EXCESS_COLD_RULE.thresholds.rooms,
        "tm59_bedroom_night": BEDROOM_NIGHT_HEAT.thresholds.rooms,
        "tm59_adaptive": ("bedroom", "living", "kitchen"),
    }
    end = _utc(hour_s + HOUR_S)
    for key in (*HAZARD_RULES, *TASK_KINDS):
        holds = conditions[key]
        bit = BIT[key]
        rising = holds & ((active & bit) == 0)
        active = np.where(holds, active | bit, active & ~bit)
        if key == "ventilation_adf" and not settings.ventilation_findings:
            continue
        for j in np.flatnonzero(rising):
            row = int(rows[j])
            site = sites[row] if row < len(sites) else None
            if site is None:
                continue
            if key in room_ok and site.room not in room_ok[key]:
                continue
            if key in AIR_RULES and active[j] & BIT["humidity_drift"]:
                active[j] &= ~bit  # a drifting sensor's air readings are not evidence
                continue
            if site.room in UNOCCUPIED_ROOMS and (
                key in OCCUPIED_ONLY
                or (
                    key == "mould_growth"
                    and s["mould_m"][row] < MOULD_GROWTH.thresholds.level_index
                )
            ):
                active[j] &= ~bit  # re-checked next hour: raised when the index reaches its level
                continue
            gateway_id, sensor_id = state.keys[row]
            ref = SensorRef(gateway_id, sensor_id)
            if key in HAZARD_RULES:
                result.findings.append(
                    _finding(
                        state,
                        key,
                        row,
                        int(j),
                        ref,
                        site,
                        end,
                        conditions,
                        health_c,
                        serious_c,
                        hypo_c,
                    )
                )
            else:
                result.tasks.append(_task(state, key, row, ref, site, end, settings))
    s["active"][rows] = active


def _ring_window(
    state: FleetState, row: int, name: str, end: datetime, mask: npt.NDArray[np.bool_] | None = None
) -> tuple[datetime, datetime]:
    """The span of ring hours (where mask holds) ending at `end`."""
    ring = state[name][row]
    hours = np.flatnonzero(np.isfinite(ring) if mask is None else mask)
    if hours.size == 0:
        return end - timedelta(hours=1), end
    first = int(hours[0])
    last = int(hours[-1])
    return end - timedelta(hours=RING_H - first), end - timedelta(hours=RING_H - 1 - last)


def _finding(
    state: FleetState,
    key: str,
    row: int,
    j: int,
    ref: SensorRef,
    site: SiteInfo,
    end: datetime,
    conditions: dict[str, npt.NDArray[np.bool_]],
    health_c: F,
    serious_c: F,
    hypo_c: F,
) -> Finding:
    """The finding of one rule for one sensor, with the figures behind it."""
    rule = HAZARD_RULES[key]
    s = state.arrays
    ring_t, ring_rh, ring_wme = (
        s["temperature_ring"][row],
        s["humidity_ring"][row],
        s["wme_ring"][row],
    )
    room_air = int(s["mould_room_air_h"][row]) > 0
    ctx_home, ctx_room = site.home_id, site.room
    figures: dict[str, float]
    category = "potential"
    with np.errstate(invalid="ignore"):
        if key == "sustained_humidity":
            th = rule.thresholds
            window = ring_rh[-th.window_h :] >= th.threshold_humidity_pct
            mask = np.zeros(RING_H, dtype=bool)
            mask[-th.window_h :] = window
            start, stop = _ring_window(state, row, "humidity_ring", end, mask)
            figures = {
                "hours_over_threshold_h": int(window.sum()),
                "humidity_pct_max": float(np.nanmax(ring_rh[-th.window_h :])),
                "threshold_humidity_pct": th.threshold_humidity_pct,
            }
            confidence, basis = window.sum() / th.window_h, "room air humidity"
        elif key == "ventilation_adf":
            start, stop = _ring_window(state, row, "humidity_ring", end, ring_rh > 70.0)
            figures = {
                "hours_over_70_pct_in_12h_h": int((ring_rh[-12:] > 70).sum()),
                "hours_over_90_pct_in_12h_h": int((ring_rh[-12:] > 90).sum()),
                "humidity_pct_max": float(np.nanmax(ring_rh)),
            }
            confidence, basis = (
                0.4,
                "room air against the Approved Document F (2006) ventilation criterion",
            )
        elif key == "mould_growth":
            th = rule.thresholds
            m_now = float(s["mould_m"][row])
            week_ago = float(s["day_end_m"][row, -1 - th.trend_days])
            rise = m_now - week_ago if np.isfinite(week_ago) else 0.0
            reached = m_now >= th.level_index
            start, stop = end - timedelta(days=th.trend_days), end
            figures = {
                "mould_index": m_now,
                "mould_index_rise_per_week": rise,
                "level_mould_index": th.level_index,
            }
            if not reached and rise > 0:
                figures["projected_days_to_level_d"] = (th.level_index - m_now) / (rise / 7.0)
            trigger = (
                "reached level"
                if reached
                else ("rising fast" if rise >= th.rise_per_week else "projected to reach level")
            )
            on = (
                "room air: no outdoor temperature — fell back to room-air criteria"
                if room_air
                else f"surface conditions from outdoor temperature, fRsi {th.f_rsi}"
            )
            if site.room in UNOCCUPIED_ROOMS:
                on = "the air of an unheated space (roof void, cupboard): the structure's risk, not a lived-in room"
            confidence = (0.9 if reached else 0.6) - (0.15 if room_air else 0.0)
            basis = f"VTT mould index ({th.sensitivity}, {trigger}) on {on}"
        elif key == "damp_wme":
            th = rule.thresholds
            day = ring_wme[-th.window_h :]
            start, stop = _ring_window(state, row, "wme_ring", end, ring_wme > th.threshold_wme_pct)
            figures = {
                "hours_over_threshold_h": int((day > th.threshold_wme_pct).sum()),
                "wme_pct_mean_24h": float(np.nanmean(day)),
                "wme_pct_max": float(np.nanmax(day)),
                "threshold_wme_pct": th.threshold_wme_pct,
            }
            confidence = 0.8 if float(np.nanmin(day)) >= 28.0 else 0.6
            basis = "damp probe (%WME; on masonry qualitative, salts read high)"
        elif key == "leak_step":
            th = rule.thresholds
            base = ring_wme[-1 - th.step_window_h - th.recent_h : -1]
            low = int(np.nanargmin(base)) if np.isfinite(base).any() else 0
            hours_back = base.size - low
            start, stop = end - timedelta(hours=hours_back + 1), end
            rise_wme = float(ring_wme[-1] - base[low]) if np.isfinite(base).any() else float("nan")
            rh_rise = float(ring_rh[-1] - ring_rh[-1 - hours_back])
            figures = {
                "wme_pct_rise": rise_wme,
                "rise_hours_h": hours_back,
                "humidity_pct_rise": rh_rise,
                "wme_pct_now": float(ring_wme[-1]),
                "step_threshold_wme_pct": th.step_wme_pct,
            }
            category = "emergency"
            known = np.isfinite(rh_rise)
            confidence = 0.7 if known else 0.5
            basis = "damp probe step rise; " + (
                "room humidity did not rise with it" if known else "no room humidity to rule out"
            )
        elif key == "excess_cold":
            th = rule.thresholds
            days = s["day_measured_h"][row, -th.days :]
            start, stop = end - timedelta(days=th.days), end
            rises = int(
                s["day_heating_rise"][row, -th.days :][days >= th.min_hours_per_day_h].sum()
            )
            counted = int((days >= th.min_hours_per_day_h).sum())
            cause = (
                "heating on but the home does not warm up (points to the home: repairs)"
                if rises * 2 >= max(counted, 1)
                else "heating appears off or rarely on (possible fuel poverty: support)"
            )
            hypothermia = bool(conditions["_cold_hypothermia"][j])
            criteria = [
                name
                for name, flag in (
                    (
                        "the home never reached the health threshold in any living room or bedroom",
                        conditions["_cold_home_never"][j],
                    ),
                    (
                        "the room averaged the sustained hours a day below the serious threshold",
                        conditions["_cold_serious"][j],
                    ),
                    ("hypothermia-risk hours in the last 24 h", hypothermia),
                )
                if flag
            ]
            figures = {
                "hours_below_health_threshold_7d_h": int(
                    s["day_below_health_h"][row, -th.days :].sum()
                ),
                "hours_below_serious_threshold_7d_h": int(
                    s["day_below_serious_h"][row, -th.days :].sum()
                ),
                "hours_below_hypothermia_threshold_24h_h": int((ring_t < hypo_c[j]).sum()),
                "health_threshold_c": float(health_c[j]),
                "serious_threshold_c": float(serious_c[j]),
                "hypothermia_threshold_c": float(hypo_c[j]),
                "temperature_c_max_7d": float(np.nanmax(s["day_max_c"][row, -th.days :])),
                "days_measured_d": counted,
                "heating_rise_days_d": rises,
                "hours_per_day_below_serious_threshold_7d_h": float(
                    conditions["_cold_per_day_h"][j]
                ),
                "sustained_serious_hours_per_day_h": th.sustained_serious_hours_per_day_h,
            }
            home_max = float(conditions["_cold_home_max_c"][j])
            if np.isfinite(home_max):
                figures["home_temperature_c_max_7d"] = home_max
            vulnerable = float(health_c[j]) > th.health_c
            category = "emergency" if hypothermia and vulnerable else "potential"
            confidence = 0.8 if (conditions["_cold_serious"][j] or hypothermia) else 0.6
            basis = f"room air temperature; {'; '.join(criteria)}; {cause}"
        elif key == "surface_humidity":
            th = rule.thresholds
            f = surface_figures(state, np.array([row]))
            start, stop = end - timedelta(days=th.running_mean_h // 24), end
            figures = {
                "hours_over_threshold_7d_h": int(f.hours_over_7d_h[0]),
                "surface_rh_pct_mean_7d": float(f.mean_7d_pct[0]),
                "surface_rh_pct_mean_30d": float(f.mean_30d_pct[0]),
                "surface_temperature_c_mean_30d": float(f.mean_30d_surface_c[0]),
                "threshold_surface_rh_pct": th.threshold_humidity_pct,
            }
            confidence = 0.5 if room_air else 0.7
            basis = (
                "room air: no outdoor temperature — fell back to room-air criteria"
                if room_air
                else f"surface conditions from outdoor temperature, fRsi {th.f_rsi}"
            ) + "; ISO 13788 / ASHRAE 160-2009 30-day mean"
        elif key == "tm59_adaptive":
            th = rule.thresholds
            year = int(s["adaptive_year"][row])
            start, stop = datetime(year, th.season_months[0], 1, tzinfo=UTC), end
            limit = float(adaptive_limit_h([site], np.array([0]))[0])
            figures = {
                "hours_over_threshold_h": int(s["adaptive_h"][row]),
                "limit_hours_h": limit,
                "running_mean_outdoor_c": float(s["trm_c"][row]),
                "exceed_threshold_k": th.exceed_k,
            }
            confidence = 0.5
            basis = (
                "TM59 adaptive criterion from outdoor temperature; "
                "air temperature, not the operative temperature TM59 specifies"
            )
        else:  # tm59_bedroom_night
            th = rule.thresholds
            year = int(s["heat_year"][row])
            start = datetime(year, 1, 1, tzinfo=UTC)
            stop = end
            figures = {
                "hours_over_threshold_h": int(s["heat_night_h"][row]),
                "limit_hours_h": th.max_hours_h,
                "threshold_c": th.threshold_c,
            }
            confidence = 0.6
            basis = "bedroom night hours this year; air temperature, not the operative temperature TM59 specifies"
    return Finding(
        home_id=ctx_home,
        sensor=ref,
        room=ctx_room,
        hazard=rule.hazard,
        category=category,  # type: ignore[arg-type]
        window_start=min(start, stop),
        window_end=stop,
        figures={k: round(float(v), 4) for k, v in figures.items()},
        confidence=round(min(max(float(confidence), 0.0), 1.0), 3),
        rule_key=rule.key,
        rule_version=rule.version,
        evidence_basis=basis,
    )


def _task(
    state: FleetState,
    key: str,
    row: int,
    ref: SensorRef,
    site: SiteInfo,
    end: datetime,
    _settings: FleetSettings,
) -> FleetTask:
    """A fleet task for a sensor-health rule."""
    s = state.arrays
    if key == "stuck_value":
        run_h = int(s["stuck_run_h"][row])
        window = (end - timedelta(hours=run_h + 1), end)
        description = (
            f"temperature and humidity have repeated the same hourly value for {run_h + 1} h"
        )
        figures = {"hours_identical_h": float(run_h + 1)}
    elif key == "out_of_range":
        window = (end - timedelta(hours=RING_H), end)
        description = "implausible readings or jumps in the last day"
        figures = {}
    else:
        window = (end - timedelta(hours=1), end)
        battery = float(s["battery_pct"][row])
        description = f"battery at {battery:.0f} %"
        figures = {"battery_pct": battery}
    return FleetTask(
        home_id=site.home_id,
        sensor=ref,
        kind=key,
        detected_at=end,
        window_start=window[0],
        window_end=window[1],
        description=description,
        rule_key=key,
        rule_version=1,
        figures=figures,
    )


DRIFT_MIN_HOURS_PER_DAY_H = 12  # a day's mean vapour pressure counts with this many hours


def drift_offsets(
    state: FleetState, sites: Sequence[SiteInfo | None]
) -> tuple[npt.NDArray[np.int64], F, F, npt.NDArray[np.int64], F]:
    """Rows assessed for humidity drift, each one's change of offset from its home's others (Pa),
    the recent day-to-day rate of that offset (Pa a day), how many recent days it moved the
    change's way (`rules.sensor_health.drift_figures`) and its mean offset over the last
    `edge_days` (Pa).

    Daily mean vapour pressure over the last complete days; a sensor's offset is its mean minus the
    median of the home's other sensors that day (≥ `min_other_sensors` of them).
    """
    th = DRIFT.thresholds
    days = th.window_days
    s = state.arrays
    n = len(state.keys)
    registered = [(row, site.home_id) for row, site in enumerate(sites[:n]) if site is not None]
    if not registered:
        empty = np.zeros(0)
        return np.zeros(0, dtype=np.int64), empty, empty, np.zeros(0, dtype=np.int64), empty
    rows = np.array([r for r, _ in registered], dtype=np.int64)
    homes, home_idx = np.unique(np.array([h for _, h in registered]), return_inverse=True)
    ordinal = s["day_ordinal"][rows]
    newest = np.zeros(homes.size, dtype=np.int64)
    np.maximum.at(newest, home_idx, ordinal)
    in_step = ordinal == newest[home_idx]  # a sensor behind its home is not compared this time
    count = s["surface_day_n"][rows, -DRIFT_D:-1][:, -days:].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        pv = s["pv_day_sum"][rows, -1 - days : -1].astype(np.float64) / count
    pv[(count < DRIFT_MIN_HOURS_PER_DAY_H) | ~in_step[:, None]] = np.nan
    order = np.argsort(home_idx, kind="stable")
    sorted_home = home_idx[order]
    first = np.searchsorted(sorted_home, sorted_home, side="left")
    slot = np.arange(order.size) - first
    width = int(slot.max()) + 1
    grid = np.full((homes.size, width, days), np.nan)
    grid[sorted_home, slot] = pv[order]
    offsets = np.full((rows.size, days), np.nan)
    for k in range(width):
        others = np.delete(grid, k, axis=1)
        present = np.isfinite(others).sum(1)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            median = (
                np.nanmedian(others, axis=1) if width > 1 else np.full((homes.size, days), np.nan)
            )
            offset = np.where(present >= th.min_other_sensors, grid[:, k] - median, np.nan)
        here = np.flatnonzero(slot == k)
        offsets[order[here]] = offset[sorted_home[here]]
    change, rate, moving = drift_figures(offsets, th)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        recent = np.nanmean(offsets[:, -th.edge_days :], axis=1)
    return rows, change, rate, moving, recent


def drift_tasks(
    state: FleetState, sites: Sequence[SiteInfo | None], *, now: datetime
) -> list[FleetTask]:
    """Fleet tasks for sensors whose humidity drifts from their home's others (once per episode).

    A sensor already under a stuck-value task is not assessed: its offset wanders with the weather
    because it no longer measures, and it has its task. An episode ends only when the sensor reads
    with its home again (no large change over the window and a recent offset within
    `max_change_pa`): a drifted sensor that stops moving — pinned at 100 % — is still wrong.
    """
    th = DRIFT.thresholds
    rows, change, rate, moving, recent = drift_offsets(state, sites)
    s = state.arrays
    bit = BIT["humidity_drift"]
    active = s["active"][rows]
    assessed = np.isfinite(change) & np.isfinite(rate) & ((active & BIT["stuck_value"]) == 0)
    holds = assessed & drift_holds(change, moving, th)
    rising = holds & ((active & bit) == 0)
    with np.errstate(invalid="ignore"):
        back = assessed & (np.abs(change) < th.max_change_pa) & (np.abs(recent) < th.max_change_pa)
    s["active"][rows] = np.where(holds, active | bit, np.where(back, active & ~bit, active))
    tasks = []
    for j in np.flatnonzero(rising).tolist():
        row = int(rows[j])
        site = sites[row]
        assert site is not None
        tasks.append(
            FleetTask(
                home_id=site.home_id,
                sensor=SensorRef(*state.keys[row]),
                kind="drift",
                detected_at=now,
                window_start=now - timedelta(days=th.window_days + 1),
                window_end=now,
                description=(
                    f"humidity drifting: offset from the home's other sensors moved "
                    f"{change[j]:+.0f} Pa and is still moving {rate[j]:+.0f} Pa a day"
                ),
                rule_key=DRIFT.key,
                rule_version=DRIFT.version,
                figures={
                    "vapour_pressure_offset_change_pa": round(float(change[j]), 1),
                    "vapour_pressure_offset_rate_pa_per_day": round(float(rate[j]), 1),
                    "max_change_pa": th.max_change_pa,
                    "min_rate_pa_per_day": th.min_rate_pa_per_day,
                },
            )
        )
    return tasks


def update_silence(
    state: FleetState,
    sites: Sequence[SiteInfo | None],
    *,
    now: datetime,
    latest_ts_s: npt.NDArray[np.int64],
    settings: FleetSettings = FleetSettings(),
) -> tuple[list[FleetTask], list[int]]:
    """Silent tasks for sensors with no new reading for `silent_h` hours; rows heard again.

    `latest_ts_s` is the newest reading ts per row in this pass's data (0 where none).
    """
    s = state.arrays
    now_s = int(now.timestamp())
    n = len(state.keys)
    newer = latest_ts_s[:n] > s["latest_ts_s"]
    s["latest_ts_s"] = np.where(newer, latest_ts_s[:n], s["latest_ts_s"])
    bit = BIT["silent"]
    caught_up = (
        s["latest_ts_s"] > now_s - settings.silent_h * HOUR_S
    )  # a replay still running stays silent
    cleared = np.flatnonzero(newer & caught_up & ((s["active"] & bit) != 0))
    s["active"][cleared] &= ~bit
    registered = np.fromiter(
        (site is not None for site in sites[:n]), dtype=bool, count=min(n, len(sites))
    )
    if registered.size < n:
        registered = np.concatenate([registered, np.zeros(n - registered.size, dtype=bool)])
    last = s["latest_ts_s"]
    silent = registered & (last > 0) & (last <= now_s - settings.silent_h * HOUR_S)
    rising = np.flatnonzero(silent & ((s["active"] & bit) == 0))
    s["active"][rising] |= bit
    tasks = []
    for row in rising.tolist():
        site = sites[row]
        assert site is not None
        since = _utc(int(last[row]))
        tasks.append(
            FleetTask(
                home_id=site.home_id,
                sensor=SensorRef(*state.keys[row]),
                kind="silent",
                detected_at=now,
                window_start=since,
                window_end=now,
                description=f"no readings since {since.isoformat()}",
                rule_key="silent",
                rule_version=1,
                figures={"silent_h": (now_s - int(last[row])) / HOUR_S},
            )
        )
    return tasks, cleared.tolist()
