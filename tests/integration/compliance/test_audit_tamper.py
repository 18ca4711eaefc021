"""The audit log is append-only on PostgreSQL, and any edit or deletion made around that (as a
superuser could) is found by verify at the entry touched."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from compliance import audit

pytestmark = pytest.mark.integration

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def fill(case_db, entries: int = 6) -> None:
    with case_db.sessions.begin() as session:
        for n in range(entries):
            audit.append(
                session,
                at=AT + timedelta(minutes=n),
                actor="officer-1",
                action="case.access_failed",
                entity_type="case",
                entity_id=1,
                before={"attempts": n},
                after={"attempts": n + 1},
            )


def verify(case_db) -> audit.VerifyResult:
    with case_db.sessions() as session:
        return audit.verify(session)


@pytest.mark.parametrize("case_db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entry SET actor = 'someone-else' WHERE id = 3",
        "DELETE FROM audit_entry WHERE id = 3",
        "TRUNCATE audit_entry",
    ],
)
def test_postgresql_refuses_update_delete_and_truncate(case_db, statement):
    fill(case_db)
    with pytest.raises(DBAPIError, match="append-only"), case_db.db.begin() as connection:
        connection.execute(text(statement))
    assert verify(case_db) == audit.VerifyResult(ok=True, entries=6)


def tamper(case_db, statement: str) -> None:
    """What an attacker with superuser rights does: switch the trigger off, edit, switch it back."""
    with case_db.db.begin() as connection:
        if case_db.db.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
        connection.execute(text(statement))
        if case_db.db.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_entry ENABLE TRIGGER USER"))


def test_an_edited_entry_breaks_verify_at_that_entry(case_db):
    fill(case_db)
    assert verify(case_db).ok
    tamper(case_db, "UPDATE audit_entry SET actor = 'someone-else' WHERE id = 4")
    result = verify(case_db)
    assert (result.ok, result.first_broken_id, result.entries) == (False, 4, 3)
    assert "hash" in result.reason


def test_an_edit_that_recomputes_its_own_hash_breaks_the_next_link(case_db):
    fill(case_db)
    with case_db.sessions() as session:
        entry = session.get(audit.AuditEntry, 2)
        entry.after = {"attempts": 99}
        forged = audit.entry_hash(entry)
        session.rollback()
    tamper(
        case_db,
        f"UPDATE audit_entry SET after = '{{\"attempts\": 99}}', hash = '{forged}' WHERE id = 2",
    )
    result = verify(case_db)
    assert (result.ok, result.first_broken_id) == (False, 3)
    assert "link" in result.reason


def test_a_deleted_entry_breaks_verify_where_it_was(case_db):
    fill(case_db)
    tamper(case_db, "DELETE FROM audit_entry WHERE id = 5")
    result = verify(case_db)
    assert (result.ok, result.first_broken_id) == (False, 5)
    assert "missing" in result.reason


def test_deleting_the_last_entry_is_not_visible_without_a_checkpoint(case_db):
    # A hash chain alone cannot see its tail cut off; record the head elsewhere to catch that.
    fill(case_db)
    tamper(case_db, "DELETE FROM audit_entry WHERE id = 6")
    assert verify(case_db) == audit.VerifyResult(ok=True, entries=5)


def test_api_and_cli_report_the_break(case_db, api, tmp_path):
    fill(case_db)
    tamper(case_db, "UPDATE audit_entry SET at = '2020-01-01 00:00:00+00' WHERE id = 2")
    body = api.client.get("/api/v1/audit/verify", headers=api.headers("compliance")).json()
    assert {k: body[k] for k in ("ok", "entries", "checkpoints", "first_broken_id", "reason")} == {
        "ok": False,
        "entries": 1,
        "checkpoints": 0,
        "first_broken_id": 2,
        "reason": "content does not match its hash",
    }
    assert body["verdict"] == "broken"
    assert api.client.get("/api/v1/audit/verify", headers=api.headers("officer")).status_code == 403
    cli = subprocess.run(
        [str(Path(sys.executable).with_name("homesafe")), "audit", "verify"],
        env={**os.environ, "HOMESAFE_DATABASE_URL": case_db.url},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 1, cli.stderr
    assert "broken at entry 2" in cli.stdout
