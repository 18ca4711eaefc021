"""Person alert codes from households.csv are stored with the household (special-category),
kept when a later households.csv has no alert_codes column, and raise the case's needs."""

from __future__ import annotations

import pytest

from registry import repository
from registry.service import import_registry, needs_of
from tests.factories import homes_csv, households_csv
from tests.integration.interop.conftest import open_store

pytestmark = pytest.mark.integration


def test_codes_are_stored_kept_and_counted(case_db_url):
    store, db = open_store(case_db_url)
    try:
        with store.sessions.begin() as session:
            import_registry(
                session,
                homes_text=homes_csv(homes=2, sensors_per_home=1),
                households_text=households_csv(
                    ["H0001"], alert_codes="med1.01;AGE1.07", children_under_5="no"
                ),
            )
        with store.sessions.begin() as session:
            import_registry(
                session, households_text=households_csv(["H0001"], children_under_5="no")
            )
        with store.sessions() as session:
            household = repository.get_household(session, "H0001")
            assert household.alert_codes == "MED1.01;AGE1.07"
            assert needs_of(household) == ("over_65", "health_or_disability")
        with store.sessions.begin() as session:
            import_registry(
                session,
                households_text=households_csv(["H0001"], alert_codes="", children_under_5="no"),
            )
        with store.sessions() as session:
            assert needs_of(repository.get_household(session, "H0001")) == ()
    finally:
        db.dispose()  # type: ignore[attr-defined]
