"""Daily checkpoints of the audit chain: a tail cut off below the latest checkpoint is found by
verify, and with HOMESAFE_AUDIT_KEY a rewritten checkpoint fails its HMAC signature."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from compliance import audit
from compliance.jobs import run_checkpoint
from compliance.models import AuditCheckpoint, AuditEntry

pytestmark = pytest.mark.integration

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
DAY = date(2026, 3, 2)
KEY = b"a test key, not a real one"


def fill(case_db, entries: int, first: int = 0) -> None:
    with case_db.sessions.begin() as session:
        for n in range(first, first + entries):
            audit.append(
                session,
                at=AT + timedelta(minutes=n),
                actor="officer-1",
                action="case.access_failed",
                entity_type="case",
                entity_id=1,
                after={"attempts": n + 1},
            )


def checkpoint(case_db, day: date = DAY, key: bytes | None = None) -> AuditCheckpoint | None:
    with case_db.sessions.begin() as session:
        made = audit.write_checkpoint(session, day=day, now=AT + timedelta(hours=1), key=key)
        if made is not None:
            session.expunge(made)
        return made


def verify(case_db, key: bytes | None = None) -> audit.VerifyResult:
    with case_db.sessions() as session:
        return audit.verify(session, key=key)


def tamper(case_db, *statements: str) -> None:
    """A superuser's edit: append-only triggers off, edit, triggers back on."""
    postgres = case_db.db.dialect.name == "postgresql"
    with case_db.db.begin() as connection:
        for table in ("audit_entry", "audit_checkpoint"):
            if postgres:
                connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        for statement in statements:
            connection.execute(text(statement))
        for table in ("audit_entry", "audit_checkpoint"):
            if postgres:
                connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))


def test_a_checkpoint_holds_the_head_once_a_day(case_db):
    fill(case_db, 6)
    made = checkpoint(case_db)
    with case_db.sessions() as session:
        head = session.scalar(select(AuditEntry.hash).where(AuditEntry.id == 6))
    assert (made.day, made.entries, made.head_hash, made.signature) == (DAY, 6, head, None)
    fill(case_db, 2, first=6)
    assert checkpoint(case_db) is None  # the day has its checkpoint already
    assert checkpoint(case_db, DAY + timedelta(days=1)).entries == 8
    assert verify(case_db) == audit.VerifyResult(ok=True, entries=8, checkpoints=2)


def test_a_tail_cut_off_below_the_latest_checkpoint_is_found(case_db):
    fill(case_db, 6)
    checkpoint(case_db)
    tamper(case_db, "DELETE FROM audit_entry WHERE id > 3")
    result = verify(case_db)
    assert (result.ok, result.entries, result.first_broken_id) == (False, 3, 4)
    assert "tail was cut off" in result.reason
    assert "2026-03-02" in result.reason


def test_a_chain_rewritten_under_a_checkpoint_does_not_match_its_head(case_db):
    fill(case_db, 4)
    checkpoint(case_db)
    # The whole chain rebuilt from entry 3 on (consistent links and hashes), as a forger would.
    with case_db.sessions() as session:
        prev, rows = session.get(AuditEntry, 2).hash, []
        for entry_id in (3, 4):
            entry = session.get(AuditEntry, entry_id)
            fields = {k: getattr(entry, k) for k in ("at", "actor", "action", "entity_type")}
            forged = {**fields, "entity_id": "1", "after": {"attempts": 90 + entry_id}}
            rows.append(audit._chained(forged, entry_id, prev))
            prev = rows[-1]["hash"]
    tamper(
        case_db,
        *[
            f"UPDATE audit_entry SET after = '{{\"attempts\": {row['after']['attempts']}}}', "
            f"hash = '{row['hash']}', prev_hash = '{row['prev_hash']}' WHERE id = {row['id']}"
            for row in rows
        ],
    )
    result = verify(case_db)
    assert (result.ok, result.first_broken_id) == (False, 4)
    assert "checkpoint of 2026-03-02" in result.reason


def test_a_signed_checkpoint_rewritten_to_hide_a_cut_fails_its_signature(case_db):
    fill(case_db, 6)
    made = checkpoint(case_db, key=KEY)
    message = f"2026-03-02|6|{made.head_hash}".encode()
    assert made.signature == hmac.new(KEY, message, hashlib.sha256).hexdigest()
    assert verify(case_db, key=KEY).ok
    assert not verify(case_db, key=b"another key").ok
    with case_db.sessions() as session:
        head_3 = session.scalar(select(AuditEntry.hash).where(AuditEntry.id == 3))
    tamper(
        case_db,
        "DELETE FROM audit_entry WHERE id > 3",
        f"UPDATE audit_checkpoint SET entries = 3, head_hash = '{head_3}'",
    )
    assert verify(case_db).ok  # without the key the forged checkpoint is consistent
    result = verify(case_db, key=KEY)
    assert not result.ok
    assert "signature" in result.reason


def test_the_job_writes_the_local_day_once(case_db):
    fill(case_db, 2)
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (BST).
    now = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    assert run_checkpoint(case_db.sessions, now=now, engine=case_db.engine, key=KEY)
    assert not run_checkpoint(case_db.sessions, now=now, engine=case_db.engine, key=KEY)
    with case_db.sessions() as session:
        [row] = session.scalars(select(AuditCheckpoint)).all()
        assert (row.day, row.entries, row.written_at) == (date(2026, 7, 1), 2, now)
        assert audit.verify(session, key=KEY).ok


@pytest.mark.parametrize("case_db_url", ["postgresql"], indirect=True)
def test_postgresql_refuses_to_edit_or_delete_a_checkpoint(case_db):
    from sqlalchemy.exc import DBAPIError

    fill(case_db, 2)
    checkpoint(case_db)
    for statement in ("UPDATE audit_checkpoint SET entries = 1", "DELETE FROM audit_checkpoint"):
        with pytest.raises(DBAPIError, match="append-only"), case_db.db.begin() as connection:
            connection.execute(text(statement))
