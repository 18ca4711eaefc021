"""The tamper-evident audit log: a SHA-256 hash chain over canonical entries."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from compliance.models import AuditCheckpoint, AuditEntry
from registry.clock import to_rfc3339

GENESIS_HASH = "0" * 64
CHAIN_LOCK = 7346201  # the advisory lock every append takes on PostgreSQL


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
    """The SHA-256 of a stored entry's canonical content."""
    return _hash(
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


def _hash(**content: Any) -> str:
    return hashlib.sha256(canonical_content(**content)).hexdigest()


def _lock_chain(session: Session) -> tuple[int, str]:
    """Serialise appends (on PostgreSQL, until the transaction ends) and read the chain's head."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SELECT pg_advisory_xact_lock({CHAIN_LOCK})"))
    last = session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    return ((last.id + 1), last.hash) if last else (1, GENESIS_HASH)


def _chained(fields: dict[str, Any], entry_id: int, prev_hash: str) -> dict[str, Any]:
    """One entry's column values, hashed onto ``prev_hash``."""
    row = {
        "id": entry_id,
        "at": fields["at"],
        "actor": fields["actor"],
        "action": fields["action"],
        "entity_type": fields["entity_type"],
        "entity_id": str(fields["entity_id"]),
        "before": _jsonable(fields.get("before")),
        "after": _jsonable(fields.get("after")),
        "prev_hash": prev_hash,
    }
    row["hash"] = _hash(entry_id=entry_id, **{k: v for k, v in row.items() if k != "id"})
    return row


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
    next_id, prev_hash = _lock_chain(session)
    row = _chained(
        {
            "at": at,
            "actor": actor,
            "action": action,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "before": before,
            "after": after,
        },
        next_id,
        prev_hash,
    )
    entry = AuditEntry(**row)
    session.add(entry)
    session.flush()
    return entry


def append_many(session: Session, entries: list[dict[str, Any]]) -> int:
    """Append several entries (each with append's keyword arguments) in one locked step.

    The chain head is read once under the lock, the hashes are chained here, and the rows go in
    as one bulk insert; returns how many were appended.
    """
    if not entries:
        return 0
    next_id, prev_hash = _lock_chain(session)
    rows = []
    for fields in entries:
        row = _chained(fields, next_id, prev_hash)
        rows.append(row)
        next_id, prev_hash = next_id + 1, row["hash"]
    session.execute(insert(AuditEntry), rows)
    return len(rows)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """What verify found. ``ok``: no break found. Whether that proves anything depends on the key:
    ``verdict`` is "intact" only when the chain matches checkpoints whose signatures were checked;
    ``proven`` and ``not_proven`` say in words what this check could and could not show."""

    ok: bool
    entries: int
    first_broken_id: int | None = None
    reason: str | None = None
    checkpoints: int = 0
    signed: bool = field(default=False, compare=False)
    newest_checkpoint: date | None = field(default=None, compare=False)
    proven: tuple[str, ...] = field(default=(), compare=False)
    not_proven: tuple[str, ...] = field(default=(), compare=False)

    @property
    def verdict(self) -> str:
        """ "broken", "intact" (consistent and anchored to signed checkpoints) or "unproven"."""
        if not self.ok:
            return "broken"
        return "intact" if self.signed else "unproven"


def _as_key(key: bytes | str | None) -> bytes | None:
    """The HMAC key as bytes (settings hold it as text); None or empty: no key."""
    if not key:
        return None
    return key.encode() if isinstance(key, str) else key


def checkpoint_signature(key: bytes | str, *, day: date, entries: int, head_hash: str) -> str:
    """HMAC-SHA256 (hex) of a checkpoint's day, entry count and head hash."""
    message = f"{day.isoformat()}|{entries}|{head_hash}".encode()
    return hmac.new(_as_key(key) or b"", message, hashlib.sha256).hexdigest()


def write_checkpoint(
    session: Session, *, day: date, now: datetime, key: bytes | str | None = None
) -> AuditCheckpoint | None:
    """Record the chain's head as it stands for ``day`` (signed when a key is given), once a day;
    None when the day has its checkpoint already."""
    key = _as_key(key)
    next_id, head_hash = _lock_chain(session)  # appends wait until this transaction ends
    if session.scalar(select(AuditCheckpoint.id).where(AuditCheckpoint.day == day)) is not None:
        return None
    entries = next_id - 1
    checkpoint = AuditCheckpoint(
        day=day,
        written_at=now,
        entries=entries,
        head_hash=head_hash,
        signature=(
            checkpoint_signature(key, day=day, entries=entries, head_hash=head_hash)
            if key
            else None
        ),
    )
    session.add(checkpoint)
    session.flush()
    return checkpoint


def _limits(
    *, key: bytes | None, entries: int, checkpoints: list[AuditCheckpoint]
) -> tuple[bool, tuple[str, ...], tuple[str, ...]]:
    """(signed, proven, not proven) for a chain that verified without a break."""
    proven = [
        f"all {entries} entries link to the entry before them and match their hashes",
    ]
    not_proven: list[str] = []
    newest = checkpoints[-1] if checkpoints else None
    if key is None:
        not_proven.append(
            "no key (HOMESAFE_AUDIT_KEY) was given: anyone able to write the database could "
            "have rewritten the whole chain and its checkpoints consistently, or emptied the log; "
            "the chain is consistent, not proven"
        )
        return False, tuple(proven), tuple(not_proven)
    if newest is None:
        not_proven.append(
            "there is no signed checkpoint yet (the scheduler writes one a day): an emptied log "
            "cannot be told from a new one, and a rewritten chain cannot be told from the original"
            if entries == 0
            else "there is no signed checkpoint yet (the scheduler writes one a day): the chain "
            "could have been rewritten consistently"
        )
        return False, tuple(proven), tuple(not_proven)
    proven.append(
        f"the chain up to entry {newest.entries} is the one the {len(checkpoints)} signed "
        f"checkpoint(s) recorded, the newest of {newest.day}"
    )
    not_proven.append(
        f"entries after {newest.entries} (the checkpoint of {newest.day}) are not covered by a "
        "signature yet, and checkpoints newer than that one could have been removed together with "
        "the entries after it: compare with a copy of the newest checkpoint kept outside the "
        "database"
    )
    return True, tuple(proven), tuple(not_proven)


def verify(session: Session, *, batch: int = 5000, key: bytes | str | None = None) -> VerifyResult:
    """Recompute the whole chain and name the first entry whose hash or link is wrong.

    Each daily checkpoint must match the chain: the entry it names has the head hash it recorded,
    and the chain is at least as long as it was then (a cut-off tail shows here). With ``key``,
    every checkpoint must also carry its valid signature. The result says what was proven and
    what was not (without a key, nothing is anchored: see ``VerifyResult.verdict``).
    """
    key = _as_key(key)
    checkpoints = list(
        session.scalars(
            select(AuditCheckpoint).order_by(AuditCheckpoint.entries, AuditCheckpoint.day)
        ).all()
    )
    at_entry: dict[int, list[AuditCheckpoint]] = {}
    for checkpoint in checkpoints:
        if key is not None and checkpoint.signature != checkpoint_signature(
            key, day=checkpoint.day, entries=checkpoint.entries, head_hash=checkpoint.head_hash
        ):
            return VerifyResult(
                False,
                0,
                checkpoint.entries,
                f"the checkpoint of {checkpoint.day} does not carry a valid signature",
                len(checkpoints),
            )
        at_entry.setdefault(checkpoint.entries, []).append(checkpoint)
    found = len(checkpoints)
    newest_day = max((c.day for c in checkpoints), default=None)
    prev_hash = GENESIS_HASH
    expected_id = 1
    count = 0
    last_id = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            break
        for entry in rows:
            if entry.id != expected_id:
                return VerifyResult(
                    False, count, expected_id, f"entry {expected_id} is missing", found
                )
            if entry.prev_hash != prev_hash:
                return VerifyResult(
                    False, count, entry.id, "does not link to the entry before it", found
                )
            if entry_hash(entry) != entry.hash:
                return VerifyResult(
                    False, count, entry.id, "content does not match its hash", found
                )
            for checkpoint in at_entry.get(entry.id, ()):
                if checkpoint.head_hash != entry.hash:
                    return VerifyResult(
                        False,
                        count,
                        entry.id,
                        f"does not match the head recorded by the checkpoint of {checkpoint.day}",
                        found,
                    )
            prev_hash = entry.hash
            expected_id += 1
            count += 1
            last_id = entry.id
        session.expunge_all()
    if checkpoints and checkpoints[-1].entries > count:
        latest = checkpoints[-1]
        return VerifyResult(
            False,
            count,
            count + 1,
            f"the log ends at entry {count} but the checkpoint of {latest.day} recorded "
            f"{latest.entries} entries: its tail was cut off",
            found,
        )
    signed, proven, not_proven = _limits(key=key, entries=count, checkpoints=checkpoints)
    return VerifyResult(
        ok=True,
        entries=count,
        checkpoints=found,
        signed=signed,
        newest_checkpoint=newest_day,
        proven=proven,
        not_proven=not_proven,
    )


_PLAIN = (str, int, float, bool, type(None))


def _plain(value: object) -> bool:
    """Whether the value is JSON already (string keys, JSON scalars), so needs no round trip."""
    if isinstance(value, dict):
        return all(type(k) is str and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return isinstance(value, _PLAIN) and value == value  # NaN is not JSON: let json decide


def _jsonable(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None or _plain(value):
        return value
    plain: dict[str, Any] = json.loads(json.dumps(value, default=_default, sort_keys=True))
    return plain


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return to_rfc3339(value)
    return str(value)


@dataclass(frozen=True, slots=True)
class EntryCheck:
    """One entry re-checked: its own hash, and its link to the entry before it."""

    entry: AuditEntry
    hash_ok: bool
    link_ok: bool


def verify_entries(session: Session, entries: list[AuditEntry]) -> list[EntryCheck]:
    """Re-check the given entries (a case's, say): each one's content against its hash, and its
    ``prev_hash`` against the hash of the entry before it in the chain."""
    before_ids = [e.id - 1 for e in entries if e.id > 1]
    hashes: dict[int, str] = {
        entry_id: entry_hash_
        for entry_id, entry_hash_ in session.execute(
            select(AuditEntry.id, AuditEntry.hash).where(AuditEntry.id.in_(before_ids))
        )
    }
    return [
        EntryCheck(
            entry=e,
            hash_ok=entry_hash(e) == e.hash,
            link_ok=e.prev_hash == (GENESIS_HASH if e.id == 1 else hashes.get(e.id - 1)),
        )
        for e in entries
    ]
