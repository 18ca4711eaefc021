"""The small demo fleet the all-in-one runner starts: home 1 clearly damp, the others healthy."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from firmware_sim.clock import wall_time_s
from firmware_sim.gateway import Gateway
from firmware_sim.homes import HomePlan, homes_rows, households_rows, plan_homes
from firmware_sim.runner import FleetRun
from firmware_sim.scenarios import scenario_for

DEMO_SPINUP_S = 4 * 86400
BACKFILL_INTERVAL_S = 900


# Home 1: the condensation household (damp in the heating season) with, all year, a slow leak
# under the kitchen sink that began weeks before the demo (the probe there reads soaked, > 20 %WME).
DEMO_DAMP_HOME = replace(
    scenario_for("condensation"),
    key="condensation_and_slow_leak",
    description="condensation household with a slow leak under the kitchen sink, weeks old",
    truth_keys=("damp_and_mould",),
    season=None,
    leak_onset_fraction=-0.05,
)


def demo_plans(homes: int, seed: int) -> list[HomePlan]:
    """Home 1 damp in every season (condensation and an old slow leak), the rest healthy."""
    return plan_homes([DEMO_DAMP_HOME] + [scenario_for("healthy")] * (homes - 1), seed)


def demo_registry_rows(homes: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """homes.csv and households.csv rows (docs/operations.md, "Registering homes": columns as keys) for the demo homes."""
    plans = demo_plans(homes, seed)
    return homes_rows(plans), households_rows(plans, seed)


def _run_demo(
    gateways: list[Gateway], run: FleetRun, now_s: int, interval_s: float, stop: threading.Event
) -> None:
    try:
        for batch in run.batches(now_s):  # backfill: as fast as the gateways send
            if stop.is_set():
                return
            for h, payload in batch.messages:
                if payload is not None:
                    gateways[h].send(payload)
        physics = run.physics
        latest = None
        while not stop.wait(interval_s):
            now = int(wall_time_s())
            while (
                physics.ts + physics.dt_s <= now
            ):  # physics steps of dt_s; readings every interval_s
                latest = physics.step()
            if latest is None:
                latest = physics.step()
            conditions = replace(latest, ts=now)
            for h, readings in enumerate(run.factory.readings(conditions)):
                if readings:
                    gateways[h].send(run.factory.message(h, readings))
    finally:
        for g in gateways:
            g.stop(timeout_s=5.0)


def start_demo_fleet(
    host: str,
    port: int,
    *,
    homes: int = 4,
    seed: int = 1,
    backfill_hours: int = 48,
    interval_s: float = 60.0,
    stop: threading.Event,
    protocol: str = "3.1.1",
    gateway_key: str | None = None,
) -> threading.Thread:
    """Start a daemon thread: publish backfill_hours of history quickly, then live every interval_s."""
    plans = demo_plans(homes, seed)
    now = int(wall_time_s())
    start = now - backfill_hours * 3600
    run = FleetRun(
        plans,
        seed=seed,
        window_start_s=start,
        window_end_s=now + 365 * 86400,
        interval_s=BACKFILL_INTERVAL_S,
        spinup_s=DEMO_SPINUP_S,
    )
    gateways = [
        Gateway(p.gateway_id, host, port, protocol=protocol, gateway_key=gateway_key, seed=p.index)
        for p in plans
    ]
    for g in gateways:
        g.start()
    thread = threading.Thread(
        target=_run_demo,
        args=(gateways, run, now, interval_s, stop),
        name="homesafe-demo-fleet",
        daemon=True,
    )
    thread.start()
    return thread
