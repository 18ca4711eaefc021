"""Fleet health from the telemetry and status streams: pure, in memory, time as an argument.

Seq accounting is built to merge across shared-subscription workers, each of which sees only
part of a gateway's messages: a worker reports the lowest and highest `seq` it saw and how
many distinct messages, and lost messages are `last_seq - first_seq + 1 - messages`.
A `seq` far below the last one (more than RESET_MARGIN), or 0 after anything higher, is a
gateway that restarted its count; a lower `seq` within the margin is a redelivery.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Final

from ingest.contract import Decoded, GatewayStatus

RESET_MARGIN: Final = 100
RECENT_SEQS: Final = 64


@dataclass(slots=True)
class SensorHealth:
    """The newest reading seen from one sensor."""

    last_ts: int
    last_seen_at_s: float
    battery_pct: float | None = None
    readings: int = 0


@dataclass(slots=True)
class GatewayDelta:
    """What one worker learned about a gateway since it last reported."""

    gateway_id: str
    home_id: str | None = None
    state: str | None = None
    fw: str | None = None
    status_ts: int | None = None
    status_at_s: float | None = None
    last_seen_at_s: float | None = None
    reset: bool = False
    first_seq: int | None = None
    last_seq: int | None = None
    messages: int = 0
    repeated_messages: int = 0
    seq_resets: int = 0
    missed_before_reset: int = 0
    sensors: dict[str, SensorHealth] = field(default_factory=dict)


@dataclass(slots=True)
class GatewayHealth:
    """The whole picture of one gateway as this worker sees it."""

    gateway_id: str
    home_id: str | None = None
    state: str | None = None
    fw: str | None = None
    status_ts: int | None = None
    status_at_s: float | None = None
    last_seen_at_s: float | None = None
    first_seq: int | None = None
    last_seq: int | None = None
    messages: int = 0
    repeated_messages: int = 0
    seq_resets: int = 0
    missed_before_reset: int = 0
    sensors: dict[str, SensorHealth] = field(default_factory=dict)
    recent_seqs: list[int] = field(default_factory=list, repr=False)

    @property
    def missed_messages(self) -> int:
        """Messages lost, judged from gaps in `seq`."""
        return self.missed_before_reset + seq_gaps(self.first_seq, self.last_seq, self.messages)

    @property
    def battery_min_pct(self) -> float | None:
        """The lowest battery any of its sensors last reported."""
        levels = [s.battery_pct for s in self.sensors.values() if s.battery_pct is not None]
        return min(levels) if levels else None


def seq_gaps(first_seq: int | None, last_seq: int | None, messages: int) -> int:
    """Missing messages in a seq window holding `messages` distinct ones."""
    if first_seq is None or last_seq is None:
        return 0
    return max(0, last_seq - first_seq + 1 - messages)


class FleetTracker:
    """Folds telemetry and status messages into per-gateway health, and hands out deltas."""

    def __init__(self) -> None:
        self._health: dict[str, GatewayHealth] = {}
        self._deltas: dict[str, GatewayDelta] = {}

    def _delta(self, gateway_id: str) -> GatewayDelta:
        delta = self._deltas.get(gateway_id)
        if delta is None:
            delta = self._deltas[gateway_id] = GatewayDelta(gateway_id)
        return delta

    def _gateway(self, gateway_id: str) -> GatewayHealth:
        health = self._health.get(gateway_id)
        if health is None:
            health = self._health[gateway_id] = GatewayHealth(gateway_id)
        return health

    def observe(self, decoded: Decoded, received_at_s: float) -> None:
        """Take one decoded telemetry message (whole rejections are ignored)."""
        if decoded.whole_message_rejected or decoded.gateway_id is None or decoded.seq is None:
            return
        seq = decoded.seq
        health = self._gateway(decoded.gateway_id)
        delta = self._delta(decoded.gateway_id)
        health.last_seen_at_s = max(health.last_seen_at_s or received_at_s, received_at_s)
        delta.last_seen_at_s = health.last_seen_at_s
        last = health.last_seq
        if last is not None and (seq + RESET_MARGIN < last or (seq == 0 and last > 0)):
            lost = seq_gaps(health.first_seq, health.last_seq, health.messages)
            health.missed_before_reset += lost
            health.first_seq = health.last_seq = seq
            health.messages = 1
            health.seq_resets += 1
            delta.reset = True
            delta.missed_before_reset += lost
            delta.seq_resets += 1
            delta.first_seq = delta.last_seq = seq
            delta.messages = 1
        elif (
            last is not None
            and seq <= last
            and seq >= (health.first_seq or 0)
            and (seq == last or seq in health.recent_seqs)
        ):
            health.repeated_messages += 1
            delta.repeated_messages += 1
        else:
            health.first_seq = seq if health.first_seq is None else min(health.first_seq, seq)
            health.last_seq = seq if last is None else max(last, seq)
            health.messages += 1
            delta.first_seq = seq if delta.first_seq is None else min(delta.first_seq, seq)
            delta.last_seq = seq if delta.last_seq is None else max(delta.last_seq, seq)
            delta.messages += 1
        health.recent_seqs.append(seq)
        if len(health.recent_seqs) > RECENT_SEQS:
            del health.recent_seqs[0]
        if health.home_id is None:
            for reading in decoded.readings:
                if reading.home_id:
                    health.home_id = delta.home_id = reading.home_id
                    break
        sensors = health.sensors
        changed = delta.sensors  # live objects here; take_deltas hands out copies
        for _gateway, name, ts, _t, _h, _w, battery_pct, _home in decoded.readings:
            sensor = sensors.get(name)
            if sensor is None:
                sensor = sensors[name] = SensorHealth(ts, received_at_s)
            sensor.readings += 1
            if ts >= sensor.last_ts:
                sensor.last_ts = ts
                sensor.last_seen_at_s = received_at_s
                if battery_pct is not None:
                    sensor.battery_pct = battery_pct
            changed[name] = sensor

    def observe_status(self, status: GatewayStatus) -> None:
        """Take one status message (the newest by receipt wins)."""
        health = self._gateway(status.gateway_id)
        delta = self._delta(status.gateway_id)
        for target in (health, delta):
            target.state = status.state
            target.fw = status.fw
            target.status_ts = status.ts
            target.status_at_s = status.received_at_s

    def take_deltas(self) -> list[GatewayDelta]:
        """What changed since the last call, per gateway (copies, safe to keep); clears it."""
        deltas = list(self._deltas.values())
        self._deltas = {}
        for delta in deltas:
            delta.sensors = {name: replace(sensor) for name, sensor in delta.sensors.items()}
        return deltas

    def restore(self, deltas: list[GatewayDelta]) -> None:
        """Put back deltas a failed write could not persist (merged with newer ones)."""
        for old in deltas:
            newer = self._deltas.get(old.gateway_id)
            if newer is None:
                self._deltas[old.gateway_id] = old
                continue
            self._deltas[old.gateway_id] = merge_deltas(old, newer)

    def snapshot(self) -> dict[str, GatewayHealth]:
        """A copy of every gateway's health."""
        return {
            key: replace(
                value,
                sensors={k: replace(v) for k, v in value.sensors.items()},
                recent_seqs=[],
            )
            for key, value in self._health.items()
        }


def merge_deltas(old: GatewayDelta, new: GatewayDelta) -> GatewayDelta:
    """Two successive deltas of one gateway as one."""
    if new.reset:
        merged = replace(new, sensors={**old.sensors, **new.sensors})
        merged.missed_before_reset += old.missed_before_reset + seq_gaps(
            old.first_seq, old.last_seq, old.messages
        ) * (not old.reset)
        merged.seq_resets += old.seq_resets
        merged.repeated_messages += old.repeated_messages
        return merged
    merged = replace(old, sensors={**old.sensors, **new.sensors})
    for name in ("home_id", "state", "fw", "status_ts", "status_at_s", "last_seen_at_s"):
        value = getattr(new, name)
        if value is not None:
            setattr(merged, name, value)
    firsts = [s for s in (old.first_seq, new.first_seq) if s is not None]
    lasts = [s for s in (old.last_seq, new.last_seq) if s is not None]
    merged.first_seq = min(firsts) if firsts else None
    merged.last_seq = max(lasts) if lasts else None
    merged.messages = old.messages + new.messages
    merged.repeated_messages = old.repeated_messages + new.repeated_messages
    merged.seq_resets = old.seq_resets + new.seq_resets
    merged.missed_before_reset = old.missed_before_reset + new.missed_before_reset
    return merged
