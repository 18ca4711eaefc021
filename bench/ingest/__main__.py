"""Ingest benchmark (not in CI): `.venv/bin/python -m bench.ingest [--shape backlog|stream|faults|all]`.

Starts Mosquitto and InfluxDB (tests/servers.py). The default shape, `backlog`, is the
reconnect burst (bench/ingest/backlog.py): 150,000 QoS 1 messages of 4 readings queued in
Mosquitto for a persistent session before its subscriber starts, drained by each peer in
turn from the same queue, and prints from one run:
1. InfluxDB's own ceiling: the same points as batched gzip line protocol, points/s;
2. a tuned Node-RED flow draining it (bench/ingest/node_red.py; Node-RED installed from the
   npm registry into a temporary folder for the run), readings/s and peak RSS;
3. `homesafe ingest`, one process, draining it: readings/s, peak RSS, ratio to Node-RED;
4. the same with `--workers 2` (two processes on one $share/ subscription);
5. steady publish-to-queryable p50/p99 latency at half the one-process rate;
and, with `--profile DIR` (needs `pip install py-spy`), the one-process drain's top functions
by self time (GIL held). Rates run from the first reading stored to the last (start-up
excluded); the rate from the subscriber's start is shown beside it.

`--shape stream` is the older shape (publish while ingest runs):
0. each load generator's own rate against Mosquitto with nothing subscribed;
1. InfluxDB's own ceiling: the same points as batched gzip line protocol, points/s;
2. Homesafe ingest end to end (publish → `homesafe ingest` → InfluxDB, counted back out),
   readings/s with 4 and with 100 readings per message;
3. the ratio of 2 to 1, ingest peak RSS, p50/p99 publish-to-queryable latency at half load;
4. the same with `homesafe ingest --workers 2` (two processes on one $share/ subscription);
and fault runs (kill -9 of ingest, Mosquitto restart, InfluxDB down 30 s): readings
published, stored, duplicates.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from bench.ingest import node_red
from bench.ingest.backlog import Drain, prime_session, queue_backlog, time_drain
from bench.ingest.harness import (
    IngestProcess,
    gateway_ids,
    influx_count,
    make_registry,
    prepare_fast,
    publish,
    start_ingest,
    wait_for_metrics,
    wait_until_stable,
)
from registry.clock import utc_now
from tests.servers import Influx, Mosquitto, free_port, start_influxd, start_mosquitto

GATEWAYS = 250
FAST_GATEWAYS = 100  # one mosquitto_pub process each


def _say(text: str) -> None:
    print(text, flush=True)


def influx_ceiling(influx: Influx, seconds: float, per_batch: int = 5000) -> float:
    """Points/s InfluxDB takes as gzip line protocol batches from two writer threads."""
    database = influx.create_database("ceiling_").rsplit("/", 1)[-1]
    base_ts = int(utc_now().timestamp()) - 7200
    stop = time.monotonic() + seconds
    written = [0, 0]

    def writer(index: int) -> None:
        client = httpx.Client(timeout=60)
        k = 0
        while time.monotonic() < stop:
            lines = []
            for i in range(per_batch // 4):
                ts = base_ts + k
                gw = f"gw-b{(i * 2 + index):05d}"
                for s in range(4):
                    lines.append(
                        f"reading,gateway_id={gw},home_id=HB{i:05d},sensor=s{s} "
                        f"temperature_c=18.5,humidity_pct=61.25,battery_pct=88.0 {ts}"
                    )
            k += 1
            body = gzip.compress("\n".join(lines).encode(), compresslevel=1)
            response = client.post(
                f"{influx.http_url}/write",
                params={"db": database, "precision": "s"},
                content=body,
                headers={"Content-Encoding": "gzip"},
            )
            response.raise_for_status()
            written[index] += len(lines)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(written) / (time.monotonic() - started)


class Bench:
    def __init__(self, workdir: Path, broker: Mosquitto, influx: Influx) -> None:
        self.workdir, self.broker, self.influx = workdir, broker, influx
        self.database_url = f"sqlite:///{workdir / 'cases.db'}"
        make_registry(self.database_url, GATEWAYS, 100)
        self.run_index = 0

    def _fresh(self) -> str:
        self.run_index += 1
        return self.influx.create_database(f"bench{self.run_index}_").rsplit("/", 1)[-1]

    def _ingest(self, database: str, client_id: str, workers: int = 1):  # type: ignore[no-untyped-def]
        port = free_port()
        while any(_busy(port + i) for i in range(workers)):
            port = free_port()
        process = start_ingest(
            self.workdir,
            mqtt_url=self.broker.url,
            telemetry_url=f"influxdb://127.0.0.1:{self.influx.port}/{database}",
            database_url=self.database_url,
            client_id=f"{client_id}-{self.run_index}",
            metrics_port=port,
            workers=workers,
        )
        wait_for_metrics(process)
        time.sleep(1.0)
        return process

    def throughput(self, per_message: int, readings: int, workers: int = 1) -> tuple[float, float]:
        """Sustained readings/s end to end (counted back out of InfluxDB) and peak RSS (MB)
        of all ingest processes summed; load from mosquitto_pub processes."""
        database = self._fresh()
        process = self._ingest(database, "tp", workers)
        messages_per_gateway = max(1, readings // per_message // FAST_GATEWAYS)
        base_ts = int(utc_now().timestamp()) - 20 * 86400 - self.run_index * 100_000
        fast = prepare_fast(
            self.workdir,
            self.broker.host,
            self.broker.port,
            gateway_ids(FAST_GATEWAYS),
            per_message=per_message,
            messages_per_gateway=messages_per_gateway,
            base_ts=base_ts,
        )
        expected = fast.readings
        started = time.monotonic()
        fast.start()
        stored = 0
        while time.monotonic() - started < 600:
            stored = influx_count(self.influx.http_url, database)
            if stored >= expected:
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        fast.wait(60)
        rss = process.peak_rss_mb()
        process.stop()
        process.forget_sessions(self.broker.host, self.broker.port)
        if stored < expected:
            _say(f"    (only {stored} of {expected} stored)")
        return stored / elapsed, rss

    def latency(
        self, rate_readings_s: float, seconds: float, workers: int = 1
    ) -> tuple[float, float]:
        """p50 and p99 publish-to-queryable seconds, probing under a steady background load."""
        database = self._fresh()
        process = self._ingest(database, "lat", workers)
        base_ts = int(utc_now().timestamp()) - 25 * 86400
        per_gateway = int(rate_readings_s * seconds / 4 / GATEWAYS)
        publishers = publish(
            self.broker.host,
            self.broker.port,
            gateway_ids(GATEWAYS)[1:],
            per_message=4,
            messages_per_gateway=per_gateway,
            base_ts=base_ts,
            processes=2,
            rate_readings_s=rate_readings_s,
        )
        probe = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id="bench-probe",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        probe.connect(self.broker.host, self.broker.port)
        probe.loop_start()
        gateway = gateway_ids(1)[0]
        samples = []
        now_ts = int(utc_now().timestamp())
        deadline = time.monotonic() + seconds
        seq = 0
        while time.monotonic() < deadline:
            seq += 1
            ts = now_ts - 86400 + seq
            body = orjson.dumps(
                {"v": 1, "seq": seq, "readings": [{"sensor": "s0", "ts": ts, "humidity_pct": 50}]}
            )
            sent = time.monotonic()
            probe.publish(f"homesafe/v1/gw/{gateway}/telemetry", body, qos=1)
            where = f"gateway_id = '{gateway}' AND time = {ts}s"
            while time.monotonic() - sent < 10:
                if influx_count(self.influx.http_url, database, where=where):
                    samples.append(time.monotonic() - sent)
                    break
                time.sleep(0.02)
            time.sleep(0.2)
        probe.loop_stop()
        for proc in publishers:
            proc.join(120)
        process.stop()
        process.forget_sessions(self.broker.host, self.broker.port)
        if not samples:
            return float("nan"), float("nan")
        samples.sort()
        p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
        return statistics.median(samples), p99


def fault_runs(bench: Bench, seconds_down: float) -> None:
    """kill -9 ingest, restart Mosquitto, stop InfluxDB: published, stored, duplicates."""
    per_message, rate = 4, 20_000.0
    for name in ("kill -9 ingest", "restart Mosquitto", f"InfluxDB down {seconds_down:.0f} s"):
        database = bench._fresh()
        process = bench._ingest(database, "fault")
        per_gateway = int(rate * (seconds_down + 10) / per_message / GATEWAYS)
        expected = per_gateway * GATEWAYS * per_message
        base_ts = int(utc_now().timestamp()) - 30 * 86400 + bench.run_index * 1000
        publishers = publish(
            bench.broker.host,
            bench.broker.port,
            gateway_ids(GATEWAYS),
            per_message=per_message,
            messages_per_gateway=per_gateway,
            base_ts=base_ts,
            processes=2,
            rate_readings_s=rate,
        )
        time.sleep(3)
        if name.startswith("kill"):
            process.kill()
            time.sleep(2)
            process = bench._ingest(database, "fault")
        elif name.startswith("restart"):
            bench.broker.restart()
        else:
            bench.influx.stop()
            time.sleep(seconds_down)
            bench.influx.start()
        for proc in publishers:
            proc.join(600)
        stored = wait_until_stable(bench.influx.http_url, database, expected, 300, quiet_s=15)
        written = process.metric("homesafe_ingest_readings_written_total")
        spooled = process.metric("homesafe_ingest_readings_spooled_total")
        process.stop()
        process.forget_sessions(bench.broker.host, bench.broker.port)
        _say(
            f"  {name:<22} published {expected:>9,}  stored {stored:>9,}  "
            f"duplicates {max(0, stored - expected)}  lost {max(0, expected - stored)}  "
            f"(spooled {spooled:,.0f}, written by the last worker {written:,.0f})"
        )


def publishers_alone(workdir: Path, readings: int) -> tuple[float, float]:
    """Readings/s of each load generator against a Mosquitto with nothing subscribed."""
    broker = start_mosquitto(workdir / "mosquitto-alone", persistence=True)
    try:
        gateways = gateway_ids(GATEWAYS)
        base_ts = int(utc_now().timestamp()) - 86400
        queue_started = time.monotonic()
        publishers = publish(
            broker.host,
            broker.port,
            gateways,
            per_message=4,
            messages_per_gateway=max(1, readings // 4 // GATEWAYS),
            base_ts=base_ts,
            processes=2,
        )
        for proc in publishers:
            proc.join(600)
        paho_rate = (max(1, readings // 4 // GATEWAYS) * GATEWAYS * 4) / (
            time.monotonic() - queue_started
        )
        fast = prepare_fast(
            workdir,
            broker.host,
            broker.port,
            gateway_ids(FAST_GATEWAYS),
            per_message=4,
            messages_per_gateway=max(1, readings // 4 // FAST_GATEWAYS),
            base_ts=base_ts,
        )
        started = time.monotonic()
        fast.start()
        fast.wait()
        return paho_rate, fast.readings / (time.monotonic() - started)
    finally:
        broker.stop()


def _busy(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest")
    parser.add_argument(
        "--shape", choices=("backlog", "stream", "faults", "all"), default="backlog"
    )
    parser.add_argument("--backlog-messages", type=int, default=150_000)
    parser.add_argument("--readings", type=int, default=1_000_000, help="readings per stream run")
    parser.add_argument("--seconds-down", type=float, default=30.0)
    parser.add_argument("--profile", type=Path, default=None, help="py-spy profile folder")
    parser.add_argument("--skip-node-red", action="store_true")
    parser.add_argument(
        "--ingest-code",
        type=Path,
        default=None,
        help="run `homesafe ingest` from this source tree (e.g. an older commit exported with "
        "git archive) to compare profiles before and after",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="homesafe-bench-") as tmp:
        workdir = Path(tmp)
        broker = start_mosquitto(workdir / "mosquitto", persistence=True)
        influx = start_influxd(workdir / "influxd")
        try:
            bench = Bench(workdir, broker, influx)
            if args.ingest_code is not None:
                INGEST_ENV["PYTHONPATH"] = str(args.ingest_code.resolve())
            if args.shape in ("backlog", "all"):
                backlog_runs(
                    bench,
                    workdir,
                    args.backlog_messages,
                    profile=args.profile,
                    node_red_peer=not args.skip_node_red,
                )
            if args.shape in ("stream", "all"):
                throughput_runs(bench, workdir, args.readings)
            if args.shape in ("faults", "all"):
                _say("fault runs (4 readings/message at 20,000 readings/s, paho publishers):")
                fault_runs(bench, args.seconds_down)
        finally:
            broker.stop()
            influx.stop()


BACKLOG_GATEWAYS = 100
INGEST_ENV: dict[str, str] = {}  # --ingest-code
BACKLOG_CLIENT = "homesafe-backlog"


def _cpu_s(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Backlog:
    """One backlog: a fresh broker, a fresh database, the queue filled for a primed session."""

    def __init__(self, bench: Bench, workdir: Path, messages: int, name: str) -> None:
        self.bench = bench
        self.broker = start_mosquitto(workdir / f"mosquitto-{name}")
        self.database = bench._fresh()
        self.messages = messages
        self.base_ts = int(utc_now().timestamp()) - 20 * 86400
        self.per_gateway = max(1, messages // BACKLOG_GATEWAYS)
        self.expected = self.per_gateway * BACKLOG_GATEWAYS * 4
        self.workdir = workdir

    def fill(self, client_ids: list[str], topic: str) -> None:
        for client_id in client_ids:
            prime_session(self.broker.host, self.broker.port, client_id, topic)
        queue_backlog(
            self.workdir,
            self.broker.host,
            self.broker.port,
            messages=self.per_gateway * BACKLOG_GATEWAYS,
            per_message=4,
            base_ts=self.base_ts,
            gateways=BACKLOG_GATEWAYS,
        )

    def drain(
        self,
        started: float,
        pids: Callable[[], list[int]],
        on_first: Callable[[], None] | None = None,
    ) -> tuple[Drain, float]:
        """Time the drain; CPU seconds the processes used from the first reading stored."""
        cpu_before: list[float] = []
        measured: list[int] = []

        def first() -> None:
            measured.extend(pids())
            cpu_before.append(sum(_cpu_s(pid) for pid in measured))
            if on_first is not None:
                on_first()

        drained = time_drain(
            self.bench.influx.http_url,
            self.database,
            expected=self.expected,
            started=started,
            last_ts=self.base_ts + self.per_gateway - 1,
            last_expected=BACKLOG_GATEWAYS * 4,
            on_first=first,
        )
        return drained, sum(_cpu_s(pid) for pid in measured) - (cpu_before or [0.0])[0]

    def close(self) -> None:
        self.broker.stop()


def _homesafe_drain(
    bench: Bench, workdir: Path, messages: int, workers: int, profile: Path | None
) -> tuple[Drain, float, float]:
    backlog = Backlog(bench, workdir, messages, f"homesafe-{workers}")
    try:
        if workers == 1:
            ids, topic = [BACKLOG_CLIENT], "homesafe/v1/gw/+/telemetry"
        else:
            ids = [f"{BACKLOG_CLIENT}-{i}" for i in range(workers)]
            topic = "$share/ingest/homesafe/v1/gw/+/telemetry"
        backlog.fill(ids, topic)
        started = time.monotonic()
        process = start_ingest(
            workdir,
            mqtt_url=backlog.broker.url,
            telemetry_url=f"influxdb://127.0.0.1:{bench.influx.port}/{backlog.database}",
            database_url=bench.database_url,
            client_id=BACKLOG_CLIENT,
            metrics_port=0,
            workers=workers,
            extra_env=INGEST_ENV,
        )
        spies: list[subprocess.Popen[bytes]] = []

        def profile_from_now() -> None:
            if profile is not None and workers == 1:
                spies.extend(spy for spy in [_start_profile(process, profile)] if spy)

        drained, cpu_s = backlog.drain(
            started, lambda: [process.proc.pid, *_children(process)], profile_from_now
        )
        for spy in spies:
            _stop_profile(spy, profile)  # type: ignore[arg-type]
        rss = process.peak_rss_mb()
        process.stop()
        return drained, rss, cpu_s
    finally:
        backlog.close()


def _children(process: IngestProcess) -> list[int]:
    try:
        text = Path(f"/proc/{process.proc.pid}/task/{process.proc.pid}/children").read_text()
    except OSError:
        return []
    return [int(pid) for pid in text.split()]


def _start_profile(process: IngestProcess, folder: Path) -> subprocess.Popen[bytes] | None:
    binary = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(binary).exists():
        _say("   (no py-spy: pip install py-spy to profile)")
        return None
    folder.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            *(binary, "record", "--pid", str(process.proc.pid), "--format", "raw", "--gil"),
            *("--rate", "200", "--nonblocking", "--threads", "-o", str(folder / "ingest.raw")),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop_profile(spy: subprocess.Popen[bytes], folder: Path) -> None:
    spy.send_signal(signal.SIGINT)
    spy.wait(60)
    path = folder / "ingest.raw"
    if not path.exists():
        return
    totals: dict[str, int] = {}
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, counted = line.rpartition(" ")
        frame = stack.split(";")[-1]
        leaf = frame.rsplit(":", 1)[0] + ")" if ":" in frame else frame
        totals[leaf] = totals.get(leaf, 0) + int(counted)
        samples += int(counted)
    _say(f"   profile ({samples} samples with the GIL held; {path}), top functions by self time:")
    for leaf, count in sorted(totals.items(), key=lambda item: -item[1])[:15]:
        _say(f"     {100 * count / samples:5.1f} %  {leaf}")


def _node_red_drain(bench: Bench, workdir: Path, messages: int) -> tuple[Drain, float, float]:
    _say(f"   (installing Node-RED {node_red.NODE_RED_VERSION} from the npm registry)")
    red_js = node_red.install(workdir / "node-red-install")
    backlog = Backlog(bench, workdir, messages, "node-red")
    try:
        backlog.fill(["node-red-peer"], "homesafe/v1/gw/+/telemetry")
        homes = {gateway: f"HB{i:05d}" for i, gateway in enumerate(gateway_ids(GATEWAYS))}
        flows = node_red.flow(
            mqtt_host=backlog.broker.host,
            mqtt_port=backlog.broker.port,
            client_id="node-red-peer",
            influx_host="127.0.0.1",
            influx_port=bench.influx.port,
            database=backlog.database,
            homes=homes,
        )
        started = time.monotonic()
        process = node_red.start(red_js, workdir / "node-red", flows, free_port())
        drained, cpu_s = backlog.drain(started, lambda: [process.proc.pid])
        rss = process.peak_rss_mb()
        process.stop()
        return drained, rss, cpu_s
    finally:
        backlog.close()


def _rate(drained: Drain) -> str:
    lost = (
        f", ONLY {drained.stored:,} of {drained.readings:,} stored"
        if drained.stored < drained.readings
        else ""
    )
    return (
        f"{drained.rate:,.0f} readings/s ({drained.rate_with_start:,.0f}/s from its start, "
        f"{drained.from_start_s:.1f} s{lost})"
    )


def backlog_runs(
    bench: Bench, workdir: Path, messages: int, *, profile: Path | None, node_red_peer: bool
) -> None:
    """The backlog-drain report (sections 1 to 5 of the module docstring)."""
    _say(
        f"backlog drain: {messages:,} QoS 1 messages x 4 readings queued in Mosquitto for a "
        f"persistent session before the subscriber starts (machine: {os.cpu_count()} cores)"
    )
    ceiling = influx_ceiling(bench.influx, 10)
    _say(
        f"1. InfluxDB ceiling (gzip line protocol, 5,000/batch, 2 writers): {ceiling:,.0f} points/s"
    )
    peer = None
    if node_red_peer:
        peer, peer_rss, peer_cpu = _node_red_drain(bench, workdir, messages)
        _say(
            f"2. Node-RED {node_red.NODE_RED_VERSION} flow: {_rate(peer)}; peak RSS "
            f"{peer_rss:.0f} MB; {1e6 * peer_cpu / (peer.readings / 4):.0f} µs CPU/message"
        )
    one = None
    for workers in (1, 2):
        drained, rss, cpu_s = _homesafe_drain(bench, workdir, messages, workers, profile)
        one = one or drained
        label = "one process" if workers == 1 else "--workers 2"
        versus = f" = {drained.rate / peer.rate:.2f} x Node-RED" if peer else ""
        _say(
            f"{'3' if workers == 1 else '4'}. homesafe ingest, {label}: {_rate(drained)}{versus}, "
            f"{drained.rate / ceiling:.2f} x the InfluxDB ceiling; peak RSS {rss:.0f} MB"
            f"{' (processes summed)' if workers > 1 else ''}; "
            f"{1e6 * cpu_s / (drained.readings / 4):.0f} µs CPU/message"
        )
    assert one is not None
    half = one.rate / 2
    p50, p99 = bench.latency(half, 20, 1)
    _say(
        f"5. steady publish-to-queryable at half the one-process rate ({half:,.0f} readings/s): "
        f"p50 {p50:.2f} s, p99 {p99:.2f} s"
    )


def throughput_runs(bench: Bench, workdir: Path, readings: int) -> None:
    """Sections 0 to 4 of the report."""
    paho_rate, fast_rate = publishers_alone(workdir, min(readings, 400_000))
    _say(
        f"0. load generators alone (4/msg, QoS 1, no subscriber): paho x2 processes "
        f"{paho_rate:,.0f} readings/s; mosquitto_pub x{FAST_GATEWAYS} {fast_rate:,.0f} readings/s"
    )
    ceiling = influx_ceiling(bench.influx, 10)
    _say(f"1. InfluxDB ceiling (gzip line protocol, 5,000/batch): {ceiling:,.0f} points/s")
    for workers in (1, 2):
        head = "2." if workers == 1 else "4."
        label = "one process" if workers == 1 else "--workers 2 ($share)"
        rate4, rss4 = bench.throughput(4, readings, workers)
        _say(
            f"{head} ingest {label}, 4 readings/message:   {rate4:,.0f} readings/s "
            f"(peak RSS {rss4:.0f} MB, all processes summed)"
        )
        rate100, rss100 = bench.throughput(100, readings, workers)
        _say(
            f"   ingest {label}, 100 readings/message: {rate100:,.0f} readings/s "
            f"(peak RSS {rss100:.0f} MB)"
        )
        _say(
            f"{'3.' if workers == 1 else '  '} ratio to InfluxDB ceiling: {rate4 / ceiling:.2f} (4/msg), "
            f"{rate100 / ceiling:.2f} (100/msg)"
        )
        p50, p99 = bench.latency(rate4 / 2, 20, workers)
        _say(
            f"   publish-to-queryable at half load ({rate4 / 2:,.0f}/s): "
            f"p50 {p50:.2f} s, p99 {p99:.2f} s"
        )


if __name__ == "__main__":
    main()
