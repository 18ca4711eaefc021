"""Migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from homesafe.database import make_engine
from homesafe.migrate import upgrade
from homesafe.models import metadata

pytestmark = pytest.mark.integration


def test_upgrade_twice_then_no_difference_from_the_models(case_db_url):
    engine = make_engine(case_db_url)
    upgrade(engine)
    upgrade(engine)  # idempotent
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    assert differences == []
