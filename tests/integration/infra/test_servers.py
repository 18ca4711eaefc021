"""The server fixtures start real Mosquitto, InfluxDB and PostgreSQL, and restart them in place."""

from __future__ import annotations

import queue
import subprocess
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion

from tests.servers import (
    Influx,
    Mosquitto,
    ServerUnavailable,
    create_postgres_database,
    drop_postgres_database,
    find_binary,
    port_open,
)

pytestmark = pytest.mark.integration


class _Client:
    """A paho MQTT v5 client that hands received messages to a queue."""

    def __init__(
        self, broker: Mosquitto, *, username: str | None = None, password: str | None = None
    ):
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.connected: queue.Queue[int] = queue.Queue()
        self.subscribed: queue.Queue[list[int]] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.on_connect = lambda _c, _u, _f, rc, _p: self.connected.put(rc.value)
        self.client.on_message = lambda _c, _u, m: self.messages.put(m)
        self.client.on_subscribe = lambda _c, _u, _mid, rcs, _p: self.subscribed.put(
            [rc.value for rc in rcs]
        )
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.rc = self.connected.get(timeout=10)

    def subscribe(self, topic: str) -> None:
        self.client.subscribe(topic, qos=1)
        assert self.subscribed.get(timeout=10) == [1]

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(timeout=10)
        assert info.is_published()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_mosquitto_round_trips_a_qos1_message_over_mqtt5(mosquitto: Mosquitto) -> None:
    assert mosquitto.url == f"mqtt://127.0.0.1:{mosquitto.port}"
    sub, pub = _Client(mosquitto), _Client(mosquitto)
    try:
        assert (sub.rc, pub.rc) == (0, 0)
        sub.subscribe("homesafe/v1/gw/+/telemetry")
        pub.publish("homesafe/v1/gw/gw-1/telemetry", b'{"v": 1}')
        msg = sub.messages.get(timeout=10)
        assert (msg.topic, msg.payload, msg.qos) == (
            "homesafe/v1/gw/gw-1/telemetry",
            b'{"v": 1}',
            1,
        )
    finally:
        sub.close()
        pub.close()


def test_mosquitto_with_password_file_and_acl_enforces_both(
    make_mosquitto: Callable[..., Mosquitto], tmp_path: Path
) -> None:
    passwd = tmp_path / "passwd"
    subprocess.run(
        [find_binary("mosquitto_passwd", "NONE_SET"), "-b", "-c", str(passwd), "gw-1", "pw1"],
        check=True,
    )
    subprocess.run(
        [find_binary("mosquitto_passwd", "NONE_SET"), "-b", str(passwd), "ingest", "pw2"],
        check=True,
    )
    acl = tmp_path / "acl"
    acl.write_text(
        "user ingest\ntopic read homesafe/v1/gw/#\n\npattern write homesafe/v1/gw/%u/#\n"
    )
    broker = make_mosquitto(password_file=passwd, acl_file=acl)

    anonymous = _Client(broker)
    wrong = _Client(broker, username="gw-1", password="nope")
    assert anonymous.rc != 0
    assert wrong.rc != 0
    anonymous.close()
    wrong.close()

    ingest = _Client(broker, username="ingest", password="pw2")
    gateway = _Client(broker, username="gw-1", password="pw1")
    try:
        ingest.subscribe("homesafe/v1/gw/#")
        gateway.publish("homesafe/v1/gw/gw-2/telemetry", b"not mine")  # denied by the ACL
        gateway.publish("homesafe/v1/gw/gw-1/telemetry", b"mine")
        msg = ingest.messages.get(timeout=10)
        assert (msg.topic, msg.payload) == ("homesafe/v1/gw/gw-1/telemetry", b"mine")
        with pytest.raises(queue.Empty):
            ingest.messages.get(timeout=0.5)
    finally:
        ingest.close()
        gateway.close()


def test_mosquitto_restarts_on_the_same_port_and_keeps_retained_messages(
    make_mosquitto: Callable[..., Mosquitto],
) -> None:
    broker = make_mosquitto(persistence=True)
    port = broker.port
    pub = _Client(broker)
    pub.publish("homesafe/v1/gw/gw-1/status", b'{"state": "online"}', retain=True)
    pub.close()

    broker.restart()

    assert broker.port == port
    assert broker.running
    assert port_open("127.0.0.1", port)
    sub = _Client(broker)
    try:
        sub.subscribe("homesafe/v1/gw/+/status")
        msg = sub.messages.get(timeout=10)
        assert (msg.payload, msg.retain) == (b'{"state": "online"}', True)
    finally:
        sub.close()


def test_influxdb_writes_line_protocol_and_reads_it_back(influxdb: Influx) -> None:
    assert influxdb.url == f"influxdb://127.0.0.1:{influxdb.port}/telemetry"
    assert influxdb.http_url == f"http://127.0.0.1:{influxdb.port}"
    status = influxdb.write(
        "probe,gateway=gw-1,sensor=s1 temperature_c=17.4,humidity_pct=71.5 1795545389"
    )
    assert status == 204

    answer = influxdb.query(
        "SELECT temperature_c, humidity_pct FROM probe WHERE sensor = 's1'", db="telemetry"
    )

    series = answer["results"][0]["series"][0]
    assert series["columns"] == ["time", "temperature_c", "humidity_pct"]
    assert series["values"] == [[1795545389, 17.4, 71.5]]


def test_influx_url_is_a_fresh_database_of_its_own(influxdb: Influx, influx_url: str) -> None:
    name = influx_url.rsplit("/", 1)[-1]
    assert influx_url == f"influxdb://127.0.0.1:{influxdb.port}/{name}"
    assert name.startswith("telemetry_")
    assert "series" not in influxdb.query("SELECT * FROM probe", db=name)["results"][0]
    assert influxdb.write("probe,sensor=s2 humidity_pct=80 1795545600", db=name) == 204
    answer = influxdb.query("SELECT humidity_pct FROM probe", db=name)
    assert answer["results"][0]["series"][0]["values"] == [[1795545600, 80]]


def test_influxd_restarts_on_the_same_port_and_keeps_its_data(
    make_influxd: Callable[[], Influx],
) -> None:
    server = make_influxd()
    port, rpc_port = server.port, server.rpc_port
    assert server.write("probe,sensor=s9 wme_pct=21.5 1795545000") == 204

    server.restart()

    assert (server.port, server.rpc_port) == (port, rpc_port)
    answer = server.query("SELECT wme_pct FROM probe", db="telemetry")
    assert answer["results"][0]["series"][0]["values"] == [[1795545000, 21.5]]


def test_two_influxd_run_side_by_side(make_influxd: Callable[[], Influx]) -> None:
    first, second = make_influxd(), make_influxd()
    assert len({first.port, first.rpc_port, second.port, second.rpc_port}) == 4
    assert first.write("probe v=1 1795545000") == 204
    assert "series" not in second.query("SELECT * FROM probe", db="telemetry")["results"][0]


def test_postgres_url_is_a_throwaway_database_that_takes_tables(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql+psycopg://")
    engine = sa.create_engine(postgres_url)
    try:
        with engine.begin() as conn:
            name = conn.execute(sa.text("SELECT current_database()")).scalar_one()
            conn.execute(sa.text("CREATE TABLE probe (id integer PRIMARY KEY, note text)"))
            conn.execute(sa.text("INSERT INTO probe VALUES (1, 'hello')"))
            assert conn.execute(sa.text("SELECT note FROM probe")).scalar_one() == "hello"
            conn.execute(sa.text("DROP TABLE probe"))
    finally:
        engine.dispose()
    assert name.startswith("homesafe_test_")
    assert postgres_url.endswith(f"/{name}")


def test_make_postgres_url_gives_separate_databases(make_postgres_url: Callable[[], str]) -> None:
    first, second = make_postgres_url(), make_postgres_url()
    assert first != second
    engine = sa.create_engine(first)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE only_in_first (id integer)"))
    finally:
        engine.dispose()
    other = sa.create_engine(second)
    try:
        assert sa.inspect(other).get_table_names() == []
    finally:
        other.dispose()


def test_dropping_a_test_database_removes_it_even_while_connected() -> None:
    name, url = create_postgres_database()
    engine = sa.create_engine(url)
    conn = engine.connect()
    try:
        drop_postgres_database(name)
    finally:
        conn.invalidate()
        engine.dispose()
    admin = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres")
    try:
        with admin.connect() as c:
            found = c.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            assert found.first() is None
    finally:
        admin.dispose()


def test_case_db_url_is_a_fresh_empty_database_of_its_kind(case_db_url: str) -> None:
    assert case_db_url.startswith(("sqlite:///", "postgresql+psycopg://"))
    engine = sa.create_engine(case_db_url)
    try:
        assert sa.inspect(engine).get_table_names() == []
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE probe (id integer PRIMARY KEY)"))
        assert sa.inspect(engine).get_table_names() == ["probe"]
    finally:
        engine.dispose()


def test_a_missing_binary_fails_naming_make_test(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ServerUnavailable, match="make test"):
        find_binary("mosquitto", "HOMESAFE_TEST_NOT_SET", extra_dirs=())


def test_a_taken_port_is_refused_at_once(mosquitto: Mosquitto, tmp_path: Path) -> None:
    clash = Mosquitto(tmp_path / "clash", port=mosquitto.port)
    with pytest.raises(ServerUnavailable, match="is in use"):
        clash.start()
    assert not clash.running
    assert mosquitto.running


def test_a_server_that_cannot_start_reports_its_log(tmp_path: Path) -> None:
    broken = Mosquitto(tmp_path / "broken", password_file=tmp_path / "no-such-passwd")
    with pytest.raises(ServerUnavailable, match=r"(?s)exited with status.*no-such-passwd"):
        broken.start()
    assert not broken.running
    assert "no-such-passwd" in broken.log_text()
