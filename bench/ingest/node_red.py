"""Node-RED as the peer a user would otherwise pick: installed from the npm registry into a
temporary folder at bench time (nothing committed), one flow, started as its own process.

The flow, tuned as a Node-RED user would tune it for throughput:
  MQTT in (QoS 1, MQTT 5, fixed client id, persistent session, JSON parsed by the node)
  → function (the message's readings as InfluxDB points, tagged gateway_id, home_id, sensor;
    home_id from a lookup table set up once, as Homesafe's registry gives it)
  → join (500 messages into one array, or what came within 1 s)
  → function (the 500 arrays flattened into one: about 2,000 points)
  → influxdb batch (node-red-contrib-influxdb, InfluxDB 1.x line protocol, precision s).
It validates nothing, keeps no dead letters and no fleet health, and MQTT.js acknowledges each
message when it arrives (before the point is in InfluxDB): it does less than Homesafe.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

NODE_RED_VERSION = "4.1.15"
INFLUXDB_NODES_VERSION = "0.7.0"
JOIN_COUNT = 500

FUNCTION_POINTS = """
const homes = context.get("homes");
const topic = msg.topic;
const gateway = topic.substring(15, topic.length - 10);
const home = homes[gateway];
const points = [];
for (const r of msg.payload.readings) {
    const fields = {};
    if (r.temperature_c != null) fields.temperature_c = r.temperature_c;
    if (r.humidity_pct != null) fields.humidity_pct = r.humidity_pct;
    if (r.wme_pct != null) fields.wme_pct = r.wme_pct;
    if (r.battery_pct != null) fields.battery_pct = r.battery_pct;
    points.push({measurement: "reading", tags: {gateway_id: gateway, home_id: home, sensor: r.sensor},
                 fields: fields, timestamp: r.ts});
}
msg.payload = points;
return msg;
"""

FUNCTION_FLATTEN = "msg.payload = msg.payload.flat(); return msg;"


def install(directory: Path) -> Path:
    """npm install Node-RED and the InfluxDB nodes into `directory`; the path of red.js."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed (Node-RED needs Node.js 20 and npm)")
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            npm,
            "install",
            "--prefix",
            str(directory),
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            f"node-red@{NODE_RED_VERSION}",
            f"node-red-contrib-influxdb@{INFLUXDB_NODES_VERSION}",
        ],
        check=True,
        capture_output=True,
    )
    return directory / "node_modules" / "node-red" / "red.js"


def flow(
    *,
    mqtt_host: str,
    mqtt_port: int,
    client_id: str,
    influx_host: str,
    influx_port: int,
    database: str,
    homes: dict[str, str],
) -> list[dict[str, object]]:
    """The flow's nodes as Node-RED's flows.json holds them."""
    tab = "homesafe-peer"
    return [
        {"id": tab, "type": "tab", "label": "telemetry"},
        {
            "id": "peer-broker",
            "type": "mqtt-broker",
            "name": "mosquitto",
            "broker": mqtt_host,
            "port": str(mqtt_port),
            "clientid": client_id,
            "autoConnect": True,
            "usetls": False,
            "protocolVersion": "5",
            "keepalive": "60",
            "cleansession": False,
            "sessionExpiry": "3600",
        },
        {
            "id": "peer-mqtt-in",
            "type": "mqtt in",
            "z": tab,
            "topic": "homesafe/v1/gw/+/telemetry",
            "qos": "1",
            "datatype": "json",
            "broker": "peer-broker",
            "nl": False,
            "rap": True,
            "rh": 0,
            "inputs": 0,
            "wires": [["peer-points"]],
        },
        {
            "id": "peer-points",
            "type": "function",
            "z": tab,
            "func": FUNCTION_POINTS,
            "outputs": 1,
            "initialize": f"context.set('homes', {json.dumps(homes)});",
            "finalize": "",
            "libs": [],
            "wires": [["peer-join"]],
        },
        {
            "id": "peer-join",
            "type": "join",
            "z": tab,
            "mode": "custom",
            "build": "array",
            "property": "payload",
            "propertyType": "msg",
            "key": "topic",
            "joiner": "\\n",
            "joinerType": "str",
            "accumulate": False,
            "timeout": "1",
            "count": str(JOIN_COUNT),
            "reduceRight": False,
            "wires": [["peer-flatten"]],
        },
        {
            "id": "peer-flatten",
            "type": "function",
            "z": tab,
            "func": FUNCTION_FLATTEN,
            "outputs": 1,
            "wires": [["peer-batch"]],
        },
        {
            "id": "peer-influx",
            "type": "influxdb",
            "hostname": influx_host,
            "port": str(influx_port),
            "protocol": "http",
            "database": database,
            "name": "influx",
            "usetls": False,
            "influxdbVersion": "1.x",
        },
        {
            "id": "peer-batch",
            "type": "influxdb batch",
            "z": tab,
            "influxdb": "peer-influx",
            "precision": "s",
            "retentionPolicy": "",
            "wires": [],
        },
    ]


@dataclass
class NodeRed:
    """A running Node-RED process."""

    proc: subprocess.Popen[bytes]
    log_path: Path

    def peak_rss_mb(self) -> float:
        """VmHWM of the Node-RED process, in MB."""
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def stop(self) -> None:
        """SIGINT (Node-RED's clean stop), then wait."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start(red_js: Path, user_dir: Path, flows: list[dict[str, object]], port: int) -> NodeRed:
    """Write the flow and settings into user_dir and start Node-RED on it (editor off)."""
    user_dir.mkdir(parents=True, exist_ok=True)
    (user_dir / "flows.json").write_text(json.dumps(flows))
    (user_dir / "settings.js").write_text(
        "module.exports = {\n"
        f"  uiPort: {port}, uiHost: '127.0.0.1', flowFile: 'flows.json',\n"
        "  credentialSecret: false, disableEditor: true, httpAdminRoot: false,\n"
        "  httpNodeRoot: false, logging: {console: {level: 'warn'}},\n"
        "  functionExternalModules: false, mqttReconnectTime: 1000,\n"
        "};\n"
    )
    log_path = user_dir / "node-red.log"
    node = shutil.which("node") or "node"
    proc = subprocess.Popen(
        [
            node,
            str(red_js),
            "--userDir",
            str(user_dir),
            "--settings",
            str(user_dir / "settings.js"),
        ],
        cwd=user_dir,
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "NODE_ENV": "production"},
    )
    time.sleep(0.1)
    return NodeRed(proc, log_path)
