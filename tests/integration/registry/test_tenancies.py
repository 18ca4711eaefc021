"""tenancies.csv and home addresses on SQLite and PostgreSQL: validated whole, one running tenancy
per home, the tenancy on a day, and the CLI recognising each file by its header."""

from __future__ import annotations

from datetime import date

import pytest

from homesafe.database import make_engine, make_sessionmaker
from homesafe.migrate import upgrade
from registry import repository
from registry.service import RegistryImportError, file_kind, import_registry, needs_of
from tests.factories import homes_csv, households_csv, tenancies_csv

pytestmark = pytest.mark.integration


@pytest.fixture
def sessions(case_db_url):
    engine = make_engine(case_db_url)
    upgrade(engine)
    made = make_sessionmaker(engine)
    with made.begin() as session:
        import_registry(session, homes_text=homes_csv(homes=3, sensors_per_home=1))
    yield made
    engine.dispose()


def test_tenancies_import_and_the_tenancy_on_a_day(sessions):
    ended = tenancies_csv(
        ["H0001"],
        tenancy_ref="OLD-1",
        start_date="2015-01-01",
        end_date="2020-03-31",
        tenure="shared_ownership",
    )
    running = tenancies_csv(["H0001", "H0002"])
    with sessions.begin() as session:
        summary = import_registry(session, tenancies_text=ended)
        assert summary.tenancies == 1
        summary = import_registry(session, tenancies_text=running)
        assert summary.tenancies == 2
    with sessions() as session:
        assert repository.tenancy_on(session, "H0001", date(2019, 6, 1)).tenancy_ref == "OLD-1"
        assert repository.tenancy_on(session, "H0001", date(2026, 12, 1)).tenancy_ref == "T-H0001"
        assert repository.tenancy_on(session, "H0003", date(2026, 12, 1)) is None
        assert repository.running_tenancies(session) == {"H0001": "T-H0001", "H0002": "T-H0002"}


def test_every_bad_tenancy_row_is_reported_and_nothing_is_written(sessions):
    rows = tenancies_csv(["H0001", "H0002", "H0003", "H9999"]).splitlines()
    rows[1] = rows[1].replace("social_rent", "freehold")
    rows[2] = rows[2].replace("tenant2@example.org", "not-an-email")
    rows[3] = rows[3].replace(",en", ",english please")
    text = "\n".join(rows) + "\n"
    with pytest.raises(RegistryImportError) as refused, sessions.begin() as session:
        import_registry(session, tenancies_text=text)
    reasons = {error.line: error.reason for error in refused.value.errors}
    assert sorted(reasons) == [2, 3, 4, 5]
    assert "tenure 'freehold'" in reasons[2]
    assert "email" in reasons[3]
    assert "BCP 47" in reasons[4]
    assert "H9999" in reasons[5]
    with sessions() as session:
        assert repository.running_tenancies(session) == {}


def test_a_second_running_tenancy_is_refused_until_the_first_ends(sessions):
    with sessions.begin() as session:
        import_registry(session, tenancies_text=tenancies_csv(["H0001"]))
    with pytest.raises(RegistryImportError) as refused, sessions.begin() as session:
        import_registry(session, tenancies_text=tenancies_csv(["H0001"], tenancy_ref="NEW-1"))
    assert "already has a running tenancy (T-H0001)" in refused.value.errors[0].reason
    # Ending the old one in the same file lets the new one in.
    both = (
        tenancies_csv(["H0001"], end_date="2026-11-30")
        + tenancies_csv(["H0001"], tenancy_ref="NEW-1", start_date="2026-12-01").split("\n", 1)[1]
    )
    with sessions.begin() as session:
        import_registry(session, tenancies_text=both)
    with sessions() as session:
        assert repository.running_tenancies(session) == {"H0001": "NEW-1"}


def test_addresses_are_kept_when_a_later_homes_csv_has_none(sessions):
    with_address = homes_csv(homes=1, sensors_per_home=1).splitlines()
    with_address[0] += ",address"
    with_address[1] += ',"Flat 3, 12 Mill Lane, Salford"'
    with sessions.begin() as session:
        import_registry(session, homes_text="\n".join(with_address) + "\n")
    with sessions.begin() as session:
        import_registry(session, homes_text=homes_csv(homes=1, sensors_per_home=1))
    with sessions() as session:
        assert repository.get_home(session, "H0001").address == "Flat 3, 12 Mill Lane, Salford"


def test_files_are_recognised_by_their_header():
    assert file_kind(homes_csv(homes=1)) == "homes"
    assert file_kind(households_csv(["H0001"])) == "households"
    assert file_kind(tenancies_csv(["H0001"])) == "tenancies"
    assert file_kind("a,b,c\n1,2,3\n") is None


def test_needs_name_the_risk_without_the_detail(sessions):
    text = households_csv(["H0001", "H0002"], over_65="yes", language_needs="Polish interpreter")
    with sessions.begin() as session:
        import_registry(session, households_text=text)
    with sessions() as session:
        needs = needs_of(repository.get_household(session, "H0001"))
    assert needs == ("child_under_5", "over_65", "language")
    assert needs_of(None) == ()
