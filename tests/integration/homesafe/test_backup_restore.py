"""`homesafe backup DIR` then `homesafe restore DIR` into empty stores: the same cases, an audit
chain that verifies, the same telemetry and rollups. PostgreSQL + InfluxDB, and SQLite + SQLite."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from compliance.audit import verify
from compliance.jobs import run_checkpoint
from compliance.models import AuditEntry, Case
from compliance.schemas import FindingIn, ReportIn
from compliance.service import record_finding, record_report
from homesafe import bootstrap
from homesafe.cli import main
from homesafe.settings import Settings
from ingest.contract import Reading
from registry.service import import_registry
from tests.factories import homes_csv
from tests.servers import Influx

pytestmark = pytest.mark.integration

AUDIT_KEY = "backup-test-audit-key"
EVER = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


@dataclass
class Stores:
    env: dict[str, str]


@pytest.fixture(params=["postgresql+influxdb", "sqlite"])
def make_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], Stores]:
    """make_stores(name) -> settings for a new, empty pair of stores."""

    def make(name: str) -> Stores:
        env = {"HOMESAFE_AUDIT_KEY": AUDIT_KEY, "HOMESAFE_METRICS_PORT": "0"}
        if request.param == "sqlite":
            env["HOMESAFE_DATABASE_URL"] = f"sqlite:///{tmp_path / name / 'cases.db'}"
            env["HOMESAFE_TELEMETRY_URL"] = f"sqlite:///{tmp_path / name / 'telemetry.db'}"
        else:
            influx: Influx = request.getfixturevalue("make_influxd")()
            env["HOMESAFE_DATABASE_URL"] = request.getfixturevalue("make_postgres_url")()
            env["HOMESAFE_TELEMETRY_URL"] = influx.url
            env["HOMESAFE_INFLUX_RPC_ADDRESS"] = f"127.0.0.1:{influx.rpc_port}"
            if name == "source":  # the target keeps an empty `telemetry`, as the image makes it
                influx.query(f"DROP DATABASE {influx.database}", method="POST")
        return Stores(env)

    return make


def use(monkeypatch: pytest.MonkeyPatch, stores: Stores) -> None:
    for name, value in stores.env.items():
        monkeypatch.setenv(name, value)


def populate(now: datetime) -> None:
    """Registry, a sensor case and a tenant's case (with audit entries), a signed checkpoint,
    two days of readings and some readings old enough to be rolled up."""
    assert main(["db", "upgrade"]) == 0
    services = bootstrap.build(Settings())
    with services.sessions.begin() as session:
        import_registry(session, homes_text=homes_csv(homes=3, sensors_per_home=2))
        record_finding(
            session,
            finding=FindingIn(
                home_id="H0001",
                hazard="damp_and_mould",
                category="potential",
                detected_at=now - timedelta(hours=1),
                sensor="gw-0001/s1",
                room="living",
                rule="sustained_humidity",
                rule_version="1",
                window_start=now - timedelta(hours=13),
                window_end=now - timedelta(hours=1),
                figures={"hours_over_threshold_h": 9},
                description="sustained humidity",
            ),
            now=now,
            engine=services.compliance,
        )
        record_report(
            session,
            report=ReportIn(
                home_id="H0002",
                hazard="excess_cold",
                source="tenant",
                reported_at=now - timedelta(hours=3),
                description="No heating in the bedroom.",
            ),
            actor="officer",
            now=now,
            engine=services.compliance,
        )
    assert run_checkpoint(
        services.sessions, now=now, engine=services.compliance, key=AUDIT_KEY.encode()
    )
    now_s = int(now.timestamp())
    recent = [
        Reading(f"gw-000{h}", s, now_s - 600 * i, 18.5, 61.0, None, None, f"H000{h}")
        for h in (1, 2, 3)
        for s in ("s1", "s2")
        for i in range(1, 289)
    ]
    old = [
        Reading("gw-0001", "s1", now_s - 60 * 86400 + 600 * i, 15.0, 85.0, None, None, "H0001")
        for i in range(12)
    ]
    services.telemetry.write(recent + old)
    assert services.retention is not None
    assert services.retention.run(now=now, raw_days=397).rollup_rows > 0
    services.close()


def snapshot(now: datetime) -> dict[str, object]:
    """What must survive: cases, the audit chain, readings and rollups."""
    services = bootstrap.build(Settings())
    with services.sessions() as session:
        cases = [
            (c.id, c.home_id, c.hazard, c.category, c.source, c.status)
            for c in session.scalars(select(Case).order_by(Case.id))
        ]
        entries = session.scalar(select(func.count()).select_from(AuditEntry))
        checked = verify(session, key=AUDIT_KEY.encode())
    readings = services.telemetry.query(start=EVER[0], end=EVER[1])
    assert services.retention is not None
    hourly = services.retention.hourly(start=EVER[0], end=now)
    services.close()
    assert checked.ok, checked.reason
    return {
        "cases": cases,
        "audit_entries": entries,
        "verified_entries": checked.entries,
        "checkpoints": checked.checkpoints,
        "readings": len(readings),
        "reading_sum": round(sum(r.temperature_c or 0 for r in readings), 3),
        "hourly": hourly,
    }


def test_a_backup_restores_into_empty_stores_with_everything_in_it(
    make_stores, monkeypatch, tmp_path, capsys
):
    now = datetime.now(UTC).replace(microsecond=0)
    source = make_stores("source")
    use(monkeypatch, source)
    populate(now)
    before = snapshot(now)
    assert len(before["cases"]) == 2
    assert before["checkpoints"] == 1
    assert before["readings"] == 3 * 2 * 288 + 12
    assert before["hourly"]

    assert main(["backup", str(tmp_path / "backup")]) == 0
    assert main(["backup", str(tmp_path / "backup")]) == 2  # never over an earlier backup

    use(monkeypatch, make_stores("target"))
    assert main(["restore", str(tmp_path / "backup")]) == 0
    assert snapshot(now) == before  # with the checkpoint signatures checked
    assert main(["audit", "verify"]) == 0  # with the key: anchored to the signed checkpoint
    assert "audit log intact" in capsys.readouterr().out
    monkeypatch.delenv("HOMESAFE_AUDIT_KEY")
    assert main(["audit", "verify"]) == 3  # without it: consistent, not proven (issue 12)
    assert "consistent but not proven" in capsys.readouterr().out

    # A second restore would merge into live data: refused, in one line, before touching anything.
    assert main(["restore", str(tmp_path / "backup")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "restore only into an empty" in err[0]
    assert snapshot(now) == before
