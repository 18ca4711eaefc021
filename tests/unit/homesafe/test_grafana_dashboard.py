"""ops/grafana/homesafe.json: a well-formed Grafana dashboard whose Prometheus metrics exist in the
code and whose InfluxQL names only the telemetry store's measurements, fields and tags."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, ProcessCollector

from ingest.influx import MEASUREMENT
from ingest.retention import AGGREGATES, FOREVER_RP, ROLLUP_MEASUREMENT
from ingest.service import IngestMetrics
from ingest.store import MEASUREMENTS

pytestmark = pytest.mark.unit

DASHBOARD = Path(__file__).resolve().parents[3] / "ops" / "grafana" / "homesafe.json"
METRIC = re.compile(r"\b((?:homesafe|process)_[a-z0-9_]+)\b")
PANEL_TYPES = {"row", "timeseries", "stat"}


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def exported_metric_names() -> set[str]:
    """Every sample name the ingest process exports (counters' _total, histograms' _bucket…)."""
    registry = CollectorRegistry()
    IngestMetrics(registry)
    ProcessCollector(registry=registry)
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
    names = set()
    for family in registry.collect():  # labelled counters have no sample until a label is used
        names |= {family.name + suffix for suffix in suffixes.get(family.type, ("",))}
        names |= {sample.name for sample in family.samples}
    return names


def test_the_dashboard_has_grafanas_shape(dashboard):
    assert isinstance(dashboard["schemaVersion"], int)
    assert dashboard["uid"]
    assert dashboard["title"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["prometheus"]["type"] == variables["influxdb"]["type"] == "datasource"
    for panel in dashboard["panels"]:
        assert panel["type"] in PANEL_TYPES, panel["title"]
        grid = panel["gridPos"]
        assert all(isinstance(grid[k], int) for k in ("x", "y", "w", "h"))
        assert grid["x"] >= 0, panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
    for panel in panels(dashboard):
        uid = panel["datasource"]["uid"]
        assert uid.startswith("${"), panel["title"]
        assert uid[2:-1] in variables, panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert refs, panel["title"]
        assert len(refs) == len(set(refs)), panel["title"]


def test_every_prometheus_metric_it_names_is_exported_by_the_code(dashboard):
    exported = exported_metric_names()
    named = set()
    for panel in panels(dashboard):
        for target in panel["targets"]:
            if target["datasource"]["type"] != "prometheus":
                continue
            found = set(METRIC.findall(target["expr"]))
            assert found, f"{panel['title']}: no Homesafe metric in {target['expr']!r}"
            named |= found
    assert named, "no Prometheus panel"
    assert named <= exported, f"not exported by the code: {sorted(named - exported)}"


def test_every_influxql_query_names_what_the_telemetry_store_holds(dashboard):
    fields = set(MEASUREMENTS) | {f"{m}_{a}" for m in MEASUREMENTS for a in AGGREGATES}
    sources = {f'"{MEASUREMENT}"', f'"{FOREVER_RP}"."{ROLLUP_MEASUREMENT}"'}
    queries = [
        target["query"]
        for panel in panels(dashboard)
        for target in panel["targets"]
        if target["datasource"]["type"] == "influxdb"
    ]
    queries.append(next(v for v in dashboard["templating"]["list"] if v["name"] == "home")["query"])
    assert len(queries) > 1
    for query in queries:
        source = re.search(r'FROM ((?:"[a-z_]+"\.)?"[a-z_]+")', query)
        assert source, query
        assert source.group(1) in sources, query
        assert set(re.findall(r'\w+\("([a-z_]+)"\)', query)) <= fields, query
        assert set(re.findall(r'"(home_id|sensor|gateway_id|[a-z]+_id)"', query)) <= {
            "home_id",
            "sensor",
            "gateway_id",
        }, query
