"""Every query of the detectors room: sensor state blocks, fleet tasks, silent flags."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from detectors.findings import FleetTask
from detectors.fleet import FleetState, layout_fields, layout_from_fields, layout_id, state_layout
from detectors.models import DetectorState, DetectorStateLayout, FleetTaskRow

STATE_TABLE = "detector_state_block"
STATE_COLUMNS = "block, layout, sensors, gateway_ids, sensor_ids, states"
BLOCK_SENSORS = 256  # sensors a block row holds (about 210 kB of state)
COMPARE_ROWS = 4096  # rows `changed_rows` compares at a time
PASS_LOCK = 7346202  # the advisory lock a detector pass holds on PostgreSQL, load to commit


@dataclass(frozen=True)
class StoredState:
    """Every sensor's saved state, decoded into the current layout, and the blocks it came from.

    Rows are in block order: block `block_ids[b]` held rows `block_starts[b]:block_starts[b + 1]`.
    """

    keys: list[tuple[str, str]]
    records: npt.NDArray[np.void]
    block_ids: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    block_starts: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(1, np.int64))


def load_state(session: Session) -> StoredState:
    """All saved sensor states (blocks of an older layout are mapped by field name).

    On PostgreSQL the caller's transaction holds an advisory lock from here to its end, so a
    second pass (`homesafe detect` run beside the detectors service) waits for the first to
    commit and loads what it wrote, instead of writing its blocks over them from stale states.
    """
    layout = state_layout()
    current = layout_id(layout)
    connection = session.connection()
    query = f"SELECT {STATE_COLUMNS} FROM {STATE_TABLE} ORDER BY block"
    rows: Sequence[Any]
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PASS_LOCK})")
        driver: Any = connection.connection.driver_connection  # psycopg's
        with driver.cursor(binary=True) as cursor:  # bytea as bytes, not hex text to decode
            rows = cursor.execute(query).fetchall()
    else:
        rows = connection.exec_driver_sql(query).all()
    sizes = np.array([row[2] for row in rows], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    records = np.empty(int(starts[-1]), dtype=layout)
    gateway_ids: list[str] = []
    sensor_ids: list[str] = []
    known: dict[str, str] = {}
    for b, (block, name, sensors, gateways, sensor_names, states) in enumerate(rows):
        gateway_ids += gateways.split("\n")
        sensor_ids += sensor_names.split("\n")
        if len(gateway_ids) != starts[b + 1] or len(sensor_ids) != starts[b + 1]:
            raise ValueError(f"state block {block} holds {sensors} states but other keys")
        if name != current and not known:
            known = {row.layout: row.fields for row in session.scalars(select(DetectorStateLayout))}
        stored = layout if name == current else layout_from_fields(json.loads(known[name]))
        if len(states) != sensors * stored.itemsize:
            raise ValueError(f"state block {block} holds {len(states)} bytes for {sensors} states")
        block_records = np.frombuffer(states, dtype=stored)
        if stored != layout:
            block_records = FleetState.from_records([("", "")] * sensors, block_records).records()
        records[starts[b] : starts[b + 1]] = block_records
    return StoredState(
        list(zip(gateway_ids, sensor_ids, strict=True)),
        records,
        np.array([row[0] for row in rows], dtype=np.int64),
        starts,
    )


def save_state(
    session: Session,
    stored: StoredState,
    keys: Sequence[tuple[str, str]],
    records: npt.NDArray[np.void],
    changed: npt.NDArray[np.int64],
) -> int:
    """Write the blocks holding a changed row, in the caller's transaction; returns rows changed.

    `keys` and `records` are every sensor's state now: the rows `stored` loaded first, in their
    order, then new sensors; `changed` the rows that differ from what is stored (`changed_rows`).
    A block is rewritten whole (delete and insert, COPY on PostgreSQL: cheaper than updating
    hundreds of large values in place); new sensors fill the last block, then new ones.
    """
    if not len(changed):
        return 0
    loaded = len(stored.keys)
    if len(keys) < loaded or list(keys[:loaded]) != stored.keys:
        raise ValueError("keys must start with the loaded sensors, in the loaded order")
    layout = records.dtype
    name = layout_id(layout)
    if session.get(DetectorStateLayout, name) is None:
        session.add(DetectorStateLayout(layout=name, fields=json.dumps(layout_fields(layout))))
        session.flush()
    ids, starts = stored.block_ids, stored.block_starts
    touched = np.unique(np.searchsorted(starts, changed[changed < loaded], side="right") - 1)
    spans = {int(ids[b]): (int(starts[b]), int(starts[b + 1])) for b in touched.tolist()}
    first_new = loaded
    if len(keys) > loaded and ids.size and starts[-1] - starts[-2] < BLOCK_SENSORS:
        first_new = min(int(starts[-2]) + BLOCK_SENSORS, len(keys))
        spans[int(ids[-1])] = (int(starts[-2]), first_new)
    next_block = int(ids.max()) + 1 if ids.size else 0
    for low in range(first_new, len(keys), BLOCK_SENSORS):
        spans[next_block] = (low, min(low + BLOCK_SENSORS, len(keys)))
        next_block += 1
    rows = []
    for block, (low, high) in sorted(spans.items()):
        gateway_ids = "\n".join(gateway_id for gateway_id, _ in keys[low:high])
        sensor_ids = "\n".join(sensor_id for _, sensor_id in keys[low:high])
        if gateway_ids.count("\n") + sensor_ids.count("\n") != 2 * (high - low - 1):
            raise ValueError(f"a sensor key of rows {low}-{high} holds a line break")
        states = records[low:high].tobytes()
        rows.append((block, name, high - low, gateway_ids, sensor_ids, states))
    connection = session.connection()
    cursor = connection.connection.cursor()
    try:
        if connection.dialect.name == "postgresql":
            cursor.execute(f"DELETE FROM {STATE_TABLE} WHERE block = ANY(%s)", (list(spans),))
            with cursor.copy(
                f"COPY {STATE_TABLE} ({STATE_COLUMNS}) FROM STDIN (FORMAT binary)"
            ) as copy:
                copy.set_types(["int4", "text", "int4", "text", "text", "bytea"])
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"DELETE FROM {STATE_TABLE} WHERE block = ?", [(b,) for b in spans])
            cursor.executemany(
                f"INSERT INTO {STATE_TABLE} ({STATE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", rows
            )
    finally:
        cursor.close()
    return len(changed)


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
    width = before.dtype.itemsize
    old = np.ascontiguousarray(before).view(np.uint8).reshape(n, width)
    new = np.ascontiguousarray(after[:n]).view(np.uint8).reshape(n, width)
    fields: dict[str, Any] = dict(before.dtype.fields or {})
    offset = fields["latest_ts_s"][1]
    latest = slice(offset, offset + fields["latest_ts_s"][0].itemsize)
    moved = (after["latest_ts_s"][:n] - before["latest_ts_s"]) >= latest_slack_s
    differs = np.empty(n, dtype=bool)
    for low in range(0, n, COMPARE_ROWS):  # a slice at a time: no state-sized temporaries
        unequal = new[low : low + COMPARE_ROWS] != old[low : low + COMPARE_ROWS]
        unequal[:, latest] = False
        differs[low : low + COMPARE_ROWS] = unequal.any(axis=1)
    return np.concatenate([np.flatnonzero(differs | moved), np.arange(n, after.size)]).astype(
        np.int64
    )


def add_fleet_tasks(session: Session, tasks: Sequence[FleetTask]) -> None:
    """Persist new fleet tasks (open), in one bulk INSERT: a first pass over a fleet's stored
    history can raise one for most sensors (an ORM object each cost 0.3 ms)."""
    if not tasks:
        return
    session.execute(
        insert(FleetTaskRow),
        [
            {
                "home_id": t.home_id,
                "gateway_id": t.sensor.gateway_id,
                "sensor_id": t.sensor.sensor_id,
                "kind": t.kind,
                "status": "open",
                "detected_at": t.detected_at,
                "window_start": t.window_start,
                "window_end": t.window_end,
                "description": t.description,
                "rule_key": t.rule_key,
                "rule_version": t.rule_version,
                "figures": dict(t.figures),
            }
            for t in tasks
        ],
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
