"""Every dead-letter query."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ingest.contract import MAX_PAYLOAD_BYTES, MAX_STORED_INT, DeadLetterRecord
from ingest.fleet import GatewayDelta, seq_gaps
from ingest.models import DeadLetter, GatewayHealthRow, SensorHealthRow
from registry.clock import from_epoch_s


def add_dead_letters(session: Session, rows: Sequence[DeadLetterRecord]) -> None:
    """Insert dead letters; the caller owns the transaction."""
    if not rows:
        return
    session.execute(
        insert(DeadLetter),
        [
            {
                "received_at": row.received_at,
                "topic": row.topic.replace("\x00", "\\x00"),
                "payload": row.payload[:MAX_PAYLOAD_BYTES],
                "payload_truncated": row.payload_truncated or len(row.payload) > MAX_PAYLOAD_BYTES,
                "gateway_id": row.gateway_id,
                "reason": row.reason.replace("\x00", "\\x00"),
                "rejected_readings": row.rejected_readings,
            }
            for row in rows
        ],
    )


def list_dead_letters(session: Session, *, limit: int = 100, offset: int = 0) -> list[DeadLetter]:
    """Dead letters newest first (by receipt time, then insertion order)."""
    statement = (
        select(DeadLetter)
        .order_by(DeadLetter.received_at.desc(), DeadLetter.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(statement))


def count_dead_letters(session: Session) -> int:
    """How many dead letters are kept."""
    return session.scalar(select(func.count()).select_from(DeadLetter)) or 0


MAX_STORED_INT32 = 2**31 - 1  # seq_resets is a 32-bit INTEGER column


def _capped(value: int, largest: int = MAX_STORED_INT) -> int:
    """A running count held at the largest value its column stores (it only ever grows)."""
    return value if value <= largest else largest


def _later(stored: datetime | None, epoch_s: float | None) -> datetime | None:
    if epoch_s is None:
        return stored
    candidate = from_epoch_s(epoch_s)
    return candidate if stored is None or candidate > stored else stored


def merge_fleet_deltas(session: Session, deltas: Sequence[GatewayDelta], *, now: datetime) -> None:
    """Fold one worker's fleet deltas into the stored health rows (row locks on PostgreSQL)."""
    if not deltas:
        return
    ids = sorted({delta.gateway_id for delta in deltas})
    rows = {
        row.gateway_id: row
        for row in session.scalars(
            select(GatewayHealthRow).where(GatewayHealthRow.gateway_id.in_(ids)).with_for_update()
        )
    }
    sensors = {
        (row.gateway_id, row.sensor): row
        for row in session.scalars(
            select(SensorHealthRow).where(SensorHealthRow.gateway_id.in_(ids)).with_for_update()
        )
    }
    for delta in sorted(deltas, key=lambda d: d.gateway_id):
        row = rows.get(delta.gateway_id)
        if row is None:
            row = GatewayHealthRow(
                gateway_id=delta.gateway_id,
                messages=0,
                repeated_messages=0,
                seq_resets=0,
                missed_before_reset=0,
                updated_at=now,
            )
            session.add(row)
            rows[delta.gateway_id] = row
        _merge_gateway(row, delta, now)
        for name, health in delta.sensors.items():
            sensor = sensors.get((delta.gateway_id, name))
            if sensor is None:
                sensor = SensorHealthRow(
                    gateway_id=delta.gateway_id,
                    sensor=name,
                    last_ts=health.last_ts,
                    last_seen_at=from_epoch_s(health.last_seen_at_s),
                    battery_pct=health.battery_pct,
                    readings=0,
                )
                session.add(sensor)
                sensors[(delta.gateway_id, name)] = sensor
            elif health.last_ts >= sensor.last_ts:
                sensor.last_ts = health.last_ts
                sensor.last_seen_at = from_epoch_s(health.last_seen_at_s)
                if health.battery_pct is not None:
                    sensor.battery_pct = health.battery_pct
            sensor.readings = _capped(max(sensor.readings, health.readings))
    session.flush()


def _merge_gateway(row: GatewayHealthRow, delta: GatewayDelta, now: datetime) -> None:
    if delta.home_id:
        row.home_id = delta.home_id
    if delta.status_at_s is not None and (
        row.status_at is None or from_epoch_s(delta.status_at_s) >= row.status_at
    ):
        row.state, row.fw, row.status_ts = delta.state, delta.fw, delta.status_ts
        row.status_at = from_epoch_s(delta.status_at_s)
    row.last_seen_at = _later(row.last_seen_at, delta.last_seen_at_s)
    if delta.reset:
        row.missed_before_reset = _capped(
            row.missed_before_reset + seq_gaps(row.first_seq, row.last_seq, row.messages)
        )
        row.first_seq, row.last_seq, row.messages = delta.first_seq, delta.last_seq, 0
    elif delta.first_seq is not None and delta.last_seq is not None:
        row.first_seq = (
            delta.first_seq if row.first_seq is None else min(row.first_seq, delta.first_seq)
        )
        row.last_seq = delta.last_seq if row.last_seq is None else max(row.last_seq, delta.last_seq)
    # Counts are held at their column's largest value: a gateway jumping between 0 and the
    # largest seq must not make its row (and with it the batch) unwritable.
    row.messages = _capped(row.messages + delta.messages)
    row.repeated_messages = _capped(row.repeated_messages + delta.repeated_messages)
    row.seq_resets = _capped(row.seq_resets + delta.seq_resets, MAX_STORED_INT32)
    row.missed_before_reset = _capped(row.missed_before_reset + delta.missed_before_reset)
    row.updated_at = now


def list_gateway_health(session: Session) -> list[GatewayHealthRow]:
    """Every gateway's stored health, by id."""
    return list(session.scalars(select(GatewayHealthRow).order_by(GatewayHealthRow.gateway_id)))


def get_gateway_health(session: Session, gateway_id: str) -> GatewayHealthRow | None:
    """One gateway's stored health."""
    return session.get(GatewayHealthRow, gateway_id)


def sensor_health(session: Session, gateway_ids: Sequence[str]) -> list[SensorHealthRow]:
    """The sensors of the given gateways, by gateway then sensor."""
    if not gateway_ids:
        return []
    return list(
        session.scalars(
            select(SensorHealthRow)
            .where(SensorHealthRow.gateway_id.in_(list(gateway_ids)))
            .order_by(SensorHealthRow.gateway_id, SensorHealthRow.sensor)
        )
    )
