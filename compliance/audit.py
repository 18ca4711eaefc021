"""The tamper-evident audit log: a SHA-256 hash chain over canonical entries."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from compliance.models import AuditEntry
from registry.clock import to_rfc3339

GENESIS_HASH = "0" * 64


def canonical_content(
    *,
    entry_id: int,
    at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    prev_hash: str,
) -> bytes:
    """The bytes an entry's hash covers: sorted-key compact JSON, times in RFC 3339 UTC."""
    content = {
        "id": entry_id,
        "at": to_rfc3339(at),
        "actor": actor,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "before": before,
        "after": after,
        "prev_hash": prev_hash,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(
        canonical_content(
            entry_id=entry.id,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            entity_type=entry.entity_type,
            entity_id=entry.entity_id,
            before=entry.before,
            after=entry.after,
            prev_hash=entry.prev_hash,
        )
    ).hexdigest()


def append(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the chain; appends are serialised so the chain never forks."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7346201)"))
    last = session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    entry = AuditEntry(
        id=(last.id + 1) if last else 1,
        at=at,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=_jsonable(before),
        after=_jsonable(after),
        prev_hash=last.hash if last else GENESIS_HASH,
    )
    entry.hash = entry_hash(entry)
    session.add(entry)
    session.flush()
    return entry


def append_many(session: Session, entries: list[dict[str, Any]]) -> list[AuditEntry]:
    """Append several entries (each with append's keyword arguments) in one locked step."""
    if not entries:
        return []
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7346201)"))
    last = session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    next_id, prev_hash = ((last.id + 1), last.hash) if last else (1, GENESIS_HASH)
    made = []
    for fields in entries:
        entry = AuditEntry(
            id=next_id,
            at=fields["at"],
            actor=fields["actor"],
            action=fields["action"],
            entity_type=fields["entity_type"],
            entity_id=str(fields["entity_id"]),
            before=_jsonable(fields.get("before")),
            after=_jsonable(fields.get("after")),
            prev_hash=prev_hash,
        )
        entry.hash = entry_hash(entry)
        made.append(entry)
        next_id, prev_hash = next_id + 1, entry.hash
    session.add_all(made)
    session.flush()
    return made


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    entries: int
    first_broken_id: int | None = None
    reason: str | None = None


def verify(session: Session, *, batch: int = 5000) -> VerifyResult:
    """Recompute the whole chain and name the first entry whose hash or link is wrong."""
    prev_hash = GENESIS_HASH
    expected_id = 1
    count = 0
    last_id = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            return VerifyResult(ok=True, entries=count)
        for entry in rows:
            if entry.id != expected_id:
                return VerifyResult(False, count, expected_id, f"entry {expected_id} is missing")
            if entry.prev_hash != prev_hash:
                return VerifyResult(False, count, entry.id, "does not link to the entry before it")
            if entry_hash(entry) != entry.hash:
                return VerifyResult(False, count, entry.id, "content does not match its hash")
            prev_hash = entry.hash
            expected_id += 1
            count += 1
            last_id = entry.id
        session.expunge_all()


def _jsonable(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return json.loads(json.dumps(value, default=_default, sort_keys=True))


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return to_rfc3339(value)
    return str(value)
