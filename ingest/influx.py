"""InfluxDB telemetry store through the v1 HTTP API (/write line protocol, /query InfluxQL).

InfluxDB 1.x, 2.x (with a DBRP mapping) and 3.x all serve this API. One measurement,
`reading`; tags home_id, gateway_id, sensor; float fields; second precision. A point with
the same series and timestamp overwrites the earlier one, so writes are idempotent.
"""

from __future__ import annotations

import gc
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from itertools import repeat
from typing import Any, TypeVar

import httpx
import numpy as np
import numpy.typing as npt
import orjson
import pandas as pd

from ingest.contract import ID_CHARACTERS, Reading
from ingest.store import (
    MEASUREMENTS,
    ReadingColumns,
    TelemetryStoreError,
    TelemetryStoreRefused,
    epoch_bounds_s,
    gateway_part,
)

MEASUREMENT = "reading"
POINTS_PER_REQUEST = 5000
CHUNK_ROWS = 10_000  # rows per chunk of a /query answer (InfluxDB's default)
# Windows longer than this are read grouped by series (GROUP BY *): with many rows per series
# InfluxDB answers faster and the tags come once per series; a short window over many sensors
# (the steady read: a few rows each) is answered faster row by row. The results are the same.
GROUP_BY_SERIES_AFTER_S = 6 * 3600
_TAG_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})
# Line protocol 1.x cannot carry a newline in a tag, nor a backslash before , = space or the end.
_UNREPRESENTABLE_TAG = re.compile(r"[\r\n]|\\(?=[,= ]|$)")


def escape_tag(value: str) -> str:
    """A tag value escaped for line protocol; ValueError if line protocol cannot carry it."""
    if not value:
        raise ValueError("empty tag value")
    if _UNREPRESENTABLE_TAG.search(value):
        raise ValueError(f"tag value {value!r} cannot be written as InfluxDB line protocol")
    return value.translate(_TAG_ESCAPES)


def quote_identifier(name: str) -> str:
    """An InfluxQL double-quoted identifier."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def quote_string(value: str) -> str:
    """An InfluxQL single-quoted string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


_SERIES_CACHE_MAX = 200_000
_series_cache: dict[tuple[str, str | None, str], str] = {}


def series_key(gateway_id: str, home_id: str | None, sensor: str) -> str:
    """The measurement and escaped tags of a sensor's series (cached: the same few per sensor)."""
    key = (gateway_id, home_id, sensor)
    tags = _series_cache.get(key)
    if tags is None:
        tags = f"{MEASUREMENT},gateway_id={escape_tag(gateway_id)}"
        if home_id:
            tags += f",home_id={escape_tag(home_id)}"
        tags += f",sensor={escape_tag(sensor)}"
        if len(_series_cache) >= _SERIES_CACHE_MAX:
            _series_cache.clear()
        _series_cache[key] = tags
    return tags


def line_for(reading: Reading) -> str:
    """One reading as a line-protocol point (no trailing newline)."""
    return lines_for([reading])[0]


_FIELD_TEXT_MAX = 200_000
# ",temperature_c=18.5" for each value seen, per field: sensors repeat a few thousand values.
_field_text: tuple[dict[float, str], ...] = ({}, {}, {}, {})


def _field(index: int, value: float) -> str:
    texts = _field_text[index]
    if len(texts) >= _FIELD_TEXT_MAX:
        texts.clear()
    text = texts[value] = f",{MEASUREMENTS[index]}={value!r}"
    return text


def lines_for(readings: Iterable[Reading]) -> list[str]:
    """Readings with at least one measurement as line-protocol points.

    Field values are written with repr(): the shortest text that reads back as the same
    float (an integer from the JSON, e.g. battery 88, is written 88, which line protocol also
    reads as a float: only a trailing `i` makes an integer field). The text of each field and
    value is made once and kept (`_field_text`): a batch repeats the same few values."""
    cache = _series_cache
    t_text, h_text, w_text, b_text = (texts.get for texts in _field_text)
    out: list[str] = []
    append = out.append
    for (
        gateway_id,
        sensor,
        ts,
        temperature_c,
        humidity_pct,
        wme_pct,
        battery_pct,
        home_id,
    ) in readings:
        fields = ""
        if temperature_c is not None:
            fields = t_text(temperature_c) or _field(0, temperature_c)
        if humidity_pct is not None:
            fields += h_text(humidity_pct) or _field(1, humidity_pct)
        if wme_pct is not None:
            fields += w_text(wme_pct) or _field(2, wme_pct)
        if battery_pct is not None:
            fields += b_text(battery_pct) or _field(3, battery_pct)
        if not fields:
            continue
        tags = cache.get((gateway_id, home_id, sensor))
        if tags is None:
            tags = series_key(gateway_id, home_id, sensor)
        append(f"{tags} {fields[1:]} {ts}")
    return out


class InfluxTelemetryStore:
    """TelemetryStore on an InfluxDB server, over one keep-alive HTTP client."""

    def __init__(
        self,
        *,
        base_url: str,
        database: str,
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 10.0,
        query_timeout_s: float = 300.0,
    ) -> None:
        self.base_url = base_url
        self.database = database
        auth = (username, password or "") if username else None
        self._client = httpx.Client(
            base_url=base_url,
            auth=auth,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 3.0)),
            limits=httpx.Limits(max_keepalive_connections=8, max_connections=16),
        )
        # A fleet-wide read waits long for its first byte: InfluxDB merges every series by time
        # before it answers (a minute for 400,000 sensors on a busy 2-core machine).
        self._query_timeout = httpx.Timeout(query_timeout_s, connect=min(timeout_s, 3.0))
        self._database_ready = False
        self._ready_lock = threading.Lock()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise TelemetryStoreError(f"InfluxDB at {self.base_url} unreachable: {exc}") from exc
        if response.status_code in (400, 413):
            raise TelemetryStoreRefused(
                f"InfluxDB {method} {path} refused ({response.status_code}): "
                f"{response.text[:500].strip()}"
            )
        if response.status_code >= 300:
            raise TelemetryStoreError(
                f"InfluxDB {method} {path} answered {response.status_code}: "
                f"{response.text[:500].strip()}"
            )
        return response

    def _ensure_database(self) -> None:
        if self._database_ready:
            return
        with self._ready_lock:
            if self._database_ready:
                return
            # CREATE DATABASE is idempotent in InfluxDB 1.x.
            response = self._request(
                "POST", "/query", data={"q": f"CREATE DATABASE {quote_identifier(self.database)}"}
            )
            self._raise_statement_error(orjson.loads(response.content))
            self._database_ready = True

    @staticmethod
    def _raise_statement_error(document: Any) -> None:
        if isinstance(document, dict):
            if document.get("error"):
                raise TelemetryStoreError(f"InfluxDB query failed: {document['error']}")
            for result in document.get("results", ()):
                if result.get("error"):
                    raise TelemetryStoreError(f"InfluxDB query failed: {result['error']}")

    def write(self, readings: Sequence[Reading]) -> None:
        """POST readings as line protocol, POINTS_PER_REQUEST per request."""
        lines = lines_for(readings)
        if not lines:
            return
        self._ensure_database()
        params = {"db": self.database, "precision": "s"}
        for begin in range(0, len(lines), POINTS_PER_REQUEST):
            body = "\n".join(lines[begin : begin + POINTS_PER_REQUEST]).encode()
            self._request("POST", "/write", params=params, content=body)

    def query(
        self,
        *,
        start: datetime,
        end: datetime,
        home_id: str | None = None,
        gateway_id: str | None = None,
        sensor: str | None = None,
        gateway_ids: Sequence[str] | None = None,
    ) -> list[Reading]:
        """Readings with start <= ts < end, ordered by ts, sensor, gateway_id."""
        filters = {"home_id": home_id, "gateway_id": gateway_id, "sensor": sensor}
        return _readable(parse_answer, self._select(start, end, filters, gateway_ids, _TAGS))

    def query_columns(
        self,
        *,
        start: datetime,
        end: datetime,
        gateway_ids: Sequence[str] | None = None,
        part: tuple[int, int] | None = None,
    ) -> ReadingColumns:
        """The readings `query` would return, as columns and in no order (no home_id asked).

        `part` (see the protocol) becomes a regular expression on the gateway id's last
        character; the last part is the complement of the others, so ids outside the
        contract's characters are read too, once."""
        chunks = self._select(
            start, end, {}, gateway_ids, ("gateway_id", "sensor"), part_condition(part)
        )
        return _readable(parse_columns, chunks)

    def _select(
        self,
        start: datetime,
        end: datetime,
        filters: dict[str, str | None],
        gateway_ids: Sequence[str] | None,
        tags: Sequence[str],
        condition: str | None = None,
    ) -> list[bytes]:
        """The JSON chunks of one SELECT of the readings in [start, end) (none: no statement)."""
        low_s, high_s = epoch_bounds_s(start, end)
        if high_s <= low_s or (gateway_ids is not None and not gateway_ids):
            return []
        grouped = high_s - low_s > GROUP_BY_SERIES_AFTER_S
        names = MEASUREMENTS if grouped else (*MEASUREMENTS, *tags)
        columns = ", ".join(quote_identifier(c) for c in names)
        where = [f"time >= {low_s}s", f"time < {high_s}s"]
        for tag, value in filters.items():
            if value is not None:
                where.append(f"{quote_identifier(tag)} = {quote_string(value)}")
        if gateway_ids is not None:
            tag = quote_identifier("gateway_id")
            where.append("(" + " OR ".join(f"{tag} = {quote_string(g)}" for g in gateway_ids) + ")")
        if condition:
            where.append(condition)
        statement = (
            f"SELECT {columns} FROM {quote_identifier(MEASUREMENT)} "
            f"WHERE {' AND '.join(where)}" + (" GROUP BY *" if grouped else "")
        )
        self._ensure_database()
        response = self._request(
            "POST",
            "/query",
            params={
                "db": self.database,
                "epoch": "s",
                "chunked": "true",
                "chunk_size": str(CHUNK_ROWS),
            },
            data={"q": statement},
            timeout=self._query_timeout,
        )
        return response.content.splitlines()

    def ping(self) -> bool:
        """True when /ping answers 204."""
        try:
            return self._client.get("/ping", timeout=3.0).status_code == 204
        except httpx.HTTPError:
            return False

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()


_TAGS = ("gateway_id", "sensor", "home_id")
_Parsed = TypeVar("_Parsed")


def _readable(parse: Callable[[list[bytes]], _Parsed], chunks: list[bytes]) -> _Parsed:
    """The answer parsed, or TelemetryStoreError when InfluxDB answered something unreadable."""
    try:
        return parse(chunks)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise TelemetryStoreError(f"InfluxDB answered something unreadable: {exc}") from exc


def part_condition(part: tuple[int, int] | None) -> str | None:
    """The InfluxQL condition keeping part k of n of the fleet (`gateway_part`), or None."""
    if part is None:
        return None
    k, n = part
    if not 0 <= k < n:
        raise ValueError(f"part {k} of {n}")
    if n == 1:
        return None
    tag = quote_identifier("gateway_id")

    def ending(parts: range) -> str:
        chars = [c for c in ID_CHARACTERS if gateway_part(c, n) in parts]
        return "/[" + "".join(re.escape(c) for c in chars) + "]$/"

    if k < n - 1:
        return f"{tag} =~ {ending(range(k, k + 1))}"
    return f"{tag} !~ {ending(range(n - 1))}"


def parse_answer(chunks: Iterable[bytes]) -> list[Reading]:
    """The JSON chunks of a query() statement as Readings, in query() order.

    Works column-wise: each series' rows are transposed at once (zip), tags come from the
    series (GROUP BY) or from its columns, the order (ts, then sensor, gateway_id, home_id)
    is found with numpy on integer ranks, and each Reading is made once, at the end. The
    cyclic garbage collector is paused meanwhile: the answer's lists and the Readings are
    acyclic, and its passes over them cost as much as the parse (docs/detectors.md)."""
    with _collector_paused():
        return _parse_answer(chunks)


_collector_lock = threading.Lock()
_collector_pauses = [0, False]  # parses under way, whether the collector was on before the first


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic collector off while any thread parses; back as it was after the last."""
    with _collector_lock:
        if _collector_pauses[0] == 0:
            _collector_pauses[1] = gc.isenabled()
            gc.disable()
        _collector_pauses[0] += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector_pauses[0] -= 1
            if _collector_pauses[0] == 0 and _collector_pauses[1]:
                gc.enable()


def _string_rank(values: npt.NDArray[np.object_]) -> npt.NDArray[np.int64]:
    """Each value's rank among the distinct values in str order (None before any string)."""
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    by_str = sorted(range(len(distinct)), key=distinct.__getitem__)
    rank = np.empty(len(distinct) + 1, dtype=np.int64)
    rank[-1] = 0  # None (code -1)
    rank[np.asarray(by_str, dtype=np.int64)] = np.arange(1, len(distinct) + 1)
    ranked: npt.NDArray[np.int64] = rank[codes]
    return ranked


def _columns_of(chunks: Iterable[bytes], names: Sequence[str]) -> dict[str, list[Any]]:
    """The named columns of an answer's chunks, every series' rows transposed at once; a name
    that is not a column of a series is its tag (GROUP BY), or None."""
    columns: dict[str, list[Any]] = {name: [] for name in names}
    for chunk in chunks:
        if not chunk.strip():
            continue
        document = orjson.loads(chunk)
        InfluxTelemetryStore._raise_statement_error(document)
        for result in document.get("results", ()):
            for series in result.get("series", ()):
                values = series.get("values")
                if not values:
                    continue
                transposed = dict(zip(series["columns"], zip(*values, strict=True), strict=True))
                tags = series.get("tags") or {}
                for name, column in columns.items():
                    if name in transposed:
                        column.extend(transposed[name])
                    else:  # a tag of the series, or a column absent from every row
                        column.extend(repeat(tags.get(name), len(values)))
    return columns


def _parse_answer(chunks: Iterable[bytes]) -> list[Reading]:
    columns = _columns_of(chunks, ("time", *MEASUREMENTS, *_TAGS))
    times = columns["time"]
    if not times:
        return []
    tags = {name: np.asarray(columns[name], dtype=object) for name in _TAGS}
    order = np.lexsort(
        (
            _string_rank(tags["home_id"]),
            _string_rank(tags["gateway_id"]),
            _string_rank(tags["sensor"]),
            np.asarray(times, dtype=np.int64),
        )
    )

    def ordered(name: str) -> list[Any]:
        return tags[name][order].tolist()  # type: ignore[no-any-return]

    def measured(name: str) -> list[float | None]:
        numbers = np.asarray(columns[name], dtype=np.float64)[order]  # None becomes NaN
        out = numbers.astype(object)
        out[np.isnan(numbers)] = None
        return out.tolist()  # type: ignore[no-any-return]

    rows = zip(
        ordered("gateway_id"),
        ordered("sensor"),
        np.asarray(times, dtype=np.int64)[order].tolist(),
        *(measured(name) for name in MEASUREMENTS),
        [h or None for h in ordered("home_id")],
        strict=True,
    )
    return list(map(tuple.__new__, repeat(Reading), rows))  # Reading(*row), without a call per row


def parse_columns(chunks: Iterable[bytes]) -> ReadingColumns:
    """The JSON chunks of a query_columns() statement as columns, in the answer's order.

    No sort and no object per reading: each series' rows are transposed at once and the
    columns become numpy arrays at the end (None measurements become NaN)."""
    with _collector_paused():
        return _parse_columns(chunks)


def _parse_columns(chunks: Iterable[bytes]) -> ReadingColumns:
    columns = _columns_of(chunks, ("time", *MEASUREMENTS, "gateway_id", "sensor"))
    if not columns["time"]:
        return ReadingColumns.empty()
    return ReadingColumns(
        np.array(columns["gateway_id"], dtype=object),
        np.array(columns["sensor"], dtype=object),
        np.array(columns["time"], dtype=np.int64),
        np.column_stack([np.array(columns[name], dtype=np.float64) for name in MEASUREMENTS]),
    )
