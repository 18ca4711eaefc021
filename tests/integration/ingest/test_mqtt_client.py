"""Ingest's own MQTT subscriber against real Mosquitto 2 (MQTT 5 and 3.1.1) and the embedded
amqtt broker (3.1.1): persistent sessions, QoS 1 redelivery of what was not acknowledged,
shared subscriptions, reconnects across a broker restart, keepalive, refused credentials, TLS."""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from homesafe.embedded_broker import EmbeddedBroker
from ingest.broker_config import write_broker_config
from ingest.mqtt_client import AckToken, Delivered, MqttSubscriber
from tests.servers import Mosquitto, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

TOPIC = "homesafe/v1/gw/{}/telemetry"


def eventually(check: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


class Inbox:
    """What a subscriber delivered, and (optionally) acks for each message as it comes."""

    def __init__(self, *, ack: bool) -> None:
        self.messages: list[Delivered] = []
        self.lock = threading.Lock()
        self.auto_ack = ack
        self.client: MqttSubscriber | None = None

    def __call__(self, messages: list[Delivered]) -> None:
        with self.lock:
            self.messages.extend(messages)
        if self.auto_ack and self.client is not None:
            self.client.ack([token for _t, _p, token in messages if token is not None])

    def payloads(self) -> list[bytes]:
        with self.lock:
            return [payload for _topic, payload, _token in self.messages]

    def tokens(self) -> list[AckToken]:
        with self.lock:
            return [token for _t, _p, token in self.messages if token is not None]


def subscriber(
    host: str,
    port: int,
    inbox: Inbox,
    *,
    client_id: str | None = None,
    protocol: str = "5",
    topic: str = "homesafe/v1/gw/+/telemetry",
    **kwargs: object,
) -> MqttSubscriber:
    client = MqttSubscriber(
        host=host,
        port=port,
        client_id=client_id or f"sub-{uuid.uuid4().hex[:8]}",
        subscriptions=[(topic, 1)],
        on_messages=inbox,
        protocol=protocol,
        session_expiry_s=3600 if protocol == "5" else 0,
        **kwargs,  # type: ignore[arg-type]
    )
    inbox.client = client
    return client


def publish(host: str, port: int, count: int, *, gateway: str = "gw-1", start: int = 0) -> None:
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"pub-{uuid.uuid4().hex[:8]}",
        protocol=MQTTProtocolVersion.MQTTv311,
    )
    client.connect(host, port)
    client.loop_start()
    try:
        for n in range(start, start + count):
            client.publish(TOPIC.format(gateway), f"m{n}".encode(), qos=1).wait_for_publish(10)
    finally:
        client.loop_stop()
        client.disconnect()


def numbers(payloads: list[bytes]) -> list[int]:
    return [int(p[1:]) for p in payloads]


@pytest.fixture
def broker(make_mosquitto: Callable[..., Mosquitto]) -> Mosquitto:
    return make_mosquitto(persistence=True)


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_a_persistent_session_receives_what_was_published_while_it_was_away(
    broker: Mosquitto, protocol: str
) -> None:
    inbox = Inbox(ack=True)
    client = subscriber(broker.host, broker.port, inbox, client_id="kept", protocol=protocol)
    client.start()
    assert client.subscribed.wait(10)
    assert client.session_present is False
    client.stop()
    publish(broker.host, broker.port, 300)
    client.start()
    eventually(lambda: len(inbox.payloads()) == 300)
    assert client.session_present is True
    assert numbers(inbox.payloads()) == list(range(300))
    client.stop()


def test_what_was_not_acknowledged_is_redelivered_after_a_lost_connection(
    broker: Mosquitto,
) -> None:
    inbox = Inbox(ack=False)
    client = subscriber(broker.host, broker.port, inbox, client_id="redeliver")
    client.start()
    assert client.subscribed.wait(10)
    publish(broker.host, broker.port, 20)
    eventually(lambda: len(inbox.payloads()) == 20)
    first_tokens = inbox.tokens()
    client.ack(first_tokens[:5])  # five durable, fifteen not
    time.sleep(0.5)
    client.kill_connection()  # a crash as the broker sees it
    eventually(lambda: len(inbox.payloads()) == 35)
    assert numbers(inbox.payloads()[20:]) == list(range(5, 20))
    # Acks of the first connection are stale now: they must not acknowledge anything.
    client.ack(first_tokens)
    client.ack(inbox.tokens()[20:])
    time.sleep(0.5)
    client.kill_connection()
    assert client.connected.wait(10)
    time.sleep(1.0)
    assert len(inbox.payloads()) == 35  # nothing more: all acknowledged on the second connection
    client.stop()


def test_a_shared_subscription_splits_the_stream_between_its_members(broker: Mosquitto) -> None:
    inboxes = [Inbox(ack=True), Inbox(ack=True)]
    clients = [
        subscriber(
            broker.host, broker.port, inbox, topic="$share/ingest/homesafe/v1/gw/+/telemetry"
        )
        for inbox in inboxes
    ]
    for client in clients:
        client.start()
        assert client.subscribed.wait(10)
    publish(broker.host, broker.port, 200)
    eventually(lambda: sum(len(inbox.payloads()) for inbox in inboxes) == 200)
    assert all(inbox.payloads() for inbox in inboxes)
    every = sorted(numbers(inboxes[0].payloads()) + numbers(inboxes[1].payloads()))
    assert every == list(range(200))
    for client in clients:
        client.stop()


def test_it_reconnects_to_a_restarted_broker_and_keeps_its_session(broker: Mosquitto) -> None:
    inbox = Inbox(ack=True)
    client = subscriber(broker.host, broker.port, inbox, client_id="restart")
    client.start()
    assert client.subscribed.wait(10)
    publish(broker.host, broker.port, 10)
    eventually(lambda: len(inbox.payloads()) == 10)
    broker.restart()
    eventually(lambda: client.subscribed.is_set(), timeout_s=40)
    publish(broker.host, broker.port, 10, start=10)
    eventually(lambda: len(inbox.payloads()) >= 20)
    assert set(numbers(inbox.payloads())) == set(range(20))
    assert client.session_present is True
    client.stop()


def test_an_idle_connection_is_kept_alive(broker: Mosquitto) -> None:
    inbox = Inbox(ack=True)
    client = subscriber(broker.host, broker.port, inbox, keepalive_s=1)
    client.start()
    assert client.subscribed.wait(10)
    time.sleep(3.5)  # Mosquitto drops a client silent for 1.5 keepalives
    publish(broker.host, broker.port, 1)
    eventually(lambda: len(inbox.payloads()) == 1)
    assert "timeout" not in broker.log_text().lower().split("exiting")[0]
    client.stop()


def test_refused_credentials_keep_it_retrying_without_connecting(
    make_mosquitto: Callable[..., Mosquitto], tmp_path: Path
) -> None:
    password_file, acl_file = tmp_path / "passwd", tmp_path / "acl"
    write_broker_config(
        gateway_ids=[],
        password_file=password_file,
        acl_file=acl_file,
        gateway_key="k" * 32,
        ingest_user="ingest",
        ingest_password="right",
    )
    broker = make_mosquitto(password_file=password_file, acl_file=acl_file)
    inbox = Inbox(ack=True)
    wrong = subscriber(broker.host, broker.port, inbox, username="ingest", password="wrong")
    wrong.start()
    time.sleep(1.5)
    assert not wrong.connected.is_set()
    wrong.stop()
    right = subscriber(broker.host, broker.port, inbox, username="ingest", password="right")
    right.start()
    assert right.subscribed.wait(10)
    right.stop()


def test_tls_to_mosquitto(
    make_mosquitto: Callable[..., Mosquitto], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    broker = make_mosquitto()
    broker.config_path.write_text(
        broker.config_path.read_text() + f"certfile {cert}\nkeyfile {key}\n"
    )
    broker.restart()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust our own certificate
    inbox = Inbox(ack=True)
    client = subscriber("127.0.0.1", broker.port, inbox, tls=True)
    client.start()
    assert client.subscribed.wait(10)
    publisher = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    publisher.tls_set(ca_certs=str(cert))
    publisher.connect("127.0.0.1", broker.port)
    publisher.loop_start()
    for n in range(50):
        publisher.publish(TOPIC.format("gw-1"), f"m{n}".encode(), qos=1).wait_for_publish(10)
    publisher.loop_stop()
    publisher.disconnect()
    eventually(lambda: len(inbox.payloads()) == 50)
    client.stop()


@pytest.fixture
def amqtt() -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker(port=free_port())
    broker.start()
    yield broker
    broker.stop()


def test_the_embedded_amqtt_broker_over_3_1_1(amqtt: EmbeddedBroker) -> None:
    # amqtt 0.12 marks every session anonymous under its AnonymousAuthPlugin (the embedded
    # broker's setting) and forgets it on disconnect: no session outlives a connection there,
    # whatever the client asks. What it does serve: 3.1.1, QoS 1, acks, reconnects.
    inbox = Inbox(ack=True)
    connects: list[bool] = []
    client = subscriber(
        amqtt.host,
        amqtt.port,
        inbox,
        client_id="embedded",
        protocol="3.1.1",
        on_connect=connects.append,
    )
    client.start()
    assert client.subscribed.wait(10)
    publish(amqtt.host, amqtt.port, 100)
    eventually(lambda: len(inbox.payloads()) == 100)
    assert numbers(inbox.payloads()) == list(range(100))
    client.kill_connection()
    eventually(lambda: len(connects) == 2 and client.subscribed.is_set())
    publish(amqtt.host, amqtt.port, 20, start=100)
    eventually(lambda: len(inbox.payloads()) == 120)
    assert numbers(inbox.payloads()) == list(range(120))
    client.stop()
