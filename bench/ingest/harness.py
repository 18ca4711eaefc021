"""Pieces for the ingest benchmark and fault runs: a registry, `homesafe ingest` processes,
publisher processes with pre-serialised payloads, and counting readings back out of InfluxDB."""

from __future__ import annotations

import csv
import io
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

ROOT = Path(__file__).resolve().parents[2]
HOMESAFE = str(Path(sys.executable).with_name("homesafe"))
ROOMS = ("living", "bedroom", "kitchen", "bathroom", "hall", "other")


def gateway_ids(count: int) -> list[str]:
    """Gateway ids gw-b00000 … for the benchmark fleet."""
    return [f"gw-b{i:05d}" for i in range(count)]


def make_registry(database_url: str, gateways: int, sensors_per_gateway: int) -> None:
    """A migrated case database with `gateways` registered, each with its sensors."""
    from homesafe.database import make_engine, make_sessionmaker
    from homesafe.migrate import upgrade
    from registry.schemas import HOMES_COLUMNS
    from registry.service import import_registry

    rows = []
    for index, gateway_id in enumerate(gateway_ids(gateways)):
        for s in range(sensors_per_gateway):
            rows.append(
                {
                    "home_id": f"HB{index:05d}",
                    "uprn": str(100000000000 + index),
                    "postcode": "M11 9DH",
                    "archetype": "flat",
                    "floor_level": "1",
                    "build_year": "1960",
                    "imd_decile": "5",
                    "gateway_id": gateway_id,
                    "sensor_id": f"s{s}",
                    "room": ROOMS[s % len(ROOMS)],
                }
            )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(HOMES_COLUMNS))
    writer.writeheader()
    writer.writerows(rows)
    engine = make_engine(database_url)
    upgrade(engine)
    with make_sessionmaker(engine).begin() as session:
        import_registry(session, homes_text=out.getvalue())
    engine.dispose()


@dataclass
class IngestProcess:
    """One `homesafe ingest` child process."""

    proc: subprocess.Popen[bytes]
    metrics_port: int
    log_path: Path

    def peak_rss_mb(self) -> float:
        """VmHWM of the process, in MB."""
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")

    def metric(self, name: str) -> float:
        """One sample from its /metrics (0 when absent or unreachable)."""
        try:
            text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=2).text
        except httpx.HTTPError:
            return 0.0
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return 0.0

    def stop(self) -> None:
        """SIGTERM (flushes and acks), then wait."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        """kill -9."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def start_ingest(
    workdir: Path,
    *,
    mqtt_url: str,
    telemetry_url: str,
    database_url: str,
    client_id: str,
    shared: bool = False,
    metrics_port: int,
    extra_env: dict[str, str] | None = None,
) -> IngestProcess:
    """Start `homesafe ingest` with its own spool under workdir."""
    env = {
        **os.environ,
        "HOMESAFE_MQTT_URL": mqtt_url,
        "HOMESAFE_TELEMETRY_URL": telemetry_url,
        "HOMESAFE_DATABASE_URL": database_url,
        "HOMESAFE_METRICS_PORT": str(metrics_port),
        "HOMESAFE_SPOOL_DIR": str(workdir / f"spool-{client_id}"),
        "PYTHONPATH": str(ROOT),
        **(extra_env or {}),
    }
    log_path = workdir / f"ingest-{client_id}.log"
    command = [HOMESAFE, "--log-level", "warning", "ingest", "--client-id", client_id]
    if shared:
        command.append("--shared")
    proc = subprocess.Popen(
        command,
        cwd=workdir,
        env=env,
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
    )
    return IngestProcess(proc, metrics_port, log_path)


def wait_for_metrics(process: IngestProcess, timeout_s: float = 30.0) -> None:
    """Block until the process serves /metrics (it is connected soon after)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.proc.poll() is not None:
            raise RuntimeError(f"ingest exited: {process.log_path.read_text()[-2000:]}")
        try:
            httpx.get(f"http://127.0.0.1:{process.metrics_port}/metrics", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("ingest never served /metrics")


def payloads(
    gateways: list[str], per_message: int, messages_per_gateway: int, base_ts: int, first_seq: int
) -> list[tuple[str, bytes]]:
    """Pre-serialised telemetry, round robin over gateways; every (gateway, sensor, ts) unique."""
    out = []
    for k in range(messages_per_gateway):
        ts = base_ts + k
        for gateway_id in gateways:
            readings = [
                {
                    "sensor": f"s{s}",
                    "ts": ts,
                    "temperature_c": 18.5,
                    "humidity_pct": 61.25,
                    "battery_pct": 88,
                }
                for s in range(per_message)
            ]
            body = orjson.dumps({"v": 1, "seq": first_seq + k, "readings": readings})
            out.append((f"homesafe/v1/gw/{gateway_id}/telemetry", body))
    return out


def _publish_worker(
    host: str,
    port: int,
    gateways: list[str],
    per_message: int,
    messages_per_gateway: int,
    base_ts: int,
    rate_msgs_s: float,
    done: mp.Queue,  # type: ignore[type-arg]
) -> None:
    messages = payloads(gateways, per_message, messages_per_gateway, base_ts, 1)
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"bench-pub-{uuid.uuid4().hex[:8]}",
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    client.max_inflight_messages_set(2000)
    client.max_queued_messages_set(0)
    client.connect(host, port, keepalive=60)
    client.loop_start()
    started = time.monotonic()
    for index, (topic, body) in enumerate(messages):
        if rate_msgs_s > 0:
            due = started + index / rate_msgs_s
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        client.publish(topic, body, qos=1)  # kept and resent by paho across reconnects
        if index % 2000 == 0:
            while len(client._out_messages) > 20000:  # bound paho's own queue
                time.sleep(0.005)
    deadline = time.monotonic() + 120
    while client._out_messages and time.monotonic() < deadline:
        time.sleep(0.05)
    client.loop_stop()
    client.disconnect()
    done.put((len(messages) * per_message, time.monotonic() - started))


def publish(
    host: str,
    port: int,
    gateways: list[str],
    *,
    per_message: int,
    messages_per_gateway: int,
    base_ts: int,
    processes: int = 2,
    rate_readings_s: float = 0.0,
) -> list[mp.Process]:
    """Start publisher processes (each its own slice of gateways); join them to wait."""
    context = mp.get_context("fork")
    done: mp.Queue = context.Queue()  # type: ignore[type-arg]
    started = []
    for p in range(processes):
        mine = gateways[p::processes]
        rate = rate_readings_s / per_message / processes if rate_readings_s else 0.0
        proc = context.Process(
            target=_publish_worker,
            args=(host, port, mine, per_message, messages_per_gateway, base_ts, rate, done),
            daemon=True,
        )
        proc.start()
        started.append(proc)
    return started


def influx_count(http_url: str, database: str, *, where: str = "") -> int:
    """Stored readings (points with humidity) in the benchmark database."""
    q = f'SELECT count("humidity_pct") FROM "reading"{" WHERE " + where if where else ""}'
    response = httpx.post(f"{http_url}/query", params={"db": database}, data={"q": q}, timeout=60)
    document = response.json()
    try:
        return int(document["results"][0]["series"][0]["values"][0][1])
    except (KeyError, IndexError):
        return 0


def wait_until_stable(
    http_url: str, database: str, expected: int, timeout_s: float, quiet_s: float = 3.0
) -> int:
    """Poll the stored count until it reaches `expected` or stops moving for quiet_s."""
    deadline = time.monotonic() + timeout_s
    last, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = influx_count(http_url, database)
        if count >= expected:
            return count
        if count != last:
            last, last_change = count, time.monotonic()
        elif time.monotonic() - last_change > quiet_s:
            return count
        time.sleep(0.25)
    return influx_count(http_url, database)
