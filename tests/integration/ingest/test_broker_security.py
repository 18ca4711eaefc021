"""`homesafe broker-config` files in a real Mosquitto: each gateway publishes only as itself."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from ingest.broker_config import gateway_password, mosquitto_hash, write_broker_config
from tests.servers import Mosquitto

pytestmark = pytest.mark.integration

KEY = "test-provisioning-key"


def client(
    broker: Mosquitto, username: str | None, password: str | None
) -> tuple[mqtt.Client, int]:
    """A connected MQTT v5 client and the CONNACK reason code value."""
    c = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"t-{uuid.uuid4().hex[:8]}",
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    if username is not None:
        c.username_pw_set(username, password)
    done = threading.Event()
    code: list[int] = []

    def on_connect(*args: object) -> None:
        code.append(args[3].value)  # type: ignore[attr-defined]
        done.set()

    c.on_connect = on_connect
    c.connect(broker.host, broker.port)
    c.loop_start()
    assert done.wait(5)
    return c, code[0]


def received(sub: mqtt.Client) -> Callable[[], list[str]]:
    got: list[str] = []
    sub.on_message = lambda _c, _u, m: got.append(m.topic)
    return lambda: got


@pytest.fixture
def broker(tmp_path: Path, make_mosquitto: Callable[..., Mosquitto]) -> Mosquitto:
    write_broker_config(
        gateway_ids=["gw-1", "gw-2"],
        gateway_key=KEY,
        password_file=tmp_path / "passwd",
        acl_file=tmp_path / "acl",
        ingest_user="ingest",
        ingest_password="ingest-secret",
    )
    return make_mosquitto(password_file=tmp_path / "passwd", acl_file=tmp_path / "acl")


def test_hash_is_mosquitto_2_format() -> None:
    parts = mosquitto_hash("x", salt=b"0" * 12).split("$")
    assert parts[:3] == ["", "7", "101"]
    assert len(parts) == 5


def test_gateway_publishes_only_its_own_topics_and_reads_nothing(broker: Mosquitto) -> None:
    ingest, code = client(broker, "ingest", "ingest-secret")
    assert code == 0
    seen = received(ingest)
    ingest.subscribe("homesafe/v1/gw/#", qos=1)
    gw1, code = client(broker, "gw-1", gateway_password(KEY, "gw-1"))
    assert code == 0
    spy = received(gw1)
    gw1.subscribe("homesafe/v1/gw/#", qos=1)
    time.sleep(0.3)
    gw1.publish("homesafe/v1/gw/gw-1/telemetry", b"mine", qos=1).wait_for_publish(5)
    gw1.publish("homesafe/v1/gw/gw-2/telemetry", b"forged", qos=1).wait_for_publish(5)
    gw1.publish("homesafe/v1/gw/gw-1/status", b"status", qos=1).wait_for_publish(5)
    gw2, code = client(broker, "gw-2", gateway_password(KEY, "gw-2"))
    gw2.publish("homesafe/v1/gw/gw-2/telemetry", b"theirs", qos=1).wait_for_publish(5)
    time.sleep(1.0)
    assert sorted(seen()) == [
        "homesafe/v1/gw/gw-1/status",
        "homesafe/v1/gw/gw-1/telemetry",
        "homesafe/v1/gw/gw-2/telemetry",
    ]
    assert spy() == []  # a gateway reads nobody's topics, not even its own
    for c in (ingest, gw1, gw2):
        c.loop_stop()
        c.disconnect()


def test_unknown_clients_and_wrong_passwords_cannot_connect(broker: Mosquitto) -> None:
    for username, password in [
        (None, None),
        ("gw-9", gateway_password(KEY, "gw-9")),
        ("gw-1", gateway_password("other-key", "gw-1")),
    ]:
        c, code = client(broker, username, password)
        c.loop_stop()
        assert code != 0, f"{username} should have been refused"


def test_cli_refuses_without_the_key_and_writes_files_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from homesafe.cli import main

    monkeypatch.setenv("HOMESAFE_DATABASE_URL", f"sqlite:///{tmp_path / 'cases.db'}")
    monkeypatch.setenv("HOMESAFE_TELEMETRY_URL", f"sqlite:///{tmp_path / 't.db'}")
    monkeypatch.setenv("HOMESAFE_MQTT_URL", "mqtt://ingest:pw@127.0.0.1:1883")
    monkeypatch.delenv("HOMESAFE_GATEWAY_KEY", raising=False)
    argv = [
        "broker-config",
        "--password-file",
        str(tmp_path / "p"),
        "--acl-file",
        str(tmp_path / "a"),
    ]
    assert main(argv) == 2
    monkeypatch.setenv("HOMESAFE_GATEWAY_KEY", KEY)
    assert main(argv) == 0
    assert (tmp_path / "p").read_text().startswith("ingest:$7$101$")
    assert "topic read homesafe/v1/gw/#" in (tmp_path / "a").read_text()
