"""The shape of a detector rule, its context, and helpers every rule shares.

A frame is one sensor's hourly series: a UTC DatetimeIndex labelling the START of each hour
(the hour's mean), columns `temperature_c, humidity_pct, wme_pct, battery_pct` and optionally
`outdoor_temperature_c`; any value may be NaN, any column absent, any hour missing. Rows at or
after `context.now` are ignored. A rule returns an `Evaluation`: its findings and a small state
the runner keeps per (sensor, rule key) and hands back next pass (None for stateless rules).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from detectors.findings import Category, Conditions, Finding, FleetTask, SensorRef, finite_figures
from detectors.psychro import surface_rh_pct, surface_temperature_c

if TYPE_CHECKING:
    from detectors.engine.context import Edge, Figures, HourView

HOUR = timedelta(hours=1)
MEASUREMENTS = ("temperature_c", "humidity_pct", "wme_pct", "battery_pct")
OUTDOOR = "outdoor_temperature_c"


class RuleSettings(Protocol):
    """Every settings dataclass says how many hours of history its rule needs."""

    @property
    def lookback_h(self) -> int:
        """Hours of hourly history before `now` the runner must pass."""
        ...


SettingsT = TypeVar("SettingsT", bound=RuleSettings)


@dataclass(frozen=True)
class Household:
    """Vulnerability flags of the household (special-category data: flags only)."""

    over_65: bool = False
    under_5: bool = False
    health_condition: bool = False

    @property
    def vulnerable(self) -> bool:
        """Someone over 65, a child under 5, or a health condition."""
        return self.over_65 or self.under_5 or self.health_condition


@dataclass(frozen=True)
class SensorContext:
    """Who and where the frame is from, and the evaluation time (aware)."""

    home_id: str
    sensor: SensorRef
    room: str  # living | bedroom | kitchen | bathroom | hall | other
    now: datetime
    household: Household = field(default_factory=Household)
    timezone: str = "Europe/London"


@dataclass(frozen=True)
class Evaluation:
    """What one rule found in one sensor's frame, and the state to hand back next pass."""

    findings: tuple[Finding, ...] = ()
    state: Any = None


@dataclass(frozen=True)
class Rule(Generic[SettingsT]):
    """A hazard rule as data: key, version, hazard, thresholds and the functions that apply them.

    `evaluate` applies it to one sensor's frame; `holds` and `figures` are its behaviour in the
    engine that production runs (`detectors.engine`): which folded rows meet the condition after
    an hour, and what a finding on a rising edge reports. `rooms` says where it applies (None:
    every room); an `occupied_only` rule does not run in unheated spaces (registry room "other"),
    where `unoccupied_raises`, if given, decides; a rule that does not `raise` is tracked only.
    A rule that `reads_air` (the sensor's air temperature or humidity) raises nothing from a sensor
    under a humidity-drift task: its vapour pressure, from both, has left its home's; a damp probe's
    rules (`reads_air=False`) still count (docs/detectors.md, "Quality").
    """

    key: str
    version: int
    hazard: str
    thresholds: SettingsT
    evaluate: Callable[[pd.DataFrame, SensorContext, Rule[SettingsT], Any], Evaluation]
    holds: Callable[[HourView, Any], npt.NDArray[np.bool_]] | None = None
    figures: Callable[[Edge, Any], Figures] | None = None
    rooms: tuple[str, ...] | None = None
    occupied_only: bool = True
    unoccupied_raises: Callable[[HourView, Any, int], bool] | None = None
    raises: bool = True
    reads_air: bool = True

    @property
    def lookback_h(self) -> int:
        """Hours of history the runner must pass."""
        return self.thresholds.lookback_h

    def run(self, frame: pd.DataFrame, context: SensorContext, state: Any = None) -> Evaluation:
        """Apply the rule to one sensor's frame."""
        return self.evaluate(frame, context, self, state)

    def finding(
        self,
        context: SensorContext,
        *,
        window_start: datetime,
        window_end: datetime,
        figures: dict[str, float],
        confidence: float,
        evidence_basis: str,
        category: Category = "potential",
        conditions: Conditions = "room_air",
    ) -> Finding:
        """A finding of this rule about the context's sensor."""
        return Finding(
            home_id=context.home_id,
            sensor=context.sensor,
            room=context.room,
            hazard=self.hazard,
            category=category,
            window_start=window_start,
            window_end=window_end,
            figures=finite_figures(figures),
            confidence=round(min(max(confidence, 0.0), 1.0), 3),
            rule_key=self.key,
            rule_version=self.version,
            evidence_basis=evidence_basis,
            conditions=conditions,
        )


@dataclass(frozen=True)
class FleetRule(Generic[SettingsT]):
    """A sensor-health rule over one sensor's frame: fleet tasks, not hazard findings.

    `holds` and `task` are its behaviour in the engine (None: run outside the hourly fold).
    """

    key: str
    version: int
    thresholds: SettingsT
    evaluate: Callable[[pd.DataFrame, SensorContext, FleetRule[SettingsT]], tuple[FleetTask, ...]]
    holds: Callable[[HourView, Any], npt.NDArray[np.bool_]] | None = None
    task: Callable[[Edge, Any, SensorRef], FleetTask] | None = None
    rooms: tuple[str, ...] | None = None
    occupied_only: bool = False
    unoccupied_raises: Callable[[HourView, Any, int], bool] | None = None
    raises: bool = True

    @property
    def lookback_h(self) -> int:
        """Hours of history the runner must pass."""
        return self.thresholds.lookback_h

    def run(self, frame: pd.DataFrame, context: SensorContext) -> tuple[FleetTask, ...]:
        """Apply the rule to one sensor's frame."""
        return self.evaluate(frame, context, self)


@dataclass(frozen=True)
class HomeFleetRule(Generic[SettingsT]):
    """A sensor-health rule over all sensors of one home (e.g. drift against the others)."""

    key: str
    version: int
    thresholds: SettingsT
    evaluate: Callable[
        [dict[SensorRef, pd.DataFrame], str, datetime, HomeFleetRule[SettingsT]],
        tuple[FleetTask, ...],
    ]

    @property
    def lookback_h(self) -> int:
        """Hours of history the runner must pass."""
        return self.thresholds.lookback_h

    def run(
        self, frames: dict[SensorRef, pd.DataFrame], home_id: str, now: datetime
    ) -> tuple[FleetTask, ...]:
        """Apply the rule to every sensor frame of one home."""
        return self.evaluate(frames, home_id, now, self)


def recent(frame: pd.DataFrame, now: datetime, hours: int) -> pd.DataFrame:
    """The rows labelled in [now − hours, now)."""
    index = pd.DatetimeIndex(frame.index)
    keep = (index >= pd.Timestamp(now - timedelta(hours=hours))) & (index < pd.Timestamp(now))
    return frame.loc[keep]


def hourly(frame: pd.DataFrame, now: datetime, hours: int) -> pd.DataFrame:
    """The last `hours` whole hours before now, one row per hour (missing hours as NaN)."""
    end = pd.Timestamp(now).floor("h")
    grid = pd.date_range(end=end - pd.Timedelta(hours=1), periods=hours, freq="h", tz="UTC")
    window = recent(frame, now, hours + 1)
    window = window[~window.index.duplicated(keep="last")]
    window.index = pd.DatetimeIndex(window.index).floor("h")
    return window.reindex(grid)


def column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column as floats, all NaN when absent."""
    if name in frame.columns:
        return frame[name].astype("float64")
    return pd.Series(np.nan, index=frame.index, dtype="float64")


def as_utc(label: Any) -> datetime:
    """A pandas label as an aware UTC datetime."""
    stamp = pd.Timestamp(label)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    result: datetime = stamp.to_pydatetime()
    return result


def span(labels: pd.Index) -> tuple[datetime, datetime]:
    """Window start and end of a set of hour labels: first start to last end."""
    return as_utc(labels.min()), as_utc(labels.max()) + HOUR


def local_index(frame: pd.DataFrame, timezone: str) -> pd.DatetimeIndex:
    """The frame's index in the home's local time."""
    return pd.DatetimeIndex(frame.index).tz_convert(timezone)


@dataclass(frozen=True)
class SurfaceConditions:
    """Temperature and RH the mould criteria apply to, and what they rest on."""

    temperature_c: npt.NDArray[np.float64]
    humidity_pct: npt.NDArray[np.float64]  # may exceed 100 (condensation)
    surface_hours_h: int  # hours computed from outdoor temperature
    room_air_hours_h: int  # hours that fell back to room air

    @property
    def conditions(self) -> Conditions:
        """The surface model when any hour had outdoor temperature, else the room-air fallback."""
        return "surface_model" if self.room_air_hours_h == 0 else "room_air_fallback"

    @property
    def evidence_basis(self) -> str:
        """Says whether the figures are surface conditions or room air."""
        if self.room_air_hours_h == 0:
            return "surface conditions from outdoor temperature"
        if self.surface_hours_h == 0:
            return "room air: no outdoor temperature — fell back to room-air criteria"
        return (
            f"surface conditions from outdoor temperature for {self.surface_hours_h} h; "
            f"room air for {self.room_air_hours_h} h with no outdoor temperature"
        )


def surface_conditions(frame: pd.DataFrame, f_rsi: float) -> SurfaceConditions:
    """Surface θsi and RHsi where outdoor temperature is known, room air elsewhere."""
    t_room = column(frame, "temperature_c").to_numpy()
    rh_room = column(frame, "humidity_pct").to_numpy()
    t_out = column(frame, OUTDOOR).to_numpy()
    has_outdoor = np.isfinite(t_out)
    t_out_safe = np.where(has_outdoor, t_out, t_room)
    with np.errstate(invalid="ignore"):
        t_surface = np.where(has_outdoor, surface_temperature_c(t_room, t_out_safe, f_rsi), t_room)
        rh_surface = np.where(
            has_outdoor, surface_rh_pct(t_room, rh_room, t_out_safe, f_rsi), rh_room
        )
    measured = np.isfinite(t_room) & np.isfinite(rh_room)
    return SurfaceConditions(
        temperature_c=np.asarray(t_surface, dtype=np.float64),
        humidity_pct=np.asarray(rh_surface, dtype=np.float64),
        surface_hours_h=int((measured & has_outdoor).sum()),
        room_air_hours_h=int((measured & ~has_outdoor).sum()),
    )
