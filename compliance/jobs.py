"""What the scheduler runs: breach overdue clocks and fire due warnings, each exactly once.

Deadlines are rows. A sweep asks the database what is due at ``now`` (an argument: tests freeze
time) and claims each row with a conditional update. On PostgreSQL the due rows are read
``FOR UPDATE SKIP LOCKED`` (the breach sweep locks the case rows, which every writer locks first),
so two schedulers on one database split the work and never double a breach or a warning. A
scheduler that was down across a deadline records the breach at the deadline's own time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from compliance import audit, repository, service
from compliance.models import Clock, ClockWarning
from compliance.service import Engine

BATCH = 500


def sweep_breaches(session: Session, *, now: datetime, limit: int = BATCH) -> int:
    """Breach running clocks whose deadline has passed; returns how many this sweep claimed."""
    return service.breach_due_clocks(session, now=now, actor="scheduler", limit=limit)


def sweep_warnings(session: Session, *, now: datetime, limit: int = BATCH) -> int:
    """Fire the due warnings of still-running clocks; returns how many this sweep claimed."""
    warning_ids = repository.due_warning_ids(session, now=now, limit=limit)
    if not warning_ids:
        return 0
    won = list(
        session.scalars(
            update(ClockWarning)
            .where(ClockWarning.id.in_(warning_ids), ClockWarning.fired_at.is_(None))
            .values(fired_at=now)
            .returning(ClockWarning.id)
            .execution_options(synchronize_session=False)
        )
    )
    pairs = session.execute(
        select(ClockWarning, Clock)
        .join(Clock, Clock.id == ClockWarning.clock_id)
        .where(ClockWarning.id.in_(won))
        .order_by(ClockWarning.warn_at, ClockWarning.id)
    ).all()
    service.fire_warnings(session, warnings=[(w, c) for w, c in pairs], now=now)
    return len(pairs)


def run_sweep(sessions: sessionmaker[Session], *, now: datetime) -> int:
    """One breach tick: batches, each in its own transaction, until nothing is due."""
    total = 0
    while True:
        with sessions.begin() as session:
            claimed = sweep_breaches(session, now=now)
        total += claimed
        if claimed < BATCH:
            return total


def run_warnings(sessions: sessionmaker[Session], *, now: datetime) -> int:
    """One warning tick: batches, each in its own transaction, until nothing is due."""
    total = 0
    while True:
        with sessions.begin() as session:
            fired = sweep_warnings(session, now=now)
        total += fired
        if fired < BATCH:
            return total


def run_checkpoint(
    sessions: sessionmaker[Session], *, now: datetime, engine: Engine, key: bytes | None = None
) -> bool:
    """Write today's audit checkpoint (the local day in the calendar's time zone) if it is not
    written yet; True when this call wrote it."""
    day = now.astimezone(engine.calendar.tz).date()
    with sessions.begin() as session:
        return audit.write_checkpoint(session, day=day, now=now, key=key) is not None
