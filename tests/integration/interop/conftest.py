"""A migrated case database (SQLite and PostgreSQL) holding the interop fleet."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session, sessionmaker

from compliance.calendar import WorkingDayCalendar
from compliance.service import Engine
from homesafe.database import make_engine, make_sessionmaker
from homesafe.migrate import upgrade
from tests.interop_fleet import Fleet, build_fleet


@dataclass
class Store:
    url: str
    sessions: sessionmaker[Session]
    engine: Engine
    fleet: Fleet | None = None


def open_store(url: str) -> tuple[Store, object]:
    db = make_engine(url)
    upgrade(db)
    return Store(url, make_sessionmaker(db), Engine(WorkingDayCalendar("Europe/London"))), db


@pytest.fixture
def store(case_db_url: str) -> Iterator[Store]:
    """The fleet with every kind of case, step and work order, on SQLite and PostgreSQL."""
    opened, db = open_store(case_db_url)
    opened.fleet = build_fleet(opened.sessions, opened.engine)
    yield opened
    db.dispose()  # type: ignore[attr-defined]
