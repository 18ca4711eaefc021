"""The registry import on SQLite and PostgreSQL: all or nothing, idempotent, households kept apart."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from homesafe.database import make_engine, make_sessionmaker
from homesafe.migrate import upgrade
from registry import repository
from registry.models import Gateway, Home, Household, Sensor
from registry.service import RegistryImportError, import_registry
from tests.factories import homes_csv, households_csv

pytestmark = pytest.mark.integration


@pytest.fixture
def sessions(case_db_url):
    engine = make_engine(case_db_url)
    upgrade(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def _count(sessions, table) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(table))


def test_import_writes_homes_gateways_sensors_and_households(sessions):
    with sessions.begin() as session:
        summary = import_registry(
            session,
            homes_text=homes_csv(homes=3, sensors_per_home=2),
            households_text=households_csv(["H0001", "H0003"]),
        )
    assert (summary.homes, summary.gateways, summary.sensors, summary.households) == (3, 3, 6, 2)
    assert (_count(sessions, Home), _count(sessions, Gateway), _count(sessions, Sensor)) == (
        3,
        3,
        6,
    )
    with sessions() as session:
        assert repository.gateway_homes(session)["gw-0002"] == "H0002"
        assert repository.get_household(session, "H0003").children_under_5 == "yes"


def test_one_bad_row_writes_nothing(sessions):
    good = homes_csv(homes=2, sensors_per_home=2)
    bad = good + homes_csv(homes=3, sensors_per_home=1, room="loft").splitlines()[-1] + "\n"
    with pytest.raises(RegistryImportError) as refused, sessions.begin() as session:
        import_registry(session, homes_text=bad)
    assert [(e.line, "room" in e.reason) for e in refused.value.errors] == [(6, True)]
    assert _count(sessions, Home) == 0
    assert _count(sessions, Sensor) == 0


def test_a_bad_household_row_refuses_the_homes_too(sessions):
    with pytest.raises(RegistryImportError), sessions.begin() as session:
        import_registry(
            session,
            homes_text=homes_csv(homes=1),
            households_text=households_csv(["H0001"], over_65="maybe"),
        )
    assert _count(sessions, Home) == 0
    assert _count(sessions, Household) == 0


def test_importing_again_updates_rather_than_duplicates(sessions):
    for archetype in ("flat", "house"):
        with sessions.begin() as session:
            import_registry(session, homes_text=homes_csv(homes=2, archetype=archetype))
    assert _count(sessions, Home) == 2
    with sessions() as session:
        assert repository.get_home(session, "H0001").archetype == "house"


def test_households_may_name_homes_already_registered(sessions):
    with sessions.begin() as session:
        import_registry(session, homes_text=homes_csv(homes=1))
    with sessions.begin() as session:
        import_registry(
            session, homes_text=homes_csv(homes=0), households_text=households_csv(["H0001"])
        )
    assert _count(sessions, Household) == 1
