"""The dashboard's InfluxQL runs on a real InfluxDB holding readings and rollups, and finds them."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.contract import Reading
from ingest.retention import DAY_S, open_retention
from ingest.store import open_telemetry_store
from tests.servers import Influx

pytestmark = pytest.mark.integration

DASHBOARD = Path(__file__).resolve().parents[3] / "ops" / "grafana" / "homesafe.json"


def test_each_influxdb_query_of_the_dashboard_answers_with_data(influxdb: Influx, influx_url):
    now_s = int(time.time())
    store = open_telemetry_store(influx_url)
    store.write(
        [
            Reading("gw-1", "s1", ts, 18.0, 65.0, 21.0, 80.0, "H1")
            for ts in [
                *range(now_s - 6 * 3600, now_s, 600),
                *range(now_s - 60 * DAY_S, now_s - 60 * DAY_S + 7200, 600),
            ]
        ]
    )
    retention = open_retention(influx_url)
    retention.run(now=datetime.fromtimestamp(now_s, UTC), raw_days=0)
    retention.close()
    store.close()
    database = influx_url.rsplit("/", 1)[1]

    dashboard = json.loads(DASHBOARD.read_text())
    queries = [
        target["query"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", ())
        if target["datasource"]["type"] == "influxdb"
    ]
    queries.append(next(v for v in dashboard["templating"]["list"] if v["name"] == "home")["query"])
    for query in queries:
        concrete = (
            query.replace("$timeFilter", "time > now() - 90d")
            .replace("$__interval", "1h")
            .replace("/^$home$/", "/^H1$/")
        )
        answer = influxdb.query(concrete, db=database)
        results = answer["results"]
        assert not any("error" in r for r in results), (concrete, answer)
        assert any(r.get("series") for r in results), f"no data for {concrete}"
