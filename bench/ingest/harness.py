"""Pieces for the ingest benchmark and fault runs: a registry, `homesafe ingest` processes,
publisher processes with pre-serialised payloads, and counting readings back out of InfluxDB.

Two load generators, each in its own processes: `publish` (paho, driven without a network
thread, paced or flat out, resends across broker restarts) and `publish_fast` (one C
`mosquitto_pub -l` per gateway reading pre-written payload files: the cheapest generator, for
the throughput runs, so the generator's CPU is not what is measured)."""

from __future__ import annotations

import csv
import io
import multiprocessing as mp
import os
import shutil
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


def _peak_rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@dataclass
class IngestProcess:
    """One `homesafe ingest` child process (with its forked workers under --workers N)."""

    proc: subprocess.Popen[bytes]
    metrics_port: int
    log_path: Path
    workers: int = 1
    client_id: str = ""

    def peak_rss_mb(self) -> float:
        """VmHWM of the process plus each of its worker processes, summed, in MB."""
        pids = [self.proc.pid, *_children(self.proc.pid)]
        return sum(_peak_rss_kb(pid) for pid in pids) / 1024

    def metric(self, name: str) -> float:
        """One sample from /metrics, summed over the workers (0 when absent or unreachable)."""
        total = 0.0
        for port in range(self.metrics_port, self.metrics_port + self.workers):
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            except httpx.HTTPError:
                continue
            for line in text.splitlines():
                if line.startswith(name + " "):
                    total += float(line.split()[1])
        return total

    def stop(self) -> None:
        """SIGTERM (flushes and acks), then wait."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def forget_sessions(self, host: str, port: int) -> None:
        """End its persistent MQTT sessions on the broker (stop it first).

        A stopped worker's session stays subscribed, so the broker keeps queueing for it (and
        in a $share group keeps handing it a share): later runs must not pay for that."""
        ids = (
            [self.client_id]
            if self.workers == 1
            else [f"{self.client_id}-{i}" for i in range(self.workers)]
        )
        for client_id in ids:
            forget_session(host, port, client_id)

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
    workers: int = 1,
) -> IngestProcess:
    """Start `homesafe ingest` with its own spool under workdir (metrics on port … port+N-1)."""
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
    if workers > 1:
        command += ["--workers", str(workers)]
    proc = subprocess.Popen(
        command,
        cwd=workdir,
        env=env,
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
    )
    return IngestProcess(proc, metrics_port, log_path, workers, client_id)


def forget_session(host: str, port: int, client_id: str) -> None:
    """Connect as client_id with a clean start and no session expiry, then disconnect."""
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = 0
    client.connect(host, port, clean_start=True, properties=properties)
    client.loop_start()
    time.sleep(0.3)
    client.disconnect()
    client.loop_stop()


def wait_for_metrics(process: IngestProcess, timeout_s: float = 30.0) -> None:
    """Block until every worker serves /metrics (each is connected soon after)."""
    deadline = time.monotonic() + timeout_s
    for port in range(process.metrics_port, process.metrics_port + process.workers):
        while True:
            if process.proc.poll() is not None:
                raise RuntimeError(f"ingest exited: {process.log_path.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("ingest never served /metrics")
            try:
                httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)


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
    client.max_inflight_messages_set(5000)
    client.max_queued_messages_set(0)
    client.connect(host, port, keepalive=60)

    def service(timeout_s: float) -> None:
        # No network thread: this process drives paho itself (half the cost per message).
        if client.loop(timeout_s) != mqtt.MQTT_ERR_SUCCESS:
            time.sleep(0.2)
            try:
                client.reconnect()  # paho resends every unacknowledged message
            except OSError:
                pass

    started = time.monotonic()
    for index, (topic, body) in enumerate(messages):
        if rate_msgs_s > 0:
            due = started + index / rate_msgs_s
            while due - time.monotonic() > 0.002:
                service(max(0.0, min(0.05, due - time.monotonic())))
        client.publish(topic, body, qos=1)  # kept and resent by paho across reconnects
        if index % 200 == 0:
            service(0)
            while len(client._out_messages) > 20000:  # bound paho's own queue
                service(0.01)
    deadline = time.monotonic() + 120
    while client._out_messages and time.monotonic() < deadline:
        service(0.01)
    elapsed = time.monotonic() - started
    client.disconnect()
    done.put((len(messages) * per_message, elapsed))


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
) -> list[mp.process.BaseProcess]:
    """Start publisher processes (each its own slice of gateways); join them to wait."""
    context = mp.get_context("fork")
    done: mp.Queue = context.Queue()  # type: ignore[type-arg]
    started: list[mp.process.BaseProcess] = []
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


@dataclass
class FastPublishers:
    """`mosquitto_pub -l` processes, one per gateway, each fed a file of payload lines."""

    files: list[tuple[str, Path]]
    host: str
    port: int
    per_message: int
    messages: int
    procs: list[subprocess.Popen[bytes]]

    def start(self) -> None:
        """Start every publisher (payloads were written before: not part of the timing)."""
        binary = shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub"
        for gateway_id, path in self.files:
            with path.open("rb") as stdin:
                self.procs.append(
                    subprocess.Popen(
                        [
                            binary,
                            "-h",
                            self.host,
                            "-p",
                            str(self.port),
                            "-V",
                            "mqttv5",
                            "-q",
                            "1",
                            "-M",
                            "1000",
                            "-l",
                            "-i",
                            f"bench-fast-{gateway_id}",
                            "-t",
                            f"homesafe/v1/gw/{gateway_id}/telemetry",
                        ],
                        stdin=stdin,
                        stdout=subprocess.DEVNULL,
                    )
                )

    def wait(self, timeout_s: float = 600) -> bool:
        """Wait for every publisher; True when all exited 0 (all acknowledged by the broker)."""
        deadline = time.monotonic() + timeout_s
        ok = True
        for proc in self.procs:
            try:
                ok &= proc.wait(max(0.1, deadline - time.monotonic())) == 0
            except subprocess.TimeoutExpired:
                proc.kill()
                ok = False
        return ok

    @property
    def readings(self) -> int:
        """Readings all publishers send."""
        return self.messages * self.per_message


def prepare_fast(
    workdir: Path,
    host: str,
    port: int,
    gateways: list[str],
    *,
    per_message: int,
    messages_per_gateway: int,
    base_ts: int,
) -> FastPublishers:
    """Write each gateway's payloads to a file, ready for `FastPublishers.start`."""
    directory = workdir / f"fast-{uuid.uuid4().hex[:8]}"
    directory.mkdir(parents=True)
    files = []
    for gateway_id in gateways:
        path = directory / f"{gateway_id}.lines"
        bodies = payloads([gateway_id], per_message, messages_per_gateway, base_ts, 1)
        path.write_bytes(b"\n".join(body for _, body in bodies) + b"\n")
        files.append((gateway_id, path))
    return FastPublishers(files, host, port, per_message, messages_per_gateway * len(gateways), [])
