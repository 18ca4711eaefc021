"""`homesafe simulate`: simulated gateways publishing to a broker (the lead wires it into the CLI)."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from urllib.parse import unquote, urlparse

from firmware_sim.clock import wall_time_s
from firmware_sim.homes import plan_homes, write_registry
from firmware_sim.runner import FleetRun, run_fleet_load, run_gateways, write_truth
from firmware_sim.scenarios import SCENARIO_BY_KEY, scenarios_for

MAX_ACCELERATED_DAYS = 34  # the contract rejects readings older than 35 days at receipt


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `homesafe simulate`."""
    parser.add_argument("--homes", type=int, default=10)
    parser.add_argument(
        "--scenario", default="mix", help=f"mix or one of: {', '.join(SCENARIO_BY_KEY)}"
    )
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument(
        "--speed", type=float, default=86400.0, help="simulated seconds per real second"
    )
    parser.add_argument("--truth", default=None, help="write ground truth (JSON lines) here")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--write-registry",
        default=None,
        metavar="DIR",
        help="write homes.csv and households.csv here",
    )
    parser.add_argument("--mode", choices=("live", "accelerated", "fleet"), default="accelerated")
    parser.add_argument(
        "--gateway-key", default=None, help="provisioning key (else HOMESAFE_GATEWAY_KEY)"
    )
    parser.add_argument("--mqtt-protocol", choices=("3.1.1", "5"), default="5")
    parser.add_argument(
        "--ca-file", default=None, help="mqtts://: the CA that signed the broker's certificate"
    )
    parser.add_argument("--interval", type=int, default=900, help="seconds between readings")
    parser.add_argument("--connections", type=int, default=2, help="fleet mode: MQTT connections")


def _fail(message: str) -> int:
    sys.stderr.write(f"homesafe simulate: {message}\n")
    return 2


def run(args: argparse.Namespace, *, mqtt_url: str) -> int:
    """Run the simulation the arguments describe; 0 on success, 2 on bad arguments."""
    url = urlparse(mqtt_url)
    if url.scheme not in ("mqtt", "tcp", "mqtts") or not url.hostname:
        return _fail(f"--mqtt url {mqtt_url!r} is not mqtt[s]://[user:pass@]host[:port]")
    tls = url.scheme == "mqtts"
    if tls and args.mode == "fleet":
        return _fail("--mode fleet speaks plain MQTT only; use live or accelerated over mqtts://")
    if args.homes < 1:
        return _fail("--homes must be at least 1")
    if args.scenario != "mix" and args.scenario not in SCENARIO_BY_KEY:
        return _fail(
            f"--scenario {args.scenario!r} unknown; use mix or one of {', '.join(SCENARIO_BY_KEY)}"
        )
    if args.days <= 0 or args.speed <= 0 or args.interval < 1:
        return _fail("--days, --speed and --interval must be positive")
    if args.mode != "live" and args.days > MAX_ACCELERATED_DAYS:
        return _fail(
            f"--days {args.days} reaches past the contract's 35-day window; at most {MAX_ACCELERATED_DAYS}"
        )
    key = args.gateway_key or os.environ.get("HOMESAFE_GATEWAY_KEY") or None
    plans = plan_homes(scenarios_for(args.scenario, args.homes, args.seed), args.seed)
    if args.write_registry:
        write_registry(args.write_registry, plans, args.seed)
    span_s = int(args.days * 86400)
    speed = 1.0 if args.mode == "live" else args.speed
    wall_start = wall_time_s()
    if args.mode == "fleet":
        end = int(wall_start)
    else:  # timestamps end when the run does, so none is ever in the future
        end = int(wall_start + span_s / speed)
    fleet = FleetRun(
        plans,
        seed=args.seed,
        window_start_s=end - span_s,
        window_end_s=end,
        interval_s=args.interval,
    )
    user = unquote(url.username) if url.username else None
    password = unquote(url.password) if url.password else None
    port = url.port or (8883 if tls else 1883)
    if args.mode == "fleet":
        result = run_fleet_load(
            fleet,
            url.hostname,
            port,
            protocol=args.mqtt_protocol,
            connections=args.connections,
            username=user,
            password=password,
        )
        sys.stdout.write(
            f"fleet: {result['readings']} readings in {result['messages']} messages, "
            f"{result['seconds']:.1f} s publishing, {result['readings_per_s']:.0f} readings/s\n"
        )
    else:
        sent = run_gateways(
            fleet,
            url.hostname,
            port,
            protocol=args.mqtt_protocol,
            gateway_key=key,
            speed=speed,
            wall_start_s=wall_start,
            stop=threading.Event(),
            username=user,
            password=password,
            # mqtts://: the broker's certificate is checked against --ca-file, else the system's CAs
            tls=tls,
            tls_ca_file=args.ca_file,
        )
        sys.stdout.write(
            f"{args.mode}: {sent['messages']} messages, {sent['readings']} readings, {sent['acked']} acknowledged\n"
        )
    if args.truth:
        write_truth(args.truth, fleet.truth_records())
    return 0
