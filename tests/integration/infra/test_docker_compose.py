"""docker-compose.yml is valid, has the production shape, and configures Homesafe only by HOMESAFE_*."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import yaml

from tests.servers import INSTALL_HINT, Influx, Mosquitto, find_binary, free_port, port_open

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
INFRA = ["mosquitto", "influxdb", "postgres"]
HOMESAFE_COMMANDS = {
    "migrate": ["db", "upgrade"],
    "ingest": ["ingest", "--shared"],
    "detectors": ["detect"],
    "scheduler": ["scheduler"],
    "api": ["api", "--host", "0.0.0.0", "--port", "8000"],
}
LONG_RUNNING = ["mosquitto", "influxdb", "postgres", "ingest", "detectors", "scheduler", "api"]
HOMESAFE_VARS = {
    "HOMESAFE_MQTT_URL",
    "HOMESAFE_TELEMETRY_URL",
    "HOMESAFE_DATABASE_URL",
    "HOMESAFE_TIMEZONE",
    "HOMESAFE_GATEWAY_KEY",
    "HOMESAFE_AUDIT_KEY",
    "HOMESAFE_PRODUCTION",
    "HOMESAFE_TRUSTED_PROXIES",
    "HOMESAFE_PUBLIC_URL",
    "HOMESAFE_OIDC_ISSUER",
    "HOMESAFE_OIDC_CLIENT_ID",
    "HOMESAFE_OIDC_CLIENT_SECRET",
    "HOMESAFE_OIDC_ROLE_MAP",
    "HOMESAFE_OIDC_SCOPES",
}
# docker-compose.yml has no default secrets: these stand in for the operator's.
SECRETS = {
    "POSTGRES_PASSWORD": "a-postgres-password-of-the-landlord",
    "HOMESAFE_MQTT_PASSWORD": "an-mqtt-password-for-ingest-only",
    "HOMESAFE_GATEWAY_KEY": "g" * 40,
    "HOMESAFE_AUDIT_KEY": "a" * 40,
    "HOMESAFE_PUBLIC_HOST": "homesafe.landlord.example",
    "HOMESAFE_TLS": "internal",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The output of `docker-compose -f docker-compose.yml config`, parsed."""
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail(f"`docker-compose` is not installed: {INSTALL_HINT}", pytrace=False)
    result = subprocess.run(
        [binary, "-f", "docker-compose.yml", "config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**{k: v for k, v in os.environ.items() if k not in SECRETS}, **SECRETS},
    )
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = yaml.safe_load(result.stdout)
    return parsed


def test_every_service_of_the_production_shape_is_there(compose: dict[str, Any]) -> None:
    assert set(INFRA) | set(HOMESAFE_COMMANDS) <= set(compose["services"])


def test_the_servers_are_the_intended_images(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["mosquitto"]["image"] == "eclipse-mosquitto:2"
    assert services["influxdb"]["image"] == "influxdb:1.8"
    assert services["influxdb"]["environment"]["INFLUXDB_DB"] == "telemetry"
    assert services["postgres"]["image"] == "postgres:16"
    mounts = {target: source for source, target in map(_mount, services["mosquitto"]["volumes"])}
    assert (
        Path(mounts["/mosquitto/config/mosquitto.conf"]) == ROOT / "scripts/docker/mosquitto.conf"
    )


def _mount(volume: str | dict[str, str]) -> tuple[str, str]:
    """(source, target) of a volume in short ("src:dst[:ro]") or long form."""
    if isinstance(volume, dict):
        return volume["source"], volume["target"]
    source, target = volume.split(":")[:2]
    return source, target


@pytest.mark.parametrize("name", sorted(HOMESAFE_COMMANDS))
def test_each_homesafe_service_is_built_here_and_runs_its_command(
    compose: dict[str, Any], name: str
) -> None:
    service = compose["services"][name]
    assert Path(service["build"]["context"]) == ROOT
    assert service["build"].get("dockerfile", "Dockerfile") == "Dockerfile"
    assert service["command"] == HOMESAFE_COMMANDS[name]


@pytest.mark.parametrize("name", sorted(HOMESAFE_COMMANDS))
def test_each_homesafe_service_is_configured_only_by_homesafe_variables(
    compose: dict[str, Any], name: str
) -> None:
    env = compose["services"][name]["environment"]
    assert set(env) == HOMESAFE_VARS

    mqtt = urlsplit(env["HOMESAFE_MQTT_URL"])
    assert (mqtt.scheme, mqtt.hostname, mqtt.port) == ("mqtt", "mosquitto", 1884)  # ingest's own
    telemetry = urlsplit(env["HOMESAFE_TELEMETRY_URL"])
    assert (telemetry.scheme, telemetry.hostname, telemetry.port, telemetry.path) == (
        "influxdb",
        "influxdb",
        8086,
        "/telemetry",
    )
    database = urlsplit(env["HOMESAFE_DATABASE_URL"])
    assert (database.scheme, database.hostname, database.port) == (
        "postgresql+psycopg",
        "postgres",
        5432,
    )
    postgres_env = compose["services"]["postgres"]["environment"]
    assert database.path == f"/{postgres_env['POSTGRES_DB']}"
    assert (database.username, database.password) == (
        postgres_env["POSTGRES_USER"],
        postgres_env["POSTGRES_PASSWORD"],
    )
    assert ZoneInfo(env["HOMESAFE_TIMEZONE"]).key == "Europe/London"


def test_long_running_services_have_healthchecks(compose: dict[str, Any]) -> None:
    for name in LONG_RUNNING:
        test = compose["services"][name].get("healthcheck", {}).get("test")
        assert test, name
        assert test[0] in ("CMD", "CMD-SHELL"), name


def test_dependencies_wait_for_health_and_migrations(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, (name, dependency)
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], (name, dependency)
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("ingest", "detectors", "scheduler", "api"):
        assert (
            services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )
    assert services["ingest"]["depends_on"]["mosquitto"]["condition"] == "service_healthy"
    assert services["ingest"]["depends_on"]["influxdb"]["condition"] == "service_healthy"


def test_the_dockerfile_installs_the_project_on_python_311_slim() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in text
    assert "pip install ." in text
    assert 'ENTRYPOINT ["homesafe"]' in text


def test_the_compose_mosquitto_config_runs_and_enforces_auth(tmp_path: Path) -> None:
    """The mounted mosquitto.conf, with its paths and ports moved into tmp_path, starts, refuses
    strangers, binds gateways' client ids to their usernames (a gateway sending ingest's client id
    does not knock ingest off), keeps ingest on its own listener, and serves TLS on 8883."""
    from ingest.broker_config import gateway_password, write_broker_config
    from tests.tls import make_certificates

    auth, data = tmp_path / "auth", tmp_path / "data"
    auth.mkdir()
    data.mkdir()
    write_broker_config(
        gateway_ids=["gw-1"],
        gateway_key="k",
        password_file=auth / "passwd",
        acl_file=auth / "acl",
        ingest_user="ingest",
        ingest_password="pw",
        ingest_password_file=auth / "ingest.passwd",
        ingest_acl_file=auth / "ingest.acl",
    )
    certs = make_certificates(tmp_path / "certs", name="broker")
    shutil.copy(ROOT / "scripts" / "docker" / "health.acl", tmp_path / "health.acl")
    public, tls, ingest, health = free_port(), free_port(), free_port(), free_port()
    conf = (ROOT / "scripts" / "docker" / "mosquitto.conf").read_text()
    for listener in ("1883", "8883", "1884", "1880 127.0.0.1"):
        assert f"listener {listener}\n" in conf
    assert conf.count("use_username_as_clientid true") == 2  # both gateway listeners
    conf = (
        conf.replace("/mosquitto/auth", str(auth))
        .replace("/mosquitto/config", str(tmp_path))
        .replace("/mosquitto/data", str(data))
        .replace("/mosquitto/certs", str(certs.ca.parent))
        .replace("listener 1883\n", f"listener {public} 127.0.0.1\n")
        .replace("listener 8883\n", f"listener {tls} 127.0.0.1\n")
        .replace("listener 1884\n", f"listener {ingest} 127.0.0.1\n")
        .replace("listener 1880 127.0.0.1\n", f"listener {health} 127.0.0.1\n")
    )
    (tmp_path / "mosquitto.conf").write_text(conf + "user root\n" if os.getuid() == 0 else conf)
    log = open(tmp_path / "mosquitto.log", "wb")
    proc = subprocess.Popen(
        [
            find_binary("mosquitto", "HOMESAFE_TEST_MOSQUITTO_BIN"),
            "-c",
            str(tmp_path / "mosquitto.conf"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while not all(port_open("127.0.0.1", p) for p in (public, tls, ingest, health)):
            assert proc.poll() is None, (tmp_path / "mosquitto.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "mosquitto.log").read_text()
            time.sleep(0.05)
        sub = find_binary("mosquitto_sub", "HOMESAFE_TEST_NOT_SET")
        pub = find_binary("mosquitto_pub", "HOMESAFE_TEST_NOT_SET")
        healthy = subprocess.run(
            [
                sub,
                "-h",
                "127.0.0.1",
                "-p",
                str(health),
                "-t",
                "$SYS/broker/uptime",
                "-C",
                "1",
                "-W",
                "5",
            ],
            capture_output=True,
            timeout=10,
        )
        assert healthy.returncode == 0, healthy.stderr
        anonymous = subprocess.run(
            [sub, "-h", "127.0.0.1", "-p", str(public), "-t", "#", "-C", "1", "-W", "2"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        assert anonymous.returncode != 0
        assert "not authorised" in anonymous.stderr
        # Ingest listens on its own port with the client id of its persistent session ...
        listening = subprocess.Popen(
            [
                sub,
                "-h",
                "127.0.0.1",
                "-p",
                str(ingest),
                "-u",
                "ingest",
                "-P",
                "pw",
                "-i",
                "homesafe-ingest",
                "-c",
                "-q",
                "1",
                "-t",
                "homesafe/v1/gw/#",
                "-C",
                "1",
                "-W",
                "10",
                "-V",
                "mqttv5",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(0.5)
        # ... and a gateway sending that client id over TLS becomes "gw-1": ingest stays on.
        published = subprocess.run(
            [
                pub,
                "-h",
                "localhost",
                "-p",
                str(tls),
                "--cafile",
                str(certs.ca),
                "-u",
                "gw-1",
                "-P",
                gateway_password("k", "gw-1"),
                "-i",
                "homesafe-ingest",
                "-q",
                "1",
                "-t",
                "homesafe/v1/gw/gw-1/telemetry",
                "-m",
                "over tls",
            ],
            capture_output=True,
            text=True,
            timeout=10,
        )
        assert published.returncode == 0, published.stderr
        out, _ = listening.communicate(timeout=15)
        assert out.strip() == "over tls"
        assert (
            "already connected, closing old connection"
            not in (tmp_path / "mosquitto.log").read_text()
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _healthcheck(env: dict[str, str], *checks: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "docker" / "healthcheck.py"), *checks],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_container_healthcheck_passes_against_live_servers(
    mosquitto: Mosquitto, influxdb: Influx, postgres_url: str
) -> None:
    env = {
        "HOMESAFE_MQTT_URL": mosquitto.url,
        "HOMESAFE_TELEMETRY_URL": influxdb.url,
        "HOMESAFE_DATABASE_URL": postgres_url,
    }
    result = _healthcheck(env, "mqtt", "telemetry", "database")
    assert result.returncode == 0, result.stderr


def test_the_container_healthcheck_fails_when_a_server_is_down(influxdb: Influx) -> None:
    dead = free_port()
    env = {
        "HOMESAFE_MQTT_URL": f"mqtt://127.0.0.1:{dead}",
        "HOMESAFE_TELEMETRY_URL": influxdb.url,
    }
    assert _healthcheck(env, "telemetry").returncode == 0
    result = _healthcheck(env, "telemetry", "mqtt")
    assert result.returncode == 1
    assert result.stderr.startswith("mqtt:")
