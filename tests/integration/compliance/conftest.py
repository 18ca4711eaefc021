"""Fixtures for compliance against a real case database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine as SqlEngine
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.auth import add_user, create_token
from api.deps import AppContext
from compliance.calendar import WorkingDayCalendar
from compliance.service import Engine
from homesafe.database import make_engine, make_sessionmaker
from homesafe.migrate import upgrade
from ingest.store import open_telemetry_store
from registry.clock import utc_now
from registry.service import import_registry
from tests.factories import homes_csv


@dataclass
class CaseDb:
    url: str
    db: SqlEngine
    sessions: sessionmaker[Session]
    engine: Engine


@pytest.fixture
def case_db(case_db_url: str) -> Iterator[CaseDb]:
    """A migrated case database with homes H0001..H0020 registered."""
    db = make_engine(case_db_url)
    upgrade(db)
    sessions = make_sessionmaker(db)
    with sessions.begin() as session:
        import_registry(session, homes_text=homes_csv(homes=20, sensors_per_home=1))
    yield CaseDb(case_db_url, db, sessions, Engine(WorkingDayCalendar("Europe/London")))
    db.dispose()


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str]

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def api(case_db: CaseDb, tmp_path: Path) -> Iterator[Api]:
    """A TestClient over the case database with a real token per role."""
    tokens: dict[str, str] = {}
    with case_db.sessions.begin() as session:
        for role in ("officer", "compliance", "admin", "viewer"):
            add_user(session, name=f"{role}-1", role=role, now=utc_now())
            tokens[role] = create_token(session, name=f"{role}-1", now=utc_now())
    telemetry = open_telemetry_store(f"sqlite:///{tmp_path / 'telemetry.db'}")
    app = create_app(AppContext(case_db.sessions, telemetry, case_db.engine))
    with TestClient(app) as client:
        yield Api(client, tokens)
    telemetry.close()
