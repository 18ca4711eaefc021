"""The per-sensor detector state: numpy arrays by field, one row per sensor, and its stored layout.

Each sensor's state is one fixed-width record (`state_layout()`, the fields of `ARRAYS`): the
runner stores one row per sensor and writes back only the rows that changed; a stored row of an
older layout loads by field name (`FleetState.from_records`), new fields starting fresh. The bit
positions of `BIT` are part of the stored state (the `active` episode mask): append, never reorder.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from detectors.findings import Finding, FleetTask

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
    "stuck_run_h": ((), np.int16, 0),  # identical hourly temperatures in a row
    "stuck_humidity_run_h": ((), np.int16, 0),  # … RH (below saturation)
    "stuck_wme_run_h": ((), np.int16, 0),  # … %WME
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


@dataclass(frozen=True)
class FleetSettings:
    """Engine options that are not rule thresholds: none now (every threshold is in the rule table)."""


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
    sites_cache: tuple[object, ...] | None = field(
        default=None, repr=False, compare=False
    )  # see `detectors.engine.sites.site_arrays`

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
        """Row numbers of the keys, adding fresh rows for new sensors (in order of first appearance).

        A pass is handed millions of keys (one per reading) of sensors it mostly knows: they are
        looked up in one pass at C speed (`map` over the index), and only when one is missing are
        the new keys found and added, so the common case pays one dict lookup per key.
        """
        try:
            return self._known_rows(keys)
        except KeyError:
            self._add_rows([k for k in dict.fromkeys(keys) if k not in self.index])
            return self._known_rows(keys)

    def _known_rows(self, keys: Sequence[tuple[str, str]]) -> npt.NDArray[np.int64]:
        return np.fromiter(map(self.index.__getitem__, keys), dtype=np.int64, count=len(keys))

    def _add_rows(self, new: list[tuple[str, str]]) -> None:
        start = len(self.keys)
        self.keys.extend(new)
        for offset, key in enumerate(new):
            self.index[key] = start + offset
        for name, (shape, dtype, fill) in ARRAYS.items():
            extra: npt.NDArray[Any] = np.full((len(new), *shape), fill, dtype=dtype)
            self.arrays[name] = np.concatenate([self.arrays[name], extra])

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


class Site(Protocol):
    """What the engine reads of a sensor's site: `SiteInfo`, or the runner's registered sensor as is.

    The runner hands over its own registry records rather than a copy per sensor: building
    400,000 objects a pass cost about a second, most of it the garbage collector walking them.
    """

    @property
    def home_id(self) -> str:
        """The home the sensor is in."""
        ...

    @property
    def room(self) -> str:
        """The registry room (living | bedroom | kitchen | bathroom | hall | other)."""
        ...

    @property
    def vulnerable(self) -> bool:
        """Whether the household is vulnerable (the cold thresholds are raised)."""
        ...


@dataclass(frozen=True, slots=True)
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
    finding_at: list[tuple[int, int]] = field(default_factory=list)  # (row, hour_s) of each finding
    task_at: list[tuple[int, int]] = field(default_factory=list)  # (row, hour_s) of each task


def utc(epoch_s: int) -> datetime:
    """An epoch second as an aware UTC datetime."""
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
    local = utc(hour_s).astimezone(ZoneInfo(timezone))
    return LocalHour(local.toordinal(), local.hour, local.month, local.year)
