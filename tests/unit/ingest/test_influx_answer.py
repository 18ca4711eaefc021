"""The InfluxDB /query answer, read column-wise (no server: answers as InfluxDB 1.x writes them)."""

from __future__ import annotations

import orjson
import pytest

from ingest.contract import Reading
from ingest.influx import parse_answer
from ingest.store import TelemetryStoreError

FIELDS = ["time", "temperature_c", "humidity_pct", "wme_pct", "battery_pct"]


def chunk(*series: dict[str, object], error: str | None = None) -> bytes:
    result: dict[str, object] = {"statement_id": 0, "series": list(series)}
    if error:
        result = {"statement_id": 0, "error": error}
    return orjson.dumps({"results": [result]})


def grouped(gateway: str, sensor: str, home: str, values: list[list[object]]) -> dict[str, object]:
    tags = {"gateway_id": gateway, "home_id": home, "sensor": sensor}
    return {"name": "reading", "tags": tags, "columns": FIELDS, "values": values}


def test_a_series_split_by_a_chunk_boundary_is_merged_and_ordered() -> None:
    answer = [
        chunk(grouped("gw-2", "s1", "h2", [[10, 18.5, None, None, 80]])),
        chunk(grouped("gw-2", "s1", "h2", [[20, 18.75, 55, None, None]])),
        chunk(grouped("gw-1", "s1", "", [[20, None, 0.1, 21.5, None], [10, -1, None, None, None]])),
        b"",
    ]
    assert parse_answer(answer) == [
        Reading("gw-1", "s1", 10, -1.0, None, None, None, None),
        Reading("gw-2", "s1", 10, 18.5, None, None, 80.0, "h2"),
        Reading("gw-1", "s1", 20, None, 0.1, 21.5, None, None),
        Reading("gw-2", "s1", 20, 18.75, 55.0, None, None, "h2"),
    ]
    battery = parse_answer(answer)[1].battery_pct
    assert type(battery) is float


def test_rows_with_tags_as_columns_read_as_grouped() -> None:
    row_columns = [*FIELDS, "gateway_id", "sensor", "home_id"]
    rows = {
        "name": "reading",
        "columns": row_columns,
        "values": [
            [5, None, 40, None, None, "NaN", "null", None],
            [5, 1.5, None, None, None, "1", "a,b=c", "x"],
        ],
    }
    assert parse_answer([chunk(rows)]) == [
        Reading("1", "a,b=c", 5, 1.5, None, None, None, "x"),
        Reading("NaN", "null", 5, None, 40.0, None, None, None),
    ]


def test_a_column_influx_left_out_is_absent() -> None:
    series = {
        "name": "reading",
        "tags": {"gateway_id": "g", "sensor": "s"},
        "columns": ["time", "humidity_pct"],
        "values": [[1, 50]],
    }
    assert parse_answer([chunk(series)]) == [Reading("g", "s", 1, None, 50.0, None, None, None)]


def test_empty_answers_are_no_readings() -> None:
    assert parse_answer([]) == []
    assert parse_answer([b'{"results":[{"statement_id":0}]}\n']) == []


@pytest.mark.parametrize(
    "answer",
    [
        [chunk(error="database not found: x")],
        [chunk(grouped("g", "s", "h", [[1, 2, 3, 4, 5]])), b'{"error":"timeout"}'],
        [b"not json"],
        [chunk(grouped("g", "s", "h", [[1, 2, 3]]))],  # a row shorter than the columns
    ],
)
def test_errors_and_garbage_raise(answer: list[bytes]) -> None:
    with pytest.raises((TelemetryStoreError, ValueError)):
        parse_answer(answer)


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_left_as_it_was(enabled: bool) -> None:
    import gc

    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        parse_answer([chunk(grouped("g", "s", "h", [[1, 2, 3, 4, 5]]))])
        with pytest.raises(TelemetryStoreError):
            parse_answer([chunk(error="boom")])
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
