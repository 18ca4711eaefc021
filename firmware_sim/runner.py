"""Runs a simulated fleet: physics → readings → gateways, in live, accelerated or fleet mode."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from firmware_sim.clock import wall_time_s
from firmware_sim.gateway import Gateway, protocol_of
from firmware_sim.homes import HomePlan
from firmware_sim.simulation import SPINUP_S, FleetPhysics, physics_step_s
from firmware_sim.telemetry import ReadingFactory, SensorFaults, telemetry_topic
from firmware_sim.truth import TruthRecorder


@dataclass(frozen=True)
class Batch:
    """The messages of every gateway at one reading time."""

    ts: int
    messages: list[tuple[int, bytes | None]]  # (home index, payload) — None when no readings
    offline: list[bool]


class FleetRun:
    """Physics, sensors and truth for a fleet over a window; yields message batches in time order."""

    def __init__(
        self,
        plans: list[HomePlan],
        *,
        seed: int,
        window_start_s: int,
        window_end_s: int,
        interval_s: int = 900,
        spinup_s: int = SPINUP_S,
    ):
        dt = physics_step_s(interval_s)
        window_start_s -= window_start_s % dt
        self.plans = plans
        self.interval_s = interval_s
        self.physics = FleetPhysics(
            plans, seed=seed, window_start_s=window_start_s, window_end_s=window_end_s, dt_s=dt
        )
        self.faults = SensorFaults(plans, seed, window_start_s, window_end_s)
        self.factory = ReadingFactory(plans, self.faults, seed)
        self.truth = TruthRecorder(self.physics)
        self.window_start_s, self.window_end_s = window_start_s, window_end_s
        self.physics.start(window_start_s - spinup_s)

    def batches(self, until_s: int | None = None) -> Iterator[Batch]:
        """Step the physics up to until_s (default: window end), yielding each reading time's batch."""
        until = self.window_end_s if until_s is None else until_s
        while self.physics.ts + self.physics.dt_s <= until:  # never a reading after until
            c = self.physics.step()
            self.truth.observe(c)
            if c.ts < self.window_start_s or c.ts % self.interval_s:
                continue
            per_home = self.factory.readings(c)
            messages = [
                (h, self.factory.message(h, rs) if rs else None) for h, rs in enumerate(per_home)
            ]
            yield Batch(c.ts, messages, self.faults.offline_all(c.ts))

    def truth_records(self) -> list[dict[str, Any]]:
        """Hazard and fault truth for the run so far."""
        return self.truth.records() + self.faults.records()


def write_truth(path: str, records: list[dict[str, Any]]) -> None:
    """Ground truth as JSON lines."""
    with open(path, "wb") as f:
        for r in records:
            f.write(orjson.dumps(r) + b"\n")


def run_gateways(
    run: FleetRun,
    host: str,
    port: int,
    *,
    protocol: str,
    gateway_key: str | None,
    speed: float,
    wall_start_s: float,
    stop: threading.Event,
    username: str | None = None,
    password: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    until_s: int | None = None,
    tls: bool = False,
    tls_ca_file: str | None = None,
) -> dict[str, int]:
    """Publish the run through one gateway client per home, paced so sim time runs `speed`× real."""
    gateways = [
        Gateway(
            p.gateway_id,
            host,
            port,
            protocol=protocol,
            gateway_key=gateway_key,
            username=None if gateway_key else username,
            password=None if gateway_key else password,
            seed=p.index,
            tls=tls,
            tls_ca_file=tls_ca_file,
        )
        for p in run.plans
    ]
    for g in gateways:
        g.start()
    for g in gateways:
        g.wait_connected(10.0)
    messages = readings = 0
    try:
        for batch in run.batches(until_s):
            due = wall_start_s + (batch.ts - run.window_start_s) / speed
            delay = due - wall_time_s()
            while delay > 0 and not stop.is_set():
                sleep(min(delay, 0.5))
                delay = due - wall_time_s()
            if stop.is_set():
                break
            for (h, payload), offline in zip(batch.messages, batch.offline, strict=True):
                gateways[h].set_network(not offline)
                if payload is not None:
                    gateways[h].send(payload)
                    messages += 1
                    readings += payload.count(b'"sensor"')
        for g in gateways:
            g.set_network(True)
    finally:
        for g in gateways:
            g.stop(timeout_s=30.0)
    return {"messages": messages, "readings": readings, "acked": sum(g.acked for g in gateways)}


def run_fleet_load(
    run: FleetRun,
    host: str,
    port: int,
    *,
    protocol: str,
    connections: int = 2,
    username: str | None = None,
    password: str | None = None,
    stop: threading.Event | None = None,
) -> dict[str, float]:
    """Publish every reading as fast as the broker takes it over a few shared connections.

    Needs a broker user allowed to publish under homesafe/v1/gw/# (or anonymous access): the
    load connections carry many gateways' topics. Returns readings, messages, seconds, readings/s.
    """
    clients = []
    for i in range(connections):
        c = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"homesafe-fleet-{i}",
            protocol=protocol_of(protocol),
        )
        if username:
            c.username_pw_set(username, password)
        c.max_inflight_messages_set(65535)
        c.max_queued_messages_set(0)
        c.connect(host, port, keepalive=60)
        c.loop_start()
        clients.append(c)
    topics = [telemetry_topic(p.gateway_id) for p in run.plans]
    sizes = [len(p.rooms) for p in run.plans]
    publish_s = 0.0
    messages = readings = 0
    for batch in run.batches():
        if stop is not None and stop.is_set():
            break
        t0 = time.perf_counter()
        for h, payload in batch.messages:
            if payload is None:
                continue
            clients[h % connections].publish(topics[h], payload, qos=1)
            messages += 1
            readings += sizes[h]
        publish_s += time.perf_counter() - t0
    t0 = time.perf_counter()
    for c in clients:  # wait until the broker has acknowledged everything
        while c._out_messages:
            time.sleep(0.01)
    publish_s += time.perf_counter() - t0
    for c in clients:
        c.disconnect()
        c.loop_stop()
    return {
        "readings": readings,
        "messages": messages,
        "seconds": publish_s,
        "readings_per_s": readings / publish_s if publish_s else 0.0,
    }
