"""Fleet health persisted in batches, merged across workers, shown by GET /api/v1/gateways."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from api.auth import add_user, create_token
from api.deps import AppContext
from compliance.calendar import WorkingDayCalendar
from compliance.rules import ComplianceSettings
from compliance.service import Engine as ComplianceEngine
from homesafe.database import make_engine, make_sessionmaker
from homesafe.migrate import upgrade
from ingest.contract import decode_status, decode_telemetry
from ingest.fleet import FleetTracker
from ingest.repository import merge_fleet_deltas
from ingest.store import open_telemetry_store
from registry.clock import from_epoch_s

pytestmark = pytest.mark.integration

NOW_S = 1_795_545_400.0
TOPIC = "homesafe/v1/gw/gw-1/telemetry"


def message(seq: int, battery: float) -> bytes:
    readings = [
        {"sensor": "s1", "ts": int(NOW_S) - 60 + seq, "humidity_pct": 70.0, "battery_pct": battery}
    ]
    return orjson.dumps({"v": 1, "seq": seq, "readings": readings})


@pytest.fixture
def engine(case_db_url: str) -> Iterator[Engine]:
    engine = make_engine(case_db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def test_two_workers_sharing_a_gateway_merge_to_the_true_gap_count(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    workers = [FleetTracker(), FleetTracker()]
    # seq 1..10 split between two shared-subscription workers; 4 and 7 lost in the broker.
    for seq in [s for s in range(1, 11) if s not in (4, 7)]:
        decoded = decode_telemetry(
            TOPIC,
            message(seq, 90 - seq),
            received_at_s=NOW_S + seq,
            known_gateway=lambda _g: "home-1",
        )
        workers[seq % 2].observe(decoded, NOW_S + seq)
    status = decode_status(
        "homesafe/v1/gw/gw-1/status",
        b'{"state":"online","fw":"1.2.3","ts":1}',
        received_at_s=NOW_S,
    )
    workers[0].observe_status(status)  # type: ignore[arg-type]
    for worker in workers:
        with sessions.begin() as session:
            merge_fleet_deltas(session, worker.take_deltas(), now=from_epoch_s(NOW_S + 20))
    context = AppContext(
        sessions=sessions,
        telemetry=open_telemetry_store("sqlite:///:memory:"),
        engine=ComplianceEngine(WorkingDayCalendar("Europe/London"), ComplianceSettings()),
    )
    with sessions.begin() as session:
        add_user(session, name="officer", role="officer", now=from_epoch_s(NOW_S))
        token = create_token(session, name="officer", now=from_epoch_s(NOW_S))
    client = TestClient(create_app(context))
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/gateways", headers=headers)
    assert listed.status_code == 200
    (gateway,) = listed.json()
    assert gateway["gateway_id"] == "gw-1"
    assert gateway["status"] == "online"
    assert gateway["fw"] == "1.2.3"
    assert gateway["messages"] == 8
    assert gateway["missed_messages"] == 2
    assert gateway["last_seq"] == 10
    assert gateway["battery_min_pct"] == 80.0  # seq 10 is s1's newest reading
    assert gateway["sensors"][0]["sensor"] == "s1"
    one = client.get("/api/v1/gateways/gw-1", headers=headers)
    assert one.json() == gateway
    assert client.get("/api/v1/gateways/nope", headers=headers).status_code == 404
    assert client.get("/api/v1/gateways").status_code == 401


def test_a_gateway_sending_the_largest_seq_blocks_no_other_fleet_health_write(
    engine: Engine,
) -> None:
    from prometheus_client import CollectorRegistry

    from homesafe.bootstrap import fleet_sink
    from ingest.repository import list_gateway_health
    from ingest.service import IngestMetrics, IngestService
    from tests.unit.ingest.test_service import MemoryStore

    sessions = make_sessionmaker(engine)
    letters: list[object] = []
    service = IngestService(
        store=MemoryStore(),
        dead_letter_sink=letters.extend,
        known_gateway={"gw-bad": "home-1", "gw-good": "home-2"}.get,
        fleet_sink=fleet_sink(sessions),
        metrics=IngestMetrics(CollectorRegistry()),
    )
    reading = {"sensor": "s1", "ts": int(NOW_S) - 60, "humidity_pct": 70.0}
    for gateway_id, seq in (("gw-bad", 2**64 - 1), ("gw-good", 1)):
        body = orjson.dumps({"v": 1, "seq": seq, "readings": [reading]})
        service.handle(f"homesafe/v1/gw/{gateway_id}/telemetry", body, NOW_S)
    service.flush(NOW_S)
    body = orjson.dumps({"v": 1, "seq": 2, "readings": [{**reading, "ts": int(NOW_S) - 30}]})
    service.handle("homesafe/v1/gw/gw-good/telemetry", body, NOW_S + 10)
    service.flush(NOW_S + 10)
    with sessions() as session:
        stored = {row.gateway_id: row.last_seq for row in list_gateway_health(session)}
    assert stored.get("gw-good") == 2
    assert len(letters) == 1  # gw-bad's message, with its reason


def test_seq_counts_that_grow_past_64_bits_are_held_at_the_largest_storable_value(
    engine: Engine,
) -> None:
    from ingest.repository import get_gateway_health

    sessions = make_sessionmaker(engine)
    tracker = FleetTracker()
    largest = 2**63 - 1
    # Restarts between 0 and the largest seq: each one adds 2**63 - 2 lost messages.
    for step, seq in enumerate((0, largest, 0, largest, 0, largest, 0)):
        decoded = decode_telemetry(
            TOPIC, message(seq, 80), received_at_s=NOW_S + step, known_gateway=lambda _g: "h1"
        )
        tracker.observe(decoded, NOW_S + step)
        with sessions.begin() as session:
            merge_fleet_deltas(session, tracker.take_deltas(), now=from_epoch_s(NOW_S + step))
    with sessions() as session:
        row = get_gateway_health(session, "gw-1")
        assert row is not None
        assert row.missed_before_reset == largest
        assert row.seq_resets == 3
