"""What the scheduler runs: breach overdue clocks and fire due warnings, each exactly once.

Deadlines are rows. A sweep asks the database what is due at ``now`` (an argument: tests freeze
time) and claims each row with a conditional update. On PostgreSQL the due rows are read
``FOR UPDATE SKIP LOCKED`` (the breach sweep locks the case rows, which every writer locks first),
so two schedulers on one database split the work and never double a breach or a warning. A
scheduler that was down across a deadline records the breach at the deadline's own time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from compliance import repository, service
from compliance.models import Clock, ClockWarning
from compliance.service import Engine

BATCH = 500


def sweep_breaches(session: Session, *, now: datetime, engine: Engine, limit: int = BATCH) -> int:
    """Breach running clocks whose deadline has passed; returns how many this sweep claimed."""
    claimed = 0
    for clock_id in repository.due_clock_ids(session, now=now, limit=limit):
        if service.breach_clock(
            session, clock_id=clock_id, actor="scheduler", now=now, engine=engine
        ):
            claimed += 1
    return claimed


def sweep_warnings(session: Session, *, now: datetime, limit: int = BATCH) -> int:
    """Fire the due warnings of still-running clocks; returns how many this sweep claimed."""
    fired = 0
    for warning_id in repository.due_warning_ids(session, now=now, limit=limit):
        won = session.execute(
            update(ClockWarning)
            .where(ClockWarning.id == warning_id, ClockWarning.fired_at.is_(None))
            .values(fired_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not won:
            continue
        warning = session.get(ClockWarning, warning_id, populate_existing=True)
        assert warning is not None
        clock = session.get(Clock, warning.clock_id)
        assert clock is not None
        service.fire_warning(session, warning=warning, clock=clock, now=now)
        fired += 1
    return fired


def run_sweep(sessions: sessionmaker[Session], *, now: datetime, engine: Engine) -> int:
    """One breach tick: batches, each in its own transaction, until nothing is due."""
    total = 0
    while True:
        with sessions.begin() as session:
            claimed = sweep_breaches(session, now=now, engine=engine)
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
