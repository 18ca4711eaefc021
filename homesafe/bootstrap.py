"""The composition root: real adapters from one Settings, and the wiring between rooms."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine as SqlEngine
from sqlalchemy.orm import Session, configure_mappers, sessionmaker

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
from registry.clock import to_rfc3339, utc_now
from registry.files import LocalFileStore

if TYPE_CHECKING:  # the rooms below load where they are used: `homesafe ingest` needs none
    from api.deps import AppContext
    from api.oidc import OidcClient
    from compliance.schemas import FindingIn
    from compliance.service import Engine
    from detectors.findings import Finding
    from notify.channels import ChannelSettings
    from notify.models import Message
    from notify.service import DeliveryHooks
    from notify.worker import Worker

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
    channels: ChannelSettings | None = None  # people-facing channels (notify)
    files: LocalFileStore = field(default_factory=lambda: LocalFileStore(VAR_DIR / "files"))

    def close(self) -> None:
        self.telemetry.close()
        if self.retention is not None:
            self.retention.close()
        self.db.dispose()


def channel_settings(settings: Settings) -> ChannelSettings:
    """The people-facing channels' settings (contract section 7)."""
    from notify.channels import ChannelSettings

    return ChannelSettings(
        smtp_url=settings.smtp_url,
        mail_from=settings.mail_from,
        notify_api_key=settings.notify_api_key,
        notify_base_url=settings.notify_base_url,
        notify_sms_template_id=settings.notify_sms_template_id,
        notify_letter_template_id=settings.notify_letter_template_id,
        staff_email=settings.staff_email,
        public_url=settings.public_url,
        webhook_allow_private=settings.webhook_allow_private,
        landlord_name=settings.landlord_name,
        landlord_phone=settings.landlord_phone,
        landlord_email=settings.landlord_email,
        timezone=settings.timezone,
    )


def with_outbox(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Sessions whose domain events go to notify's outbox, in the same transaction, and whose
    exports read notify's delivery log for the messages sent to tenants."""
    from compliance.events import SINK_KEY
    from interop.service import NOTICES_KEY
    from notify.outbox import record

    sessions.configure(info={SINK_KEY: record, NOTICES_KEY: tenant_notices})
    return sessions


# notify's message kinds and channels in the damp and mould data model's code lists. The written
# summary is left out: the export takes it from the case's own `summary_sent` step.
_NOTICE_TYPES = {
    "report_received": "Advice",
    "investigation_booked": "Scheduled",
    "work_booked": "Scheduled",
    "work_completed": "Result",
}
_NOTICE_METHODS = {"email": "Email", "sms": "SMS", "letter": "Letter"}


def tenant_notices(session: Session, case_ids: Sequence[int]) -> list[Any]:
    """The messages notify delivered to tenants on these cases, as the export's notices."""
    from interop.export import Notice
    from notify.repository import tenant_messages_sent

    return [
        Notice(
            case_id=message.case_id,
            sent_at=message.sent_at,
            notification_type=_NOTICE_TYPES[message.kind],
            method=_NOTICE_METHODS[message.channel],
        )
        for message in tenant_messages_sent(session, case_ids=case_ids)
        if message.kind in _NOTICE_TYPES
        and message.channel in _NOTICE_METHODS
        and message.case_id is not None
        and message.sent_at is not None
    ]


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
    rooms it loads) until first use, so `homesafe ingest` starts in a fraction of the time.

    Every other process loads every room's tables now and configures the mappers once, before
    any thread runs: a scheduler job configuring them while another thread is half-way through
    importing a room would find a relationship's class not yet defined.
    """
    if compliance:
        import homesafe.models  # noqa: F401 - every room's tables on the shared metadata

        configure_mappers()
    db = make_engine(settings.database_url)
    return Services(
        settings=settings,
        db=db,
        sessions=with_outbox(make_sessionmaker(db)),
        channels=channel_settings(settings),
        files=LocalFileStore(settings.files_dir),
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


CONDITION_WORDS = {
    "surface_model": "surface model (outdoor temperature)",
    "room_air_fallback": "room-air fallback (no outdoor temperature)",
    "room_air": "room air",
}


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
        figures={
            **finding.figures,
            "confidence": finding.confidence,
            "conditions": finding.conditions,
        },
        description=(
            f"{finding.rule_key} v{finding.rule_version}; {CONDITION_WORDS[finding.conditions]} "
            f"({finding.evidence_basis})"
        ),
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
    from api.notify_actions import NotifyLetters
    from notify.channels import ChannelSettings

    context = AppContext(
        sessions=services.sessions,
        telemetry=services.telemetry,
        engine=services.compliance,
        audit_key=services.settings.audit_key,
        channels=services.channels or ChannelSettings(),
        files=services.files,
        notify_hooks=delivery_hooks(services.compliance),
        retention=services.retention,
        raw_days=services.settings.retention_raw_days,
        oidc=oidc_client(services.settings),
    )
    context.letters = NotifyLetters(context)
    return context


def oidc_client(settings: Settings) -> OidcClient | None:
    """The relying party for staff sign-in through the identity provider; None when it is off."""
    from api.oidc import OidcClient, OidcConfig, parse_role_map

    if settings.oidc_issuer is None or settings.oidc_client_id is None:
        return None
    return OidcClient(
        OidcConfig(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            redirect_url=settings.oidc_redirect(),
            role_map=parse_role_map(settings.oidc_role_map),
            groups_claim=settings.oidc_groups_claim,
            scopes=settings.oidc_scopes,
            provider_name=settings.oidc_provider_name,
        )
    )


def delivery_hooks(engine: Engine) -> DeliveryHooks:
    """What a message's final outcome does, in the worker's transaction: an audit entry on the
    case (what, to whom, by which channel, when, delivered or not), and for the written summary
    ``summary_sent`` through compliance with the channel and the time it was sent."""

    from compliance import audit
    from compliance import service as compliance_service
    from compliance.lifecycle import EventRefused
    from compliance.schemas import EventIn

    def hook(session: Session, message: Message, outcome: str, at: datetime) -> None:
        after = {
            "message_id": message.id,
            "what": message.kind,
            "audience": message.audience,
            "to": message.recipient,
            "channel": message.channel,
            "status": outcome,
            "delivered": outcome == "sent",
            "sent_at": to_rfc3339(message.sent_at) if message.sent_at else None,
            "error": message.last_error,
        }
        audit.append(
            session,
            at=at,
            actor="notify",
            action=f"message.{outcome}",
            entity_type="case" if message.case_id else "message",
            entity_id=message.case_id or message.id,
            after=after,
        )
        if outcome != "sent" or message.after_send != "summary_sent" or not message.case_id:
            return
        sent_at = message.sent_at or at
        try:
            with session.begin_nested():
                compliance_service.record_event(
                    session,
                    case_id=message.case_id,
                    event=EventIn(
                        type="summary_sent",
                        at=sent_at,
                        method="email" if message.channel == "email" else "first_class_post",
                        note=f"sent by {message.channel} (message {message.id})",
                    ),
                    actor="notify",
                    now=at,
                    engine=engine,
                )
        except (
            EventRefused,
            compliance_service.InvalidInput,
            compliance_service.CaseNotFound,
        ) as exc:
            audit.append(
                session,
                at=at,
                actor="notify",
                action="message.summary_not_recorded",
                entity_type="case",
                entity_id=message.case_id,
                after={"message_id": message.id, "reason": str(exc)},
            )

    return hook


def notify_worker(services: Services, *, name: str | None = None) -> Worker:
    """The notification worker over the services' database, channels and file store."""
    from notify.channels import ChannelSettings
    from notify.worker import Worker

    worker = Worker(
        services.sessions,
        services.channels or ChannelSettings(),
        services.files,
        hooks=delivery_hooks(services.compliance),
    )
    if name:
        worker.name = name
    return worker
