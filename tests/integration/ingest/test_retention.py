"""Retention on both telemetry stores (SQLite and a real InfluxDB): hourly rollups of final hours,
raw readings let go only after their hours are rolled up, reruns change nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.contract import Reading
from ingest.retention import (
    DAY_S,
    HOUR_S,
    InfluxRetention,
    TelemetryRetention,
    final_before,
    open_retention,
)
from ingest.store import TelemetryStore, open_telemetry_store
from tests.servers import Influx

pytestmark = pytest.mark.integration

NOW_S = int(datetime.now(UTC).timestamp()) // HOUR_S * HOUR_S + 1800
NOW = datetime.fromtimestamp(NOW_S, UTC)
RAW_DAYS = 397


def hour_ago(days: int) -> int:
    """The start of the hour `days` days before NOW."""
    return (NOW_S - days * DAY_S) // HOUR_S * HOUR_S


def at(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def hour_of_readings(days: int) -> list[Reading]:
    """s1: 10, 12, 14 °C and 80, 82, 84 %RH at :00, :20, :40; s2: the damp probe only."""
    start = hour_ago(days)
    return [
        *(
            Reading("gw-1", "s1", start + 1200 * i, 10.0 + 2 * i, 80.0 + 2 * i, None, None, "H1")
            for i in range(3)
        ),
        Reading("gw-1", "s2", start + 600, None, None, 21.5, 64.0, "H1"),
    ]


@pytest.fixture(params=["sqlite", "influxdb"])
def stores(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[TelemetryStore, TelemetryRetention]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'telemetry.db'}"
    else:
        server: Influx = request.getfixturevalue("influxdb")
        url = server.url.rsplit("/", 1)[0] + f"/r_{uuid.uuid4().hex[:12]}"
    store = open_telemetry_store(url)
    store.write([r for days in (450, 400, 100, 10) for r in hour_of_readings(days)])
    retention = open_retention(url)
    yield store, retention
    retention.close()
    store.close()


def raw_at(store: TelemetryStore, days: int) -> list[Reading]:
    return store.query(start=at(hour_ago(days)), end=at(hour_ago(days) + HOUR_S))


def test_rollups_hold_each_sensor_hours_mean_min_max_and_count(stores):
    store, retention = stores
    for _ in range(30):
        if retention.run(now=NOW, raw_days=RAW_DAYS).rolled_until_s is None:
            break
    assert retention.watermark() == final_before(NOW_S)

    old = retention.hourly(start=at(hour_ago(450)), end=at(hour_ago(450) + HOUR_S), home_id="H1")
    assert [(h.sensor, h.hour_ts) for h in old] == [("s1", hour_ago(450)), ("s2", hour_ago(450))]
    s1, s2 = old
    assert s1.figures["temperature_c"] == pytest.approx((12.0, 10.0, 14.0, 3))
    assert s1.figures["humidity_pct"] == pytest.approx((82.0, 80.0, 84.0, 3))
    assert set(s1.figures) == {"temperature_c", "humidity_pct"}
    assert s2.figures == {"wme_pct": (21.5, 21.5, 21.5, 1), "battery_pct": (64.0, 64.0, 64.0, 1)}
    assert len(retention.hourly(start=at(hour_ago(100)), end=at(hour_ago(100) + HOUR_S))) == 2
    assert retention.hourly(start=at(hour_ago(10)), end=NOW) == []  # not final yet
    assert retention.hourly(start=at(hour_ago(450)), end=NOW, sensor="s2", home_id="H9") == []

    # Raw: past the retention it goes (SQLite deletes; InfluxDB's default policy gets the duration).
    assert len(raw_at(store, 100)) == 4
    assert len(raw_at(store, 10)) == 4
    if isinstance(retention, InfluxRetention):
        assert retention.raw_policy()[1] == f"{RAW_DAYS * 24}h0m0s"
    else:
        assert raw_at(store, 450) == []
        assert raw_at(store, 400) == []

    # A rerun (or a second scheduler) changes nothing.
    again = retention.run(now=NOW, raw_days=RAW_DAYS)
    assert again.rollup_rows == 0
    assert retention.hourly(start=at(hour_ago(450)), end=at(hour_ago(450) + HOUR_S)) == old


def test_raw_readings_stay_until_their_hours_are_rolled_up(stores):
    store, retention = stores
    first = retention.run(now=NOW, raw_days=RAW_DAYS)  # rolls up a month from 450 days ago
    assert first.rolled_from_s == hour_ago(450)
    assert first.rolled_until_s is not None
    assert first.rolled_until_s < hour_ago(400)
    assert len(raw_at(store, 400)) == 4  # past retention, but its hour is not rolled up yet
    if isinstance(retention, InfluxRetention):
        assert retention.raw_policy()[1] == "0s"  # the policy waits for the rollups


def test_zero_raw_days_keeps_raw_readings_forever(stores):
    store, retention = stores
    for _ in range(30):
        if retention.run(now=NOW, raw_days=0).rolled_until_s is None:
            break
    assert len(raw_at(store, 450)) == 4
    assert len(retention.hourly(start=at(hour_ago(450)), end=at(hour_ago(450) + HOUR_S))) == 2
