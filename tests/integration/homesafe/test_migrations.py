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


def test_a_database_with_cases_upgrades_from_the_first_schema(case_db_url):
    """An existing landlord's data survives every later migration (SQLite rebuilds tables to alter them)."""
    from alembic import command
    from sqlalchemy import text

    from homesafe.migrate import alembic_config

    engine = make_engine(case_db_url)
    config = alembic_config(case_db_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO home (home_id, archetype) VALUES ('H1', 'flat')"))
        connection.execute(
            text(
                'INSERT INTO "case" (id, home_id, hazard, category, source, aware_at, rule_set, status,'
                " stage, opened_at, access_failures, alternative_accommodation_due) VALUES (1, 'H1',"
                " 'damp_and_mould', 'potential', 'tenant', '2026-11-02 10:00:00', 'phase_1', 'open',"
                " 'awaiting_investigation', '2026-11-02 10:00:00', 0, false)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO clock (case_id, kind, started_at, due_at, status) VALUES"
                " (1, 'investigate', '2026-11-02 10:00:00', '2026-11-16 23:59:59', 'running')"
            )
        )
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT kind, status FROM clock")).all() == [
            ("investigate", "running")
        ]
        assert connection.execute(text('SELECT home_id FROM "case"')).scalar_one() == "H1"
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    assert differences == []
