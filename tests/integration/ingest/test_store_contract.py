"""One contract suite for every TelemetryStore adapter: SQLite and a real InfluxDB."""

from __future__ import annotations

import math
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest

from ingest.contract import ID_CHARACTERS, Reading
from ingest.store import (
    ReadingColumns,
    TelemetryStore,
    TelemetryStoreError,
    gateway_part,
    open_telemetry_store,
)
from tests.servers import Influx, free_port

pytestmark = pytest.mark.integration

T0 = 1_795_545_000  # an arbitrary second, well inside InfluxDB's range


def at(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def r(
    sensor: str = "s1",
    ts: int = T0,
    *,
    gateway_id: str = "gw-1",
    home_id: str | None = "h1",
    t: float | None = 18.0,
    h: float | None = 60.0,
    w: float | None = None,
    b: float | None = None,
) -> Reading:
    return Reading(gateway_id, sensor, ts, t, h, w, b, home_id)


@pytest.fixture(params=["sqlite", "influxdb"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'nested' / 'dir' / 'telemetry.db'}"
    server: Influx = request.getfixturevalue("influxdb")
    # A database of this test's own, created by the adapter on first use.
    return server.url.rsplit("/", 1)[0] + f"/t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def store(store_url: str) -> Iterator[TelemetryStore]:
    opened = open_telemetry_store(store_url)
    yield opened
    opened.close()


def everything(store: TelemetryStore, **filters: str) -> list[Reading]:
    return store.query(start=at(T0 - 86400), end=at(T0 + 86400), **filters)


def test_ping_answers(store: TelemetryStore) -> None:
    assert store.ping() is True


def test_written_readings_read_back_exactly(store: TelemetryStore) -> None:
    written = [
        r("s1", T0, t=17.4, h=71.5),
        r("s2", T0, t=16.9, h=78.0, w=21.5, b=64.0),
        r("s1", T0 + 300, t=-40.0, h=0.0, w=100.0, b=0.0),
        r("s3", T0 + 60, t=85.0, h=100.0, b=0.0001),
    ]
    store.write(written)
    assert everything(store) == sorted(written, key=lambda x: (x.ts, x.sensor))


def test_the_same_reading_twice_is_stored_once(store: TelemetryStore) -> None:
    store.write([r("s1", T0), r("s2", T0)])
    store.write([r("s1", T0), r("s2", T0)])
    store.write([r("s1", T0, t=18.5)])  # a redelivery with a corrected value overwrites
    assert everything(store) == [r("s1", T0, t=18.5), r("s2", T0)]


def test_a_repeat_with_fewer_fields_keeps_the_fields_it_leaves_out(store: TelemetryStore) -> None:
    store.write([r("s1", T0, t=18.0, h=None)])
    store.write([r("s1", T0, t=None, h=55.0)])
    assert everything(store) == [r("s1", T0, t=18.0, h=55.0)]


def test_absent_measurements_stay_absent_not_zero(store: TelemetryStore) -> None:
    store.write(
        [r("t", T0, t=19.0, h=None), r("h", T0, t=None, h=66.6), r("w", T0, t=None, h=None, w=12.5)]
    )
    got = {x.sensor: x for x in everything(store)}
    assert (got["t"].temperature_c, got["t"].humidity_pct, got["t"].wme_pct) == (19.0, None, None)
    assert (got["h"].temperature_c, got["h"].humidity_pct) == (None, 66.6)
    assert (got["w"].wme_pct, got["w"].temperature_c, got["w"].battery_pct) == (12.5, None, None)


def test_time_window_is_start_inclusive_end_exclusive(store: TelemetryStore) -> None:
    store.write([r("s1", T0 - 1), r("s1", T0), r("s1", T0 + 59), r("s1", T0 + 60)])
    got = store.query(start=at(T0), end=at(T0 + 60))
    assert [x.ts for x in got] == [T0, T0 + 59]
    # Sub-second bounds: a reading at T0 is before T0 + 0.5 s; one at T0 + 60 is before +60.5 s.
    got = store.query(
        start=at(T0) + timedelta(milliseconds=500), end=at(T0 + 60) + timedelta(milliseconds=500)
    )
    assert [x.ts for x in got] == [T0 + 59, T0 + 60]
    assert store.query(start=at(T0), end=at(T0)) == []
    assert store.query(start=at(T0 + 10), end=at(T0)) == []


def test_window_takes_any_timezone(store: TelemetryStore) -> None:
    store.write([r("s1", T0)])
    from zoneinfo import ZoneInfo

    london = at(T0).astimezone(ZoneInfo("America/New_York"))
    assert [x.ts for x in store.query(start=london, end=london + timedelta(seconds=1))] == [T0]


def test_naive_datetimes_are_refused(store: TelemetryStore) -> None:
    naive = datetime(2026, 1, 1)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="timezone-aware"):
        store.query(start=naive, end=naive + timedelta(days=1))


def test_results_are_ordered_by_ts_then_sensor(store: TelemetryStore) -> None:
    store.write(
        [
            r("b", T0 + 1),
            r("a", T0 + 1),
            r("c", T0),
            r("a", T0 + 2, gateway_id="gw-0"),
            r("a", T0 + 2, gateway_id="gw-1"),
        ]
    )
    assert [(x.ts, x.sensor, x.gateway_id) for x in everything(store)] == [
        (T0, "c", "gw-1"),
        (T0 + 1, "a", "gw-1"),
        (T0 + 1, "b", "gw-1"),
        (T0 + 2, "a", "gw-0"),
        (T0 + 2, "a", "gw-1"),
    ]


def test_filters_by_home_gateway_and_sensor(store: TelemetryStore) -> None:
    store.write(
        [
            r("s1", T0, gateway_id="gw-a", home_id="home-a"),
            r("s2", T0, gateway_id="gw-a", home_id="home-a"),
            r("s1", T0, gateway_id="gw-b", home_id="home-b"),
            r("s1", T0 + 5, gateway_id="gw-b", home_id="home-b"),
        ]
    )
    assert {(x.gateway_id, x.sensor) for x in everything(store, home_id="home-a")} == {
        ("gw-a", "s1"),
        ("gw-a", "s2"),
    }
    assert [x.ts for x in everything(store, gateway_id="gw-b")] == [T0, T0 + 5]
    assert [x.gateway_id for x in everything(store, sensor="s1")] == ["gw-a", "gw-b", "gw-b"]
    assert [x.ts for x in everything(store, home_id="home-b", sensor="s1", gateway_id="gw-b")] == [
        T0,
        T0 + 5,
    ]
    assert everything(store, home_id="home-a", gateway_id="gw-b") == []
    assert everything(store, home_id="nowhere") == []


def test_a_set_of_gateways_is_read_in_one_query(store: TelemetryStore) -> None:
    store.write(
        [
            r("s1", T0, gateway_id="gw-a"),
            r("s1", T0, gateway_id="gw-b"),
            r("s2", T0 + 5, gateway_id="gw-c"),
            r("s1", T0 + 9, gateway_id="gw-b"),
        ]
    )
    got = everything(store, gateway_ids=["gw-b", "gw-c", "gw-x' OR '1'='1"])
    assert [(x.gateway_id, x.ts) for x in got] == [("gw-b", T0), ("gw-c", T0 + 5), ("gw-b", T0 + 9)]
    assert everything(store, gateway_ids=[]) == []
    assert [x.gateway_id for x in everything(store, gateway_ids=["gw-a"], sensor="s1")] == ["gw-a"]


ODD_HOME_IDS = [
    "home with spaces",
    "a,b=c",
    "quote'single",
    'quote"double',
    "back\\slash in the middle",
    "=leading equals",
    "é-ü-☂-家",
    "x' OR '1'='1",
    '" OR 1=1 --',
    "semi;colon",
]


def test_odd_home_ids_round_trip_and_filter_exactly(store: TelemetryStore) -> None:
    written = [r(f"s{i}", T0, home_id=home) for i, home in enumerate(ODD_HOME_IDS)]
    store.write(written)
    assert everything(store) == written
    for reading in written:
        assert everything(store, home_id=reading.home_id or "") == [reading]


def test_filter_values_are_never_interpreted(store: TelemetryStore) -> None:
    store.write([r("s1", T0), r("s2", T0)])
    for hostile in ["s1' OR sensor =~ /.*/ OR sensor = 'x", "s1\\", "s1\n", "' ; DROP DATABASE"]:
        assert everything(store, sensor=hostile) == []
    assert len(everything(store)) == 2


def test_a_reading_without_home_is_stored(store: TelemetryStore) -> None:
    store.write([r("s1", T0, home_id=None)])
    assert everything(store) == [r("s1", T0, home_id=None)]
    assert everything(store, home_id="h1") == []


def test_empty_write_is_harmless(store: TelemetryStore) -> None:
    store.write([])
    assert everything(store) == []


def test_a_large_batch_round_trips(store: TelemetryStore) -> None:
    written = [r(f"s{i % 400}", T0 + i // 400, h=float(i % 100)) for i in range(12_000)]
    store.write(written)
    got = everything(store)
    assert len(got) == 12_000
    assert got == sorted(written, key=lambda x: (x.ts, x.sensor))


def test_concurrent_writers_and_readers(store: TelemetryStore) -> None:
    errors: list[BaseException] = []

    def writer(offset: int) -> None:
        try:
            for k in range(20):
                store.write([r(f"w{offset}", T0 + k * 10 + j) for j in range(10)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(20):
                everything(store)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(3)]
    threads += [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(everything(store)) == 3 * 200


# --- failures ------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "influxdb"])
def dead_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], TelemetryStore]:
    """A store whose backend has gone away."""
    if request.param == "sqlite":

        def make() -> TelemetryStore:
            opened = open_telemetry_store(f"sqlite:///{tmp_path / 'gone.db'}")
            opened.close()
            return opened

        return make

    def make_influx() -> TelemetryStore:
        return open_telemetry_store(f"influxdb://127.0.0.1:{free_port()}/telemetry")

    return make_influx


def test_a_store_that_is_down_raises_telemetry_store_error(
    dead_store: Callable[[], TelemetryStore],
) -> None:
    store = dead_store()
    assert store.ping() is False
    with pytest.raises(TelemetryStoreError):
        store.write([r()])
    with pytest.raises(TelemetryStoreError):
        everything(store)


def test_influx_that_stops_mid_life_raises_then_recovers(
    make_influxd: Callable[[], Influx],
) -> None:
    server = make_influxd()
    store = open_telemetry_store(server.url)
    try:
        store.write([r("s1", T0)])
        server.stop()
        with pytest.raises(TelemetryStoreError):
            store.write([r("s2", T0)])
        assert store.ping() is False
        server.start()
        store.write([r("s2", T0)])
        assert [x.sensor for x in everything(store)] == ["s1", "s2"]
    finally:
        store.close()


def test_influx_refusing_a_write_raises_telemetry_store_error(influxdb: Influx) -> None:
    database = f"t_{uuid.uuid4().hex[:12]}"
    store = open_telemetry_store(influxdb.url.rsplit("/", 1)[0] + f"/{database}")
    try:
        store.write([r("s0", T0)])  # creates the database
        # Another writer made temperature_c an integer field: InfluxDB answers 400.
        # (a month later, so in a shard of its own where the first type written wins).
        later = T0 + 30 * 86400
        conflict = f"reading,gateway_id=gw-1,home_id=h1,sensor=s9 temperature_c=1i {later}"
        response = httpx.post(
            f"{influxdb.http_url}/write",
            params={"db": database, "precision": "s"},
            content=conflict,
        )
        assert response.status_code == 204, response.text
        with pytest.raises(TelemetryStoreError, match="400"):
            store.write([r("s1", later), r("s2", later)])
    finally:
        store.close()


def test_influx_refuses_tag_values_line_protocol_cannot_carry(influxdb: Influx) -> None:
    store = open_telemetry_store(influxdb.url.rsplit("/", 1)[0] + f"/t_{uuid.uuid4().hex[:12]}")
    try:
        for home_id in ["ends with backslash\\", "new\nline", "back\\,comma"]:
            with pytest.raises(ValueError, match="line protocol"):
                store.write([r("s1", T0, home_id=home_id)])
    finally:
        store.close()


def test_sqlite_url_makes_parent_directories(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "t.db"
    store = open_telemetry_store(f"sqlite:///{path}")
    try:
        store.write([r()])
        assert path.exists()
    finally:
        store.close()


def test_sqlite_url_may_be_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_telemetry_store("sqlite:///var/homesafe/telemetry.db")
    try:
        store.write([r()])
        assert (tmp_path / "var" / "homesafe" / "telemetry.db").exists()
    finally:
        store.close()


@pytest.mark.parametrize(
    "url", ["mysql://x/y", "influxdb://host:8086/", "influxdb:///db", "sqlite://", "sqlite:///"]
)
def test_unusable_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="telemetry URL"):
        open_telemetry_store(url)


HOSTILE = ["NaN", "null", "1", "a,b=c", 'q"uote', "x' OR '1'='1", " lead", "é☂"]


@pytest.mark.parametrize("chunk_rows", [3, 10_000])
def test_short_and_long_windows_read_the_same_rows(
    store: TelemetryStore, chunk_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """InfluxDB answers a long window grouped by series and a short one row by row, in chunks."""
    import ingest.influx

    monkeypatch.setattr(ingest.influx, "CHUNK_ROWS", chunk_rows)
    written = [
        r(sensor, T0 + k * 900, gateway_id=gateway, home_id=home, t=t, h=h, w=w, b=b)
        for k in range(4)
        for sensor, gateway, home, t, h, w, b in [
            ("s1", "gw-1", "h1", 18.5, None, None, 88.0),
            (HOSTILE[k], HOSTILE[-1 - k], None, None, 0.1 + 0.2, 21.5, None),
            ("s2", HOSTILE[k], HOSTILE[k + 1], -3.25, 100.0, None, None),
        ]
    ]
    store.write(written)
    expected = sorted(written, key=lambda x: (x.ts, x.sensor, x.gateway_id))
    short = store.query(start=at(T0), end=at(T0 + 3600))
    long = store.query(start=at(T0 - 12 * 3600), end=at(T0 + 12 * 3600))
    assert short == long == expected
    assert all(type(x.ts) is int and type(x.temperature_c) in (float, type(None)) for x in long)
    assert store.query(start=at(T0 - 12 * 3600), end=at(T0 - 3600)) == []
    assert store.query(start=at(T0 - 24 * 3600), end=at(T0 - 3600)) == []


def _as_readings(columns: ReadingColumns) -> list[Reading]:
    """Columns back to Readings (no home_id: columns do not carry it), in query() order."""
    out = [
        Reading(g, s, int(ts), *(None if math.isnan(v) else float(v) for v in values))
        for g, s, ts, values in zip(
            columns.gateway_id.tolist(),
            columns.sensor.tolist(),
            columns.ts.tolist(),
            columns.values,
            strict=True,
        )
    ]
    return sorted(out, key=lambda x: (x.ts, x.sensor, x.gateway_id))


def test_query_columns_holds_the_readings_query_returns(store: TelemetryStore) -> None:
    """The detectors' column read: the same readings as query(), short and long windows alike
    (InfluxDB answers the long one grouped by series), gateway sets, absent measurements NaN."""
    written = [
        Reading(gateway, sensor, T0 + k * 900, t, h, w, b, home)
        for k in range(4)
        for sensor, gateway, home, t, h, w, b in [
            ("s1", "gw-1", "h1", 18.5, None, None, 88.0),
            (HOSTILE[k], HOSTILE[-1 - k], None, None, 0.1 + 0.2, 21.5, None),
            ("s2", "gw-2", "h2", -3.25, 100.0, 19.0, 50.0),
        ]
    ]
    store.write(written)
    expected = sorted(
        (x._replace(home_id=None) for x in written), key=lambda x: (x.ts, x.sensor, x.gateway_id)
    )
    short = store.query_columns(start=at(T0), end=at(T0 + 3600))
    long = store.query_columns(start=at(T0 - 12 * 3600), end=at(T0 + 12 * 3600))
    assert _as_readings(short) == _as_readings(long) == expected
    assert short.ts.dtype == np.int64
    assert short.values.shape == (len(expected), 4)
    some = store.query_columns(start=at(T0), end=at(T0 + 3600), gateway_ids=["gw-2", "gw-1"])
    assert _as_readings(some) == [x for x in expected if x.gateway_id in ("gw-1", "gw-2")]
    assert len(store.query_columns(start=at(T0), end=at(T0 + 3600), gateway_ids=[])) == 0
    assert len(store.query_columns(start=at(T0 - 7200), end=at(T0 - 3600))) == 0
    assert len(store.query_columns(start=at(T0 + 10), end=at(T0))) == 0


@pytest.mark.parametrize("parts", [2, 3])
def test_parts_of_a_column_read_cover_every_gateway_once(store: TelemetryStore, parts: int) -> None:
    """A fleet-wide read split into parts (run side by side by the detectors): each gateway in
    exactly the part `gateway_part` names, and the parts together hold every reading once."""
    gateways = [*ID_CHARACTERS, "gw-1", "gw_2", "a-", "b_"]
    written = [r("s1", T0 + k, gateway_id=g) for k, g in enumerate(gateways)]
    store.write(written)
    seen: list[str] = []
    for k in range(parts):
        got = store.query_columns(start=at(T0), end=at(T0 + 3600), part=(k, parts)).gateway_id
        assert all(gateway_part(g, parts) == k for g in got.tolist())
        seen += got.tolist()
    assert sorted(seen) == sorted(gateways)
