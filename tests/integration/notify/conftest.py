"""A notify world: a migrated case database (SQLite and PostgreSQL) whose sessions carry the
outbox, a registry with tenants, the channels pointed at real local receivers, and a worker."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from compliance.calendar import WorkingDayCalendar
from compliance.schemas import EventIn, ReportIn
from compliance.service import Engine, record_event, record_report
from compliance.summary import Landlord
from homesafe.bootstrap import delivery_hooks, with_outbox
from homesafe.database import make_engine, make_sessionmaker
from homesafe.migrate import upgrade
from notify.channels import ChannelSettings
from notify.worker import Worker
from registry.clock import utc_now
from registry.files import LocalFileStore
from registry.service import import_registry
from tests.factories import homes_with_addresses_csv, households_csv, tenancies_csv
from tests.integration.notify.receivers import (
    API_KEY,
    LETTER_TEMPLATE,
    SMS_TEMPLATE,
    NotifyStandIn,
    SmtpSink,
    WebhookReceiver,
)

pytestmark = pytest.mark.integration


@dataclass
class World:
    sessions: sessionmaker[Session]
    engine: Engine
    channels: ChannelSettings
    files: LocalFileStore
    smtp: SmtpSink
    webhooks: WebhookReceiver
    notify: NotifyStandIn
    now: datetime

    def worker(self, **changes: object) -> Worker:
        return Worker(
            self.sessions,
            replace(self.channels, **changes) if changes else self.channels,  # type: ignore[arg-type]
            self.files,
            hooks=delivery_hooks(self.engine),
            name="test-worker",
        )

    def report(self, home_id: str = "H0001", *, source: str = "tenant", **details: object) -> int:
        with self.sessions.begin() as session:
            case, _ = record_report(
                session,
                report=ReportIn(
                    home_id=home_id,
                    hazard="damp_and_mould",
                    source=source,  # type: ignore[arg-type]
                    reported_at=self.now - timedelta(hours=1),
                    description="Black mould in the bedroom",
                ),
                actor="officer",
                now=self.now,
                engine=self.engine,
                details={"channel": "phone", "reference": "R-TEST1", **details},
            )
            return case.id

    def event(self, case_id: int, type: str, **fields: object) -> None:
        with self.sessions.begin() as session:
            record_event(
                session,
                case_id=case_id,
                event=EventIn(type=type, at=self.now, **fields),  # type: ignore[arg-type]
                actor="officer",
                now=self.now,
                engine=self.engine,
            )


@pytest.fixture
def world(case_db_url: str, tmp_path: Path) -> Iterator[World]:
    db = make_engine(case_db_url)
    upgrade(db)
    sessions = with_outbox(make_sessionmaker(db))
    homes = [f"H{h:04d}" for h in range(1, 5)]
    with sessions.begin() as session:
        import_registry(
            session,
            homes_text=homes_with_addresses_csv(4),
            households_text=households_csv(homes),
            tenancies_text=tenancies_csv(homes),
        )
    smtp = SmtpSink().start()
    receiver = WebhookReceiver().start()
    notify = NotifyStandIn().start()
    channels = ChannelSettings(
        smtp_url=smtp.url,
        mail_from="Damp team <damp@landlord.example>",
        notify_api_key=API_KEY,
        notify_base_url=notify.url,
        notify_sms_template_id=SMS_TEMPLATE,
        notify_letter_template_id=LETTER_TEMPLATE,
        staff_email="damp-team@landlord.example",
        public_url="https://homesafe.landlord.example",
        webhook_allow_private=True,
        landlord_name="Northside Homes",
        landlord_phone="0161 496 0000",
        landlord_email="repairs@northside.example",
    )
    engine = Engine(
        WorkingDayCalendar("Europe/London"),
        landlord=Landlord(
            "Northside Homes",
            "0161 496 0000",
            "repairs@northside.example",
            "1 Mill Street, Manchester M1 1AA",
        ),
    )
    yield World(
        sessions,
        engine,
        channels,
        LocalFileStore(tmp_path / "files"),
        smtp,
        receiver,
        notify,
        utc_now().replace(microsecond=0),
    )
    smtp.stop()
    receiver.stop()
    notify.stop()
    db.dispose()
