"""A gateway must not take over another client's MQTT session (issue 12): with its own valid
password, a gateway connecting with ingest's client id (or another gateway's) used to wipe
ingest's persistent session. The broker set-up that `homesafe broker-config` writes binds
gateways' client ids to their usernames and gives ingest a listener and credential of its own."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ingest.broker_config import gateway_password, write_broker_config
from tests.servers import Mosquitto

pytestmark = pytest.mark.integration

KEY = "test-provisioning-key"


class Client:
    """A connected MQTT v5 client that records its disconnections and messages."""

    def __init__(
        self, port: int, username: str, password: str, *, client_id: str, persistent: bool = False
    ) -> None:
        self.disconnects: list[int] = []
        self.messages: list[str] = []
        self.code: int | None = None
        self._connected = threading.Event()
        self.c = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        self.c.username_pw_set(username, password)
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = lambda _c, _u, _f, rc, _p: self.disconnects.append(rc.value)
        self.c.on_message = lambda _c, _u, m: self.messages.append(m.topic)
        properties = Properties(PacketTypes.CONNECT)
        if persistent:
            properties.SessionExpiryInterval = 3600
        self.c.connect("127.0.0.1", port, clean_start=not persistent, properties=properties)
        self.c.loop_start()
        assert self._connected.wait(5)

    def _on_connect(self, _c, _u, _f, rc, _p) -> None:  # type: ignore[no-untyped-def]
        self.code = rc.value
        self._connected.set()

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


@pytest.fixture
def broker(tmp_path: Path, make_mosquitto: Callable[..., Mosquitto]) -> Mosquitto:
    write_broker_config(
        gateway_ids=["gw-1", "gw-2"],
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
    )


def _gateway(broker: Mosquitto, gateway_id: str, client_id: str) -> Client:
    return Client(broker.port, gateway_id, gateway_password(KEY, gateway_id), client_id=client_id)


def test_a_gateway_using_ingests_client_id_does_not_knock_ingest_off(broker: Mosquitto) -> None:
    ingest = Client(
        broker.ingest_port, "ingest", "ingest-secret", client_id="homesafe-ingest", persistent=True
    )
    assert ingest.code == 0
    ingest.c.subscribe("homesafe/v1/gw/#", qos=1)
    time.sleep(0.3)
    hostile = _gateway(broker, "gw-1", "homesafe-ingest")
    time.sleep(0.5)
    assert ingest.disconnects == []  # the session was not taken over
    hostile.c.publish("homesafe/v1/gw/gw-1/telemetry", b"{}", qos=1).wait_for_publish(5)
    time.sleep(0.5)
    assert ingest.messages == ["homesafe/v1/gw/gw-1/telemetry"]
    for c in (hostile, ingest):
        c.close()


def test_a_gateway_using_another_gateways_client_id_does_not_knock_it_off(
    broker: Mosquitto,
) -> None:
    victim = _gateway(broker, "gw-2", "gw-2")
    hostile = _gateway(broker, "gw-1", "gw-2")
    time.sleep(0.5)
    assert victim.code == 0
    assert victim.disconnects == []
    for c in (hostile, victim):
        c.close()


def test_a_gateway_cannot_sign_in_on_ingests_listener(broker: Mosquitto) -> None:
    hostile = Client(
        broker.ingest_port, "gw-1", gateway_password(KEY, "gw-1"), client_id=f"x{uuid.uuid4()}"
    )
    assert hostile.code != 0
    hostile.c.loop_stop()


def test_ingest_cannot_sign_in_on_the_gateways_listener(broker: Mosquitto) -> None:
    wrong = Client(broker.port, "ingest", "ingest-secret", client_id="homesafe-ingest")
    assert wrong.code != 0
    wrong.c.loop_stop()


def test_broker_config_writes_ingests_own_files_and_skips_reserved_gateway_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from homesafe.cli import main
    from tests.factories import homes_csv

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOMESAFE_DATABASE_URL", f"sqlite:///{tmp_path / 'cases.db'}")
    monkeypatch.setenv("HOMESAFE_TELEMETRY_URL", f"sqlite:///{tmp_path / 't.db'}")
    monkeypatch.setenv("HOMESAFE_MQTT_URL", "mqtt://ingest:pw@127.0.0.1:1884")
    monkeypatch.setenv("HOMESAFE_GATEWAY_KEY", KEY)
    homes = homes_csv(homes=2, sensors_per_home=1).replace("gw-0002", "homesafe-ingest-2")
    (tmp_path / "homes.csv").write_text(homes)
    assert main(["db", "upgrade"]) == 0
    assert main(["registry", "import", "homes.csv"]) == 0
    assert (
        main(
            [
                "broker-config",
                "--password-file",
                "passwd",
                "--acl-file",
                "acl",
                "--ingest-password-file",
                "ingest.passwd",
                "--ingest-acl-file",
                "ingest.acl",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert "skipped gateway homesafe-ingest-2" in captured.err
    assert [line.split(":")[0] for line in (tmp_path / "passwd").read_text().splitlines()] == [
        "gw-0001"
    ]
    assert [
        line.split(":")[0] for line in (tmp_path / "ingest.passwd").read_text().splitlines()
    ] == ["ingest"]
    assert "user ingest" not in (tmp_path / "acl").read_text()
    assert "topic read homesafe/v1/gw/#" in (tmp_path / "ingest.acl").read_text()
