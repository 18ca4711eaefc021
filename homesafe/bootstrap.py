"""The composition root: real adapters from one Settings, and the wiring between rooms."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine as SqlEngine
from sqlalchemy.orm import Session, sessionmaker

from homesafe.database import make_engine, make_sessionmaker
from homesafe.settings import VAR_DIR, Settings
from ingest.contract import DeadLetterRecord
from ingest.fleet import GatewayDelta
from ingest.repository import add_dead_letters, merge_fleet_deltas
from ingest.retention import TelemetryRetention, open_retention
from ingest.service import IngestService
from ingest.spool import Spool
from ingest.store import TelemetryStore, open_telemetry_store
from registry import repository as registry
from registry.clock import utc_now

if TYPE_CHECKING:  # the rooms below load where they are used: `homesafe ingest` needs none
    from api.deps import AppContext
    from compliance.schemas import FindingIn
    from compliance.service import Engine
    from detectors.findings import Finding

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a Homesafe process runs on, built once."""

    settings: Settings
    db: SqlEngine
    sessions: sessionmaker[Session]
    telemetry: TelemetryStore
    _compliance: Engine | None = field(default=None, repr=False)

    @property
    def compliance(self) -> Engine:
        """The compliance engine (built on first use: ingest never needs it)."""
        if self._compliance is None:
            self._compliance = _compliance_engine(self.settings)
        return self._compliance

    retention: TelemetryRetention | None = None

    def close(self) -> None:
        self.telemetry.close()
        if self.retention is not None:
            self.retention.close()
        self.db.dispose()


def _compliance_engine(settings: Settings) -> Engine:
    from compliance.calendar import WorkingDayCalendar
    from compliance.rules import ComplianceSettings
    from compliance.service import Engine
    from compliance.summary import Landlord

    compliance_settings = ComplianceSettings(
        awareness_from_sensors=settings.awareness_from_sensors  # type: ignore[arg-type]
    )
    return Engine(
        WorkingDayCalendar(settings.timezone),
        compliance_settings,
        landlord=Landlord(
            name=settings.landlord_name,
            phone=settings.landlord_phone,
            email=settings.landlord_email,
            address=settings.landlord_address,
        ),
    )


def build(settings: Settings, *, compliance: bool = True) -> Services:
    """The services of a process; `compliance=False` leaves the compliance engine (and the
    rooms it loads) until first use, so `homesafe ingest` starts in a fraction of the time."""
    db = make_engine(settings.database_url)
    return Services(
        settings=settings,
        db=db,
        sessions=make_sessionmaker(db),
        telemetry=open_telemetry_store(settings.telemetry_url),
        _compliance=_compliance_engine(settings) if compliance else None,
        retention=_retention(settings.telemetry_url),
    )


def _retention(telemetry_url: str) -> TelemetryRetention | None:
    """Rollups and raw retention on the telemetry store (none for an in-memory SQLite store)."""
    try:
        return open_retention(telemetry_url)
    except ValueError:
        return None


class GatewayDirectory:
    """Ingest's view of the registry: gateway id → home id, refreshed from the case database."""

    def __init__(
        self, sessions: sessionmaker[Session], *, max_age_s: float = 30.0, miss_retry_s: float = 5.0
    ):
        self._sessions = sessions
        self._max_age_s = max_age_s
        self._miss_retry_s = miss_retry_s
        self._homes: dict[str, str] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        with self._sessions() as session:
            self._homes = registry.gateway_homes(session)
        self._loaded_at = time.monotonic()

    def __call__(self, gateway_id: str) -> str | None:
        """The gateway's home, or None when it is not registered."""
        age = time.monotonic() - self._loaded_at
        home = self._homes.get(gateway_id)
        if age > self._max_age_s or (home is None and age > self._miss_retry_s):
            with self._lock:
                self._refresh()
            home = self._homes.get(gateway_id)
        return home


def dead_letter_sink(sessions: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    """Dead letters go to the case database, each batch in its own transaction."""

    def sink(records: list[DeadLetterRecord]) -> None:
        with sessions.begin() as session:
            add_dead_letters(session, records)

    return sink


def fleet_sink(sessions: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    """Fleet health deltas go to the case database, each batch in its own transaction."""

    def sink(deltas: list[GatewayDelta]) -> None:
        with sessions.begin() as session:
            merge_fleet_deltas(session, deltas, now=utc_now())

    return sink


def ingest_service(
    services: Services, *, spool_dir: Path | None = None, spool_max_bytes: int | None = None
) -> IngestService:
    """Ingest over the telemetry store, with an on-disk spool for outages (var/spool/ingest)."""
    spool = Spool(
        spool_dir or VAR_DIR / "spool" / "ingest",
        **({"max_bytes": spool_max_bytes} if spool_max_bytes else {}),
    )
    return IngestService(
        store=services.telemetry,
        dead_letter_sink=dead_letter_sink(services.sessions),
        known_gateway=GatewayDirectory(services.sessions),
        spool=spool,
        fleet_sink=fleet_sink(services.sessions),
    )


def finding_for_compliance(finding: Finding, *, detected_at: datetime) -> FindingIn:
    """A detector finding as compliance takes it; a leak is damp until an investigation says otherwise."""
    from compliance.schemas import FindingIn
    from detectors.findings import LEAK

    hazard = "damp_and_mould" if finding.hazard == LEAK else finding.hazard
    return FindingIn(
        home_id=finding.home_id,
        hazard=hazard,
        category=finding.category,
        detected_at=detected_at,
        sensor=f"{finding.sensor.gateway_id}/{finding.sensor.sensor_id}",
        room=finding.room,
        rule=finding.rule_key,
        rule_version=str(finding.rule_version),
        window_start=finding.window_start,
        window_end=finding.window_end,
        figures={**finding.figures, "confidence": finding.confidence},
        description=f"{finding.rule_key} v{finding.rule_version} ({finding.evidence_basis})",
    )


def detect_once(services: Services, *, now: datetime) -> int:
    """One detector pass over every registered sensor; findings open or join cases."""
    from detectors import repository as detector_repository
    from detectors.runner import SensorSite, run_pass
    from repairs.service import handle_finding

    with services.sessions.begin() as session:
        vulnerable = detector_repository.vulnerable_homes(session)
        sites = [
            SensorSite(s.home_id, s.gateway_id, s.sensor_id, s.room, s.home_id in vulnerable)
            for s in registry.all_sensors(session)
        ]

        def emit(finding: Finding) -> None:
            # Through repairs, so a finding in a home under post-repair watch flags the repair.
            handle_finding(
                session,
                finding=finding_for_compliance(finding, detected_at=now),
                now=now,
                engine=services.compliance,
            )

        return run_pass(
            session,
            store=services.telemetry,
            sites=sites,
            now=now,
            emit=emit,
            timezone=services.settings.timezone,
        )


def app_context(services: Services) -> AppContext:
    """What the API runs on, from the same services as everything else."""
    from api.deps import AppContext

    return AppContext(
        sessions=services.sessions,
        telemetry=services.telemetry,
        engine=services.compliance,
        audit_key=services.settings.audit_key,
        retention=services.retention,
        raw_days=services.settings.retention_raw_days,
    )
