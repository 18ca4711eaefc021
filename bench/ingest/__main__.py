"""Ingest benchmark (not in CI): `.venv/bin/python -m bench.ingest [--seconds 20]`.

Starts Mosquitto and InfluxDB (tests/servers.py), then prints:
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
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from bench.ingest.harness import (
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
    parser.add_argument("--readings", type=int, default=1_000_000, help="readings per run")
    parser.add_argument("--seconds-down", type=float, default=30.0)
    parser.add_argument("--skip-faults", action="store_true")
    parser.add_argument("--only-faults", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="homesafe-bench-") as tmp:
        workdir = Path(tmp)
        broker = start_mosquitto(workdir / "mosquitto", persistence=True)
        influx = start_influxd(workdir / "influxd")
        try:
            bench = Bench(workdir, broker, influx)
            if not args.only_faults:
                throughput_runs(bench, workdir, args.readings)
            if not args.skip_faults:
                _say("fault runs (4 readings/message at 20,000 readings/s, paho publishers):")
                fault_runs(bench, args.seconds_down)
        finally:
            broker.stop()
            influx.stop()


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
