"""A whole Homesafe site for the API and page tests: migrated case database, registry, people of
every role (each with a password and a token), a sensor case with readings, and the ASGI app."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import ROLES, add_user, create_token
from api.deps import AppContext
from api.session import COOKIE_NAME, start_session
from compliance.calendar import WorkingDayCalendar
from compliance.schemas import FindingIn, ReportIn
from compliance.service import Engine, record_finding, record_report
from homesafe.database import make_engine, make_sessionmaker
from homesafe.migrate import upgrade
from ingest.contract import Reading
from ingest.store import open_telemetry_store
from registry.clock import utc_now
from registry.service import import_registry
from tests.factories import homes_csv, households_csv

PASSWORD = "correct horse battery staple"


@dataclass
class Site:
    app: FastAPI
    context: AppContext
    tokens: dict[str, str]
    case_id: int
    tenant_case_id: int
    home_id: str
    gateway_id: str
    clock_id: int
    now: datetime
    sessions_by_role: dict[str, tuple[str, str]] = field(default_factory=dict)

    def client(self, role: str | None = None, *, bearer: bool = False) -> TestClient:
        """A client signed in as someone of the role: by session cookie, or by bearer token."""
        client = TestClient(self.app, follow_redirects=False)
        if role is not None and bearer:
            client.headers["Authorization"] = f"Bearer {self.tokens[role]}"
        elif role is not None:
            client.cookies.set(COOKIE_NAME, self.signed_in(role)[0])
        return client

    def signed_in(self, role: str) -> tuple[str, str]:
        """(cookie value, CSRF token) of a session for the role's person."""
        if role not in self.sessions_by_role:
            with self.context.sessions.begin() as session:
                from sqlalchemy import select

                from api.models import User

                user = session.scalars(select(User).where(User.name == role)).one()
                cookie, signed = start_session(session, user=user, now=utc_now())
            self.sessions_by_role[role] = (cookie, signed.csrf_token)
        return self.sessions_by_role[role]


def notice(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The message or error a page redirect leaves for the next page (api.pages.flash)."""
    from http.cookies import SimpleCookie

    from api.pages.flash import FLASH_COOKIE, unseal

    sent: SimpleCookie = SimpleCookie(response.request.headers.get("cookie", ""))
    session_cookie = sent[COOKIE_NAME].value if COOKIE_NAME in sent else None
    return unseal(session_cookie, response.cookies.get(FLASH_COOKIE))


def readings_for(
    home_id: str, gateway_id: str, sensor: str, *, end: datetime, hours: int
) -> list[Reading]:
    """A damp day: humidity rising over 80 % and back, temperature a cold 15–17 °C, every 10 minutes."""
    first = int(end.timestamp()) - hours * 3600
    out = []
    for i in range(hours * 6):
        ts = first + i * 600
        phase = i / (hours * 6)
        out.append(
            Reading(
                gateway_id,
                sensor,
                ts,
                temperature_c=round(16 + math.sin(phase * 6.28) * 1.0, 2),
                humidity_pct=round(72 + 14 * math.sin(phase * 3.14), 2),
                battery_pct=88.0 - phase,
                home_id=home_id,
            )
        )
    return out


def build_site(tmp_path: Path, case_db_url: str | None = None) -> Site:
    """Everything a test needs, on SQLite unless a case database URL is given."""
    engine = make_engine(case_db_url or f"sqlite:///{tmp_path / 'cases.db'}")
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    telemetry = open_telemetry_store(f"sqlite:///{tmp_path / 'telemetry.db'}")
    compliance = Engine(WorkingDayCalendar("Europe/London"))
    now = utc_now()
    tokens = {}
    with sessions.begin() as session:
        import_registry(
            session,
            homes_text=homes_csv(homes=3, sensors_per_home=2),
            households_text=households_csv(["H0001", "H0002"], vulnerability="asthma"),
        )
        for role in ROLES:
            add_user(session, name=role, role=role, now=now, password=PASSWORD)
            tokens[role] = create_token(session, name=role, now=now)
        add_user(session, name="officer2", role="officer", now=now, password=PASSWORD)
        case, _ = record_finding(
            session,
            finding=FindingIn(
                home_id="H0001",
                hazard="damp_and_mould",
                category="potential",
                detected_at=now - timedelta(hours=2),
                sensor="gw-0001/s1",
                room="living",
                rule="sustained_humidity",
                rule_version="1",
                window_start=now - timedelta(hours=14),
                window_end=now - timedelta(hours=2),
                figures={"hours_over_threshold_h": 9, "threshold_humidity_pct": 80.0},
                description="sustained humidity",
            ),
            now=now,
            engine=compliance,
        )
        tenant_case, _ = record_report(
            session,
            report=ReportIn(
                home_id="H0002",
                hazard="excess_cold",
                source="tenant",
                reported_at=now - timedelta(hours=20),
                description="The bedroom is freezing and the boiler keeps failing.",
                emergency=True,
            ),
            actor="officer",
            now=now,
            engine=compliance,
        )
        case_id, tenant_case_id, clock_id = case.id, tenant_case.id, case.clocks[0].id
    for sensor in ("s1", "s2"):
        telemetry.write(readings_for("H0001", "gw-0001", sensor, end=now, hours=24))
    context = AppContext(sessions=sessions, telemetry=telemetry, engine=compliance)
    return Site(
        app=create_app(context),
        context=context,
        tokens=tokens,
        case_id=case_id,
        tenant_case_id=tenant_case_id,
        home_id="H0001",
        gateway_id="gw-0001",
        clock_id=clock_id,
        now=now,
    )
