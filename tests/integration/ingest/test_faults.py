"""Fault runs, short: `homesafe ingest` processes against real Mosquitto and InfluxDB.

Each run publishes a few seconds of QoS 1 telemetry and checks readings stored == readings
published (nothing lost) — through kill -9 of ingest, a Mosquitto restart, InfluxDB down,
and with two --shared workers splitting one subscription.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.ingest.harness import (
    gateway_ids,
    influx_count,
    make_registry,
    publish,
    start_ingest,
    wait_for_metrics,
    wait_until_stable,
)
from registry.clock import utc_now
from tests.servers import Influx, Mosquitto, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

GATEWAYS = 20
PER_MESSAGE = 4
MESSAGES_PER_GATEWAY = 40  # 3,200 readings at 1,000 readings/s: about 3 s of load
RATE_READINGS_S = 1000.0


class Run:
    def __init__(self, tmp: Path, broker: Mosquitto, influx: Influx) -> None:
        self.tmp, self.broker, self.influx = tmp, broker, influx
        self.database = influx.create_database("faults_").rsplit("/", 1)[-1]
        self.database_url = f"sqlite:///{tmp / 'cases.db'}"
        make_registry(self.database_url, GATEWAYS, PER_MESSAGE)
        self.base_ts = int(utc_now().timestamp()) - 3600
        self.published = GATEWAYS * MESSAGES_PER_GATEWAY * PER_MESSAGE

    def ingest(self, client_id: str = "ingest-a", **kwargs: object):  # type: ignore[no-untyped-def]
        process = start_ingest(
            self.tmp,
            mqtt_url=self.broker.url,
            telemetry_url=f"influxdb://127.0.0.1:{self.influx.port}/{self.database}",
            database_url=self.database_url,
            client_id=client_id,
            metrics_port=free_port(),
            **kwargs,  # type: ignore[arg-type]
        )
        wait_for_metrics(process)
        time.sleep(1.0)  # connected and subscribed
        return process

    def publish(self):  # type: ignore[no-untyped-def]
        return publish(
            self.broker.host,
            self.broker.port,
            gateway_ids(GATEWAYS),
            per_message=PER_MESSAGE,
            messages_per_gateway=MESSAGES_PER_GATEWAY,
            base_ts=self.base_ts,
            processes=1,
            rate_readings_s=RATE_READINGS_S,
        )

    def stored(self) -> int:
        return wait_until_stable(
            self.influx.http_url, self.database, self.published, timeout_s=60, quiet_s=8
        )


@pytest.fixture
def run(
    tmp_path: Path,
    make_mosquitto: Callable[..., Mosquitto],
    make_influxd: Callable[[], Influx],
) -> Run:
    return Run(tmp_path, make_mosquitto(persistence=True), make_influxd())


def finish(publishers: list) -> None:  # type: ignore[type-arg]
    for proc in publishers:
        proc.join(120)
        assert proc.exitcode == 0


def test_kill_9_of_ingest_mid_stream_loses_nothing(run: Run) -> None:
    first = run.ingest()
    publishers = run.publish()
    time.sleep(1.5)
    first.kill()
    time.sleep(0.5)
    second = run.ingest()
    finish(publishers)
    assert run.stored() == run.published
    second.stop()


def test_mosquitto_restart_mid_stream_loses_nothing(run: Run) -> None:
    ingest = run.ingest()
    publishers = run.publish()
    time.sleep(1.5)
    run.broker.restart()
    finish(publishers)
    assert run.stored() == run.published
    ingest.stop()


def test_influxdb_down_mid_stream_spools_then_replays(run: Run) -> None:
    ingest = run.ingest()
    publishers = run.publish()
    time.sleep(1.0)
    run.influx.stop()
    finish(publishers)
    time.sleep(1.0)
    assert ingest.metric("homesafe_ingest_readings_spooled_total") > 0
    run.influx.start()
    assert run.stored() == run.published
    assert ingest.metric("homesafe_ingest_readings_replayed_total") > 0
    ingest.stop()


def test_two_shared_workers_store_every_reading_once_between_them(run: Run) -> None:
    a = run.ingest("ingest-a", shared=True)
    b = run.ingest("ingest-b", shared=True)
    finish(run.publish())
    assert run.stored() == run.published
    time.sleep(1.5)
    written = [w.metric("homesafe_ingest_readings_written_total") for w in (a, b)]
    assert all(n > 0 for n in written), written  # both took part
    assert sum(written) == run.published  # each reading written once between them
    assert influx_count(run.influx.http_url, run.database) == run.published
    a.stop()
    b.stop()
