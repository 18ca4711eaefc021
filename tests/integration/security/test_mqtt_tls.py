"""Gateways reach Mosquitto over TLS (8883) with the broker's certificate (issue 12), tested with
a CA and a broker certificate made at test time, a real Mosquitto, and the simulator's gateway
client (`homesafe simulate --mqtt mqtts://… --ca-file`); ingest reads on its own listener."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from firmware_sim.homes import plan_homes
from firmware_sim.runner import FleetRun, run_gateways
from firmware_sim.scenarios import scenario_for
from homesafe.cli import main
from ingest.broker_config import gateway_password, write_broker_config
from tests.servers import Mosquitto
from tests.tls import Certificates, make_certificates

pytestmark = pytest.mark.integration

KEY = "test-provisioning-key"
GATEWAY = "gw-H00001"


@pytest.fixture
def certs(tmp_path: Path) -> Certificates:
    return make_certificates(tmp_path / "certs", name="broker")


@pytest.fixture
def broker(
    tmp_path: Path, certs: Certificates, make_mosquitto: Callable[..., Mosquitto]
) -> Mosquitto:
    write_broker_config(
        gateway_ids=[GATEWAY],
        gateway_key=KEY,
        password_file=tmp_path / "passwd",
        acl_file=tmp_path / "acl",
        ingest_user="ingest",
        ingest_password="ingest-secret",
        ingest_password_file=tmp_path / "ingest.passwd",
        ingest_acl_file=tmp_path / "ingest.acl",
    )
    return make_mosquitto(
        password_file=tmp_path / "passwd",
        acl_file=tmp_path / "acl",
        ingest_password_file=tmp_path / "ingest.passwd",
        ingest_acl_file=tmp_path / "ingest.acl",
        tls=(certs.ca, certs.cert, certs.key),
    )


def _ingest(broker: Mosquitto) -> tuple[mqtt.Client, list[str]]:
    got: list[str] = []
    c = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id="homesafe-ingest-tls-test",
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    c.username_pw_set("ingest", "ingest-secret")
    c.on_message = lambda _c, _u, m: got.append(m.topic)
    c.connect(broker.host, broker.ingest_port)
    c.subscribe("homesafe/v1/gw/#", qos=1)
    c.loop_start()
    time.sleep(0.3)
    return c, got


def _run() -> FleetRun:
    now = int(time.time())
    plans = plan_homes([scenario_for("healthy")], seed=1)
    assert plans[0].gateway_id == GATEWAY
    return FleetRun(
        plans,
        seed=1,
        window_start_s=now - 6 * 3600,
        window_end_s=now,
        interval_s=3600,
        spinup_s=3600,
    )


def test_the_simulated_gateway_publishes_over_tls_checking_the_brokers_certificate(
    broker: Mosquitto, certs: Certificates
) -> None:
    ingest, got = _ingest(broker)
    result = run_gateways(
        _run(),
        "127.0.0.1",
        broker.tls_port,  # type: ignore[arg-type]
        protocol="5",
        gateway_key=KEY,
        speed=1e9,
        wall_start_s=time.time(),
        stop=threading.Event(),
        tls_ca_file=str(certs.ca),
    )
    assert result["messages"] >= 6
    assert result["acked"] >= result["messages"]
    time.sleep(0.5)
    assert f"homesafe/v1/gw/{GATEWAY}/telemetry" in got
    ingest.loop_stop()
    ingest.disconnect()


def test_the_simulate_command_speaks_mqtts(broker: Mosquitto, certs: Certificates, capsys) -> None:
    ingest, got = _ingest(broker)
    code = main(
        [
            "simulate",
            "--homes",
            "1",
            "--scenario",
            "healthy",
            "--days",
            "0.25",
            "--interval",
            "3600",
            "--speed",
            "1000000",
            "--gateway-key",
            KEY,
            "--mqtt",
            f"mqtts://127.0.0.1:{broker.tls_port}",
            "--ca-file",
            str(certs.ca),
        ]
    )
    assert code == 0, capsys.readouterr().err
    time.sleep(0.5)
    assert f"homesafe/v1/gw/{GATEWAY}/telemetry" in got
    ingest.loop_stop()
    ingest.disconnect()


def _tls_client(ca: str | None) -> mqtt.Client:
    c = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=GATEWAY,
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    c.username_pw_set(GATEWAY, gateway_password(KEY, GATEWAY))
    c.tls_set(ca_certs=ca)
    return c


def test_a_broker_certificate_not_signed_by_the_trusted_ca_is_refused(
    broker: Mosquitto, tmp_path: Path
) -> None:
    other = make_certificates(tmp_path / "other-ca")
    with pytest.raises(ssl.SSLCertVerificationError):
        _tls_client(str(other.ca)).connect("127.0.0.1", broker.tls_port)


def test_a_certificate_for_another_host_name_is_refused(
    broker: Mosquitto, certs: Certificates
) -> None:
    # The certificate names localhost and 127.0.0.1; a client that dialled another name refuses it.
    context = ssl.create_default_context(cafile=str(certs.ca))
    with socket.create_connection(("127.0.0.1", broker.tls_port), timeout=5) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            context.wrap_socket(raw, server_hostname="broker.elsewhere.example")
    with socket.create_connection(("127.0.0.1", broker.tls_port), timeout=5) as raw:
        context.wrap_socket(raw, server_hostname="localhost").close()


def test_plain_mqtt_on_the_tls_port_gets_nowhere(broker: Mosquitto) -> None:
    c = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id="plain",
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    c.username_pw_set(GATEWAY, gateway_password(KEY, GATEWAY))
    connected = threading.Event()
    c.on_connect = lambda *_a: connected.set()
    try:
        c.connect("127.0.0.1", broker.tls_port)
        c.loop_start()
        assert not connected.wait(2)
    except OSError:
        pass
    finally:
        c.loop_stop()
