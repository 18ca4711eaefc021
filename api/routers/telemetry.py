"""A home's stored readings, and rejected telemetry."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status

from api.deps import Context, DbSession, require
from api.models import User
from ingest import repository as dead_letters
from ingest.retention import HOUR_S, HourlyReading, hourly_split
from ingest.schemas import DeadLetterOut
from ingest.store import TelemetryStoreError, epoch_bounds_s
from registry import repository as registry
from registry.clock import from_epoch_s, plausible, utc_now

router = APIRouter(tags=["telemetry"])

MEASUREMENTS = ("temperature_c", "humidity_pct", "wme_pct", "battery_pct")
MAX_WINDOW = timedelta(days=400)


def parse_instant(value: str | None, name: str) -> datetime | None:
    """RFC 3339 with an offset, or whole seconds since the Unix epoch."""
    if value is None or value == "":
        return None
    try:
        if value.lstrip("-").isdigit():
            moment: datetime | None = from_epoch_s(int(value))
        else:
            moment = datetime.fromisoformat(value)
    except (ValueError, OverflowError, OSError):
        moment = None
    if moment is None or moment.tzinfo is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"{name} must be RFC 3339 with an offset, or epoch seconds",
        )
    try:
        return plausible(moment)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{name}: {exc}") from None


@router.get("/homes/{home_id}/telemetry")
def home_telemetry(
    home_id: str,
    session: DbSession,
    context: Context,
    _user: Annotated[User, Depends(require("telemetry:read"))],
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
    sensor: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """The home's readings in [from, to): the last 24 hours when no period is given.

    Hours older than the raw retention (HOMESAFE_RETENTION_RAW_DAYS) are served from the hourly
    rollups: one reading per sensor and hour, stamped at the hour's start, holding the hour's
    means and marked `"period_s": 3600` (docs/operations.md, "Retention").
    """
    if registry.get_home(session, home_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no home {home_id!r}")
    end = parse_instant(to, "to") or utc_now()
    start = parse_instant(from_, "from") or end - timedelta(days=1)
    if end < start:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "to is before from")
    if end - start > MAX_WINDOW:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "the period is longer than 400 days"
        )
    hourly_part: tuple[int, int] | None = None
    raw_part: tuple[int, int] | None = epoch_bounds_s(start, end)
    if context.retention is not None:
        hourly_part, raw_part = hourly_split(
            *epoch_bounds_s(start, end),
            now_s=int(utc_now().timestamp()),
            raw_days=context.raw_days,
        )
    rows: list[dict[str, Any]] = []
    try:
        if hourly_part is not None and context.retention is not None:
            rows += _hourly_rows(
                context.retention.hourly(
                    start=from_epoch_s(hourly_part[0]),
                    end=from_epoch_s(hourly_part[1]),
                    home_id=home_id,
                    sensor=sensor,
                )
            )
        readings = []
        if raw_part is not None and raw_part[1] > raw_part[0]:
            readings = context.telemetry.query(
                start=from_epoch_s(raw_part[0]),
                end=from_epoch_s(raw_part[1]),
                home_id=home_id,
                sensor=sensor,
            )
    except TelemetryStoreError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"telemetry store: {exc}") from exc
    for reading in readings:
        row: dict[str, Any] = {"sensor": reading.sensor, "ts": reading.ts}
        for name in MEASUREMENTS:
            value = getattr(reading, name)
            if value is not None:
                row[name] = value
        rows.append(row)
    return {"readings": rows}


def _hourly_rows(hours: list[HourlyReading]) -> list[dict[str, Any]]:
    rows = []
    for hour in hours:
        row: dict[str, Any] = {"sensor": hour.sensor, "ts": hour.hour_ts, "period_s": HOUR_S}
        for name in MEASUREMENTS:
            mean = hour.mean(name)
            if mean is not None:
                row[name] = mean
        rows.append(row)
    return rows


@router.get("/dead-letters", response_model=list[DeadLetterOut])
def list_dead_letters(
    session: DbSession,
    _user: Annotated[User, Depends(require("fleet:read"))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0,
) -> list[DeadLetterOut]:
    """Rejected telemetry, newest first, each with its reason."""
    rows = dead_letters.list_dead_letters(session, limit=limit, offset=offset)
    return [DeadLetterOut.from_row(row) for row in rows]
