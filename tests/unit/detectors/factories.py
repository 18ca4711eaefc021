"""Hourly sensor frames for rule tests."""

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from detectors.findings import SensorRef
from detectors.rules import Household, SensorContext

SENSOR = SensorRef("gw-1", "s1")


def hourly_frame(end: datetime, hours: int, **columns: object) -> pd.DataFrame:
    """`hours` rows ending just before `end`; each column a scalar or an array of length `hours`."""
    index = pd.date_range(
        end=pd.Timestamp(end) - pd.Timedelta(hours=1), periods=hours, freq="h", tz="UTC"
    )
    return pd.DataFrame(
        {name: np.broadcast_to(np.asarray(v, dtype=float), hours) for name, v in columns.items()},
        index=index,
    )


def context(
    now: datetime, room: str = "living", household: Household | None = None
) -> SensorContext:
    """A context for the test sensor."""
    return SensorContext("home-1", SENSOR, room, now, household or Household())


def utc(*args: int) -> datetime:
    """An aware UTC datetime."""
    return datetime(*args, tzinfo=UTC)
