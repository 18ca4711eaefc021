"""Every query of the detectors room: the fleet state snapshot, fleet tasks, silent flags."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from detectors.findings import FleetTask
from detectors.models import DetectorSnapshot, DetectorState, FleetTaskRow

FLEET_SNAPSHOT = "fleet"


def load_snapshot(session: Session, name: str = FLEET_SNAPSHOT) -> bytes | None:
    """The saved state payload, or None before the first pass."""
    row = session.get(DetectorSnapshot, name)
    return None if row is None else bytes(row.payload)


def save_snapshot(session: Session, payload: bytes, *, sensors: int, now: datetime,
                  name: str = FLEET_SNAPSHOT) -> None:
    """Replace the saved state payload."""
    row = session.get(DetectorSnapshot, name)
    if row is None:
        session.add(DetectorSnapshot(name=name, saved_at=now, sensors=sensors, payload=payload))
    else:
        row.payload, row.sensors, row.saved_at = payload, sensors, now


def add_fleet_tasks(session: Session, tasks: Sequence[FleetTask]) -> None:
    """Persist new fleet tasks (open)."""
    session.add_all([
        FleetTaskRow(home_id=t.home_id, gateway_id=t.sensor.gateway_id, sensor_id=t.sensor.sensor_id,
                     kind=t.kind, status="open", detected_at=t.detected_at, window_start=t.window_start,
                     window_end=t.window_end, description=t.description, rule_key=t.rule_key,
                     rule_version=t.rule_version, figures=dict(t.figures))
        for t in tasks
    ])


def resolve_silent_tasks(session: Session, keys: Sequence[tuple[str, str]], *, now: datetime) -> None:
    """Mark open silent tasks of sensors heard again as resolved."""
    for gateway_id, sensor_id in keys:
        for row in session.scalars(select(FleetTaskRow).where(
                FleetTaskRow.gateway_id == gateway_id, FleetTaskRow.sensor_id == sensor_id,
                FleetTaskRow.kind == "silent", FleetTaskRow.status == "open")):
            row.status, row.resolved_at = "resolved", now


def list_fleet_tasks(session: Session, *, status: str | None = "open", home_id: str | None = None,
                     kind: str | None = None, limit: int = 500) -> Sequence[FleetTaskRow]:
    """Fleet tasks, newest first."""
    query = select(FleetTaskRow).order_by(FleetTaskRow.detected_at.desc(), FleetTaskRow.id.desc())
    if status is not None:
        query = query.where(FleetTaskRow.status == status)
    if home_id is not None:
        query = query.where(FleetTaskRow.home_id == home_id)
    if kind is not None:
        query = query.where(FleetTaskRow.kind == kind)
    return session.scalars(query.limit(limit)).all()


def set_silent(session: Session, keys: Sequence[tuple[str, str]], *, active: bool, now: datetime) -> None:
    """Keep DetectorState(rule 'silent') in step: other rooms read which homes are unseen."""
    for gateway_id, sensor_id in keys:
        row = session.get(DetectorState, (gateway_id, sensor_id, "silent"))
        if row is None:
            row = DetectorState(gateway_id=gateway_id, sensor_id=sensor_id, rule_key="silent", active=active)
            session.add(row)
        row.active = active
        row.last_evaluated_at = now
        if active:
            row.last_finding_at = now


def vulnerable_homes(session: Session) -> set[str]:
    """Homes with someone over 65, a child under 5, or a recorded vulnerability (thresholds rise)."""
    from registry.models import Household

    rows = session.execute(select(Household.home_id, Household.over_65, Household.children_under_5,
                                  Household.vulnerability)).all()
    return {home for home, over_65, under_5, vulnerability in rows
            if over_65 == "yes" or under_5 == "yes" or bool(vulnerability)}
