"""Every query of the detectors room: per-sensor state rows, fleet tasks, silent flags."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from detectors.findings import FleetTask
from detectors.fleet import FleetState, layout_fields, layout_from_fields, layout_id, state_layout
from detectors.models import DetectorState, DetectorStateLayout, FleetTaskRow

STATE_TABLE = "detector_sensor_state"
COPY_COLUMNS = "gateway_id, sensor_id, layout, through_s, state"


@dataclass(frozen=True)
class StoredState:
    """Every sensor's saved state, decoded into the current layout."""

    keys: list[tuple[str, str]]
    records: npt.NDArray[np.void]


def load_state(session: Session) -> StoredState:
    """All saved sensor states (rows of an older layout are mapped by field name)."""
    layout = state_layout()
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(
            f"SELECT layout, gateway_id, sensor_id, state FROM {STATE_TABLE} ORDER BY layout"
        )
        rows = cursor.fetchall()
    finally:
        cursor.close()
    if not rows:
        return StoredState([], np.empty(0, dtype=layout))
    known = {row.layout: row.fields for row in session.scalars(select(DetectorStateLayout))}
    keys: list[tuple[str, str]] = []
    parts = []
    for layout_name, group in groupby(rows, key=lambda r: r[0]):
        members = list(group)
        stored = (
            layout
            if layout_name == layout_id(layout)
            else layout_from_fields(json.loads(known[layout_name]))
        )
        records = np.frombuffer(b"".join(bytes(r[3]) for r in members), dtype=stored)
        if stored != layout:
            records = FleetState.from_records([("", "")] * len(members), records).records()
        keys += [(r[1], r[2]) for r in members]
        parts.append(records)
    return StoredState(keys, np.concatenate(parts))


def save_state(
    session: Session, keys: Sequence[tuple[str, str]], records: npt.NDArray[np.void]
) -> int:
    """Insert or replace the given sensors' states in bulk (COPY on PostgreSQL); returns rows written."""
    if not len(keys):
        return 0
    layout = records.dtype
    name = layout_id(layout)
    if session.get(DetectorStateLayout, name) is None:
        session.add(DetectorStateLayout(layout=name, fields=json.dumps(layout_fields(layout))))
        session.flush()
    width = layout.itemsize
    payload = records.tobytes()
    through = records["through_s"].tolist()
    connection = session.connection()
    cursor = connection.connection.cursor()
    try:
        if connection.dialect.name == "postgresql":
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS state_in (LIKE {STATE_TABLE}) ON COMMIT DROP"
            )
            cursor.execute("TRUNCATE state_in")
            with cursor.copy(f"COPY state_in ({COPY_COLUMNS}) FROM STDIN") as copy:
                for i, (gateway_id, sensor_id) in enumerate(keys):
                    copy.write_row(
                        (
                            gateway_id,
                            sensor_id,
                            name,
                            through[i],
                            payload[i * width : (i + 1) * width],
                        )
                    )
            cursor.execute(
                f"INSERT INTO {STATE_TABLE} ({COPY_COLUMNS}) SELECT {COPY_COLUMNS} FROM state_in "
                "ON CONFLICT (gateway_id, sensor_id) DO UPDATE SET layout = excluded.layout, "
                "through_s = excluded.through_s, state = excluded.state"
            )
        else:
            cursor.executemany(
                f"INSERT INTO {STATE_TABLE} ({COPY_COLUMNS}) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (gateway_id, sensor_id) DO UPDATE SET layout = excluded.layout, "
                "through_s = excluded.through_s, state = excluded.state",
                [
                    (g, s, name, through[i], payload[i * width : (i + 1) * width])
                    for i, (g, s) in enumerate(keys)
                ],
            )
    finally:
        cursor.close()
    return len(keys)


def changed_rows(
    before: npt.NDArray[np.void], after: npt.NDArray[np.void], *, latest_slack_s: int = 3600
) -> npt.NDArray[np.int64]:
    """Rows whose state differs from what was loaded (rows past `before` are new).

    The newest-reading time alone moves every pass; it is written when it moved by
    `latest_slack_s` or with the row's next real change (each pass re-reads the recent hours).
    """
    n = before.size
    if after.dtype != before.dtype:
        return np.arange(after.size)
    head = after[:n].copy()
    moved = (head["latest_ts_s"] - before["latest_ts_s"]) >= latest_slack_s
    head["latest_ts_s"] = before["latest_ts_s"]
    width = before.dtype.itemsize
    differs = (
        head.view(np.uint8).reshape(n, width) != before.view(np.uint8).reshape(n, width)
    ).any(axis=1)
    return np.concatenate([np.flatnonzero(differs | moved), np.arange(n, after.size)]).astype(
        np.int64
    )


def add_fleet_tasks(session: Session, tasks: Sequence[FleetTask]) -> None:
    """Persist new fleet tasks (open)."""
    session.add_all(
        [
            FleetTaskRow(
                home_id=t.home_id,
                gateway_id=t.sensor.gateway_id,
                sensor_id=t.sensor.sensor_id,
                kind=t.kind,
                status="open",
                detected_at=t.detected_at,
                window_start=t.window_start,
                window_end=t.window_end,
                description=t.description,
                rule_key=t.rule_key,
                rule_version=t.rule_version,
                figures=dict(t.figures),
            )
            for t in tasks
        ]
    )


def resolve_silent_tasks(
    session: Session, keys: Sequence[tuple[str, str]], *, now: datetime
) -> None:
    """Mark open silent tasks of sensors heard again as resolved."""
    for gateway_id, sensor_id in keys:
        for row in session.scalars(
            select(FleetTaskRow).where(
                FleetTaskRow.gateway_id == gateway_id,
                FleetTaskRow.sensor_id == sensor_id,
                FleetTaskRow.kind == "silent",
                FleetTaskRow.status == "open",
            )
        ):
            row.status, row.resolved_at = "resolved", now


def list_fleet_tasks(
    session: Session,
    *,
    status: str | None = "open",
    home_id: str | None = None,
    kind: str | None = None,
    limit: int = 500,
) -> Sequence[FleetTaskRow]:
    """Fleet tasks, newest first."""
    query = select(FleetTaskRow).order_by(FleetTaskRow.detected_at.desc(), FleetTaskRow.id.desc())
    if status is not None:
        query = query.where(FleetTaskRow.status == status)
    if home_id is not None:
        query = query.where(FleetTaskRow.home_id == home_id)
    if kind is not None:
        query = query.where(FleetTaskRow.kind == kind)
    return session.scalars(query.limit(limit)).all()


def set_silent(
    session: Session, keys: Sequence[tuple[str, str]], *, active: bool, now: datetime
) -> None:
    """Keep DetectorState(rule 'silent') in step: other rooms read which homes are unseen."""
    for gateway_id, sensor_id in keys:
        row = session.get(DetectorState, (gateway_id, sensor_id, "silent"))
        if row is None:
            row = DetectorState(
                gateway_id=gateway_id, sensor_id=sensor_id, rule_key="silent", active=active
            )
            session.add(row)
        row.active = active
        row.last_evaluated_at = now
        if active:
            row.last_finding_at = now


def vulnerable_homes(session: Session) -> set[str]:
    """Homes with someone over 65, a child under 5, or a recorded vulnerability (thresholds rise)."""
    from registry.models import Household

    rows = session.execute(
        select(
            Household.home_id,
            Household.over_65,
            Household.children_under_5,
            Household.vulnerability,
        )
    ).all()
    return {
        home
        for home, over_65, under_5, vulnerability in rows
        if over_65 == "yes" or under_5 == "yes" or bool(vulnerability)
    }
