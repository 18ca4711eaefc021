"""Oversized input is refused before it costs anything (issue 12): HTTP bodies over 1 MiB get
413 before authentication, parsing or any route runs (with or without Content-Length), and the
broker refuses an MQTT packet over 256 KiB before reading it, so ingest never receives it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from api.security import MAX_BODY_BYTES
from ingest.broker_config import gateway_password, write_broker_config
from tests.integration.api.site import Site, build_site
from tests.servers import Mosquitto

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return build_site(tmp_path_factory.mktemp("limits"))


@pytest.mark.parametrize("path", ["/api/v1/reports", "/login", "/admin/users"])
def test_a_large_body_is_refused_before_authentication(site: Site, path: str) -> None:
    big = b"{" + b" " * (MAX_BODY_BYTES + 1) + b"}"
    answer = site.client().post(path, content=big, headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_chunked_body_without_length_is_cut_at_the_limit(site: Site) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(64):
            yield b" " * 65536  # 4 MiB in all, no Content-Length

    answer = site.client().post(
        "/api/v1/reports", content=chunks(), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413


def test_a_small_chunked_body_still_reaches_the_route(site: Site) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"home_id": "H0003", "hazard": "excess_cold", '
        yield b'"source": "staff", "reported_at": "2026-11-02T10:00:00Z", "description": "x"}'

    answer = site.client("officer", bearer=True).post(
        "/api/v1/reports", content=chunks(), headers={"content-type": "application/json"}
    )
    assert answer.status_code in (200, 201), answer.text


def test_the_broker_refuses_a_packet_over_its_limit(
    tmp_path: Path, make_mosquitto: Callable[..., Mosquitto]
) -> None:
    write_broker_config(
        gateway_ids=["gw-1"],
        gateway_key="k",
        password_file=tmp_path / "passwd",
        acl_file=tmp_path / "acl",
        ingest_user="ingest",
        ingest_password="ingest-secret",
        ingest_password_file=tmp_path / "ingest.passwd",
        ingest_acl_file=tmp_path / "ingest.acl",
    )
    broker = make_mosquitto(
        password_file=tmp_path / "passwd",
        acl_file=tmp_path / "acl",
        ingest_password_file=tmp_path / "ingest.passwd",
        ingest_acl_file=tmp_path / "ingest.acl",
    )
    got: list[int] = []
    ingest = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id="homesafe-ingest-limit",
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    ingest.username_pw_set("ingest", "ingest-secret")
    ingest.on_message = lambda _c, _u, m: got.append(len(m.payload))
    ingest.connect(broker.host, broker.ingest_port)
    ingest.subscribe("homesafe/v1/gw/#", qos=1)
    ingest.loop_start()
    gateway = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id="gw-1",
        protocol=MQTTProtocolVersion.MQTTv311,  # told no limit in advance: the broker must act
    )
    gateway.username_pw_set("gw-1", gateway_password("k", "gw-1"))
    gone = threading.Event()
    gateway.on_disconnect = lambda *_a: gone.set()
    gateway.connect(broker.host, broker.port)
    gateway.loop_start()
    time.sleep(0.3)
    gateway.publish("homesafe/v1/gw/gw-1/telemetry", b"x" * 100_000, qos=1)
    gateway.publish("homesafe/v1/gw/gw-1/telemetry", b"x" * (1024 * 1024), qos=1)
    assert gone.wait(5)  # the broker closed the connection on the oversized packet
    time.sleep(0.5)
    assert got == [100_000]  # the small one arrived; the large one never reached ingest
    for c in (gateway, ingest):
        c.loop_stop()
        c.disconnect()
