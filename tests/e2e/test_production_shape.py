"""The production shape without a Docker engine: each Homesafe service of docker-compose.yml is
started with its own command, as its own process, against real Mosquitto (with the password file
and ACL that the broker-config service writes), InfluxDB and PostgreSQL. Gateways publish; a
damp home's readings become a case the API shows; every service then stops cleanly on SIGTERM."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from firmware_sim.demo import demo_registry_rows, start_demo_fleet
from homesafe.runner import _csv
from registry.schemas import HOMES_COLUMNS, HOUSEHOLDS_COLUMNS
from tests.integration.homesafe.processes import HomesafeProcess, homesafe
from tests.servers import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
GATEWAY_KEY = "production-shape-provisioning-key"
INGEST_PASSWORD = "ingest-secret-of-the-test"  # production: 16+ characters
LONG_RUNNING = ("ingest", "detectors", "scheduler", "api")


def compose_services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    return services


def local(command: list[str], tmp_path: Path, api_port: int) -> list[str]:
    """A compose command with container paths and the published port moved onto this machine."""
    out = []
    for part in command:
        part = part.replace("/mosquitto/auth", str(tmp_path / "auth"))
        out.append(part)
    if out[:1] == ["api"]:
        out[out.index("--host") + 1] = "127.0.0.1"
        out[out.index("--port") + 1] = str(api_port)
    return out


def test_each_compose_service_as_its_own_process_turns_a_damp_home_into_a_case(
    tmp_path, make_mosquitto, influx_url, make_postgres_url
):
    services = compose_services()
    ingest_user = "ingest"
    broker_port = free_port()
    env = {
        # The variables compose gives every Homesafe service, pointed at this machine's servers.
        "HOMESAFE_MQTT_URL": f"mqtt://{ingest_user}:{INGEST_PASSWORD}@127.0.0.1:{broker_port}",
        "HOMESAFE_TELEMETRY_URL": influx_url,
        "HOMESAFE_DATABASE_URL": make_postgres_url(),
        "HOMESAFE_TIMEZONE": "Europe/London",
        # What an operator adds: the provisioning key, a quick detector interval for the test.
        "HOMESAFE_GATEWAY_KEY": GATEWAY_KEY,
        "HOMESAFE_AUDIT_KEY": "production-shape-audit-key-of-some-length",
        "HOMESAFE_DETECT_INTERVAL_S": "5",
        "HOMESAFE_METRICS_PORT": "0",
        # As compose sets them: a real install (no short or default secret), the proxy trusted.
        "HOMESAFE_PRODUCTION": "true",
        "HOMESAFE_TRUSTED_PROXIES": "127.0.0.1",
        "HOMESAFE_PUBLIC_URL": "https://homesafe.landlord.example",
        # OpenID Connect as compose passes it when the operator sets none: empty, so off.
        "HOMESAFE_OIDC_ISSUER": "",
        "HOMESAFE_OIDC_CLIENT_ID": "",
        "HOMESAFE_OIDC_CLIENT_SECRET": "",
        "HOMESAFE_OIDC_ROLE_MAP": "",
        "HOMESAFE_OIDC_SCOPES": "openid profile email",
    }
    assert set(services["ingest"]["environment"]) <= set(env)
    api_port = free_port()

    # One-off services, in compose's order: migrate, then (after the registry import an operator
    # runs) broker-config writes Mosquitto's password file and ACL.
    homesafe(local(services["migrate"]["command"], tmp_path, api_port), env=env, cwd=tmp_path)
    homes, households = demo_registry_rows(4, 1)
    (tmp_path / "homes.csv").write_text(_csv(homes, HOMES_COLUMNS))
    (tmp_path / "households.csv").write_text(_csv(households, HOUSEHOLDS_COLUMNS))
    homesafe(["registry", "import", "homes.csv", "households.csv"], env=env, cwd=tmp_path)
    homesafe(local(services["broker-config"]["command"], tmp_path, api_port), env=env, cwd=tmp_path)
    broker = make_mosquitto(
        password_file=tmp_path / "auth" / "passwd",
        acl_file=tmp_path / "auth" / "acl",
        ingest_password_file=tmp_path / "auth" / "ingest.passwd",
        ingest_acl_file=tmp_path / "auth" / "ingest.acl",
    )
    assert broker.port != broker_port
    # Ingest on its own listener (compose: 1884); gateways on the gateways' one.
    env["HOMESAFE_MQTT_URL"] = (
        f"mqtt://{ingest_user}:{INGEST_PASSWORD}@127.0.0.1:{broker.ingest_port}"
    )
    homesafe(["users", "add", "officer", "--role", "officer"], env=env, cwd=tmp_path)
    token = (
        homesafe(["tokens", "create", "officer"], env=env, cwd=tmp_path).strip().splitlines()[-1]
    )

    running = {
        name: HomesafeProcess(
            local(services[name]["command"], tmp_path, api_port), env=env, cwd=tmp_path, name=name
        )
        for name in LONG_RUNNING
    }
    stop = threading.Event()
    try:
        running["ingest"].wait_for(r"connected to MQTT broker")
        running["api"].wait_for(r"Application startup complete")
        running["detectors"].wait_for(r"detector pass")
        start_demo_fleet(
            "127.0.0.1",
            broker.port,
            homes=4,
            seed=1,
            backfill_hours=26,
            stop=stop,
            protocol="5",
            gateway_key=GATEWAY_KEY,
        )
        api = httpx.Client(
            base_url=f"http://127.0.0.1:{api_port}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        deadline = time.monotonic() + 180
        cases: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not cases:
            answer = api.get("/cases", params={"hazard": "damp_and_mould"})
            assert answer.status_code == 200, answer.text
            cases = answer.json()
            for name, process in running.items():
                assert process.proc.poll() is None, f"{name} died:\n{process.log_text()[-3000:]}"
            time.sleep(2)
        assert [c["home_id"] for c in cases] == ["H00001"], {
            name: p.log_text()[-2000:] for name, p in running.items()
        }
        assert cases[0]["source"] == "sensor"
        assert [c["kind"] for c in cases[0]["clocks"]] == ["investigate"]
        assert api.get("/health").json()["status"] == "ok"
    finally:
        stop.set()
        codes: dict[str, int | str] = {}
        for name, process in running.items():
            try:
                codes[name] = process.terminate()
            except AssertionError as exc:  # still running 10 s after SIGTERM
                codes[name] = str(exc)
            finally:
                process.kill()
    assert codes == dict.fromkeys(LONG_RUNNING, 0)
    for name, process in running.items():
        assert "Traceback" not in process.log_text(), (name, process.log_text()[-3000:])
