"""What the scheduler runs: sweep for overdue clocks and breach each exactly once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from compliance import repository, service
from compliance.models import Clock


def sweep_breaches(session: Session, *, now: datetime) -> int:
    """Breach every running clock whose deadline has passed; returns how many this sweep claimed."""
    claimed = 0
    for clock_id in repository.due_clock_ids(session, now=now):
        won = session.execute(
            update(Clock)
            .where(Clock.id == clock_id, Clock.status == "running")
            .values(status="breaching")
            .execution_options(synchronize_session=False)
        ).rowcount
        if not won:
            continue  # another scheduler took it
        clock = session.get(Clock, clock_id, populate_existing=True)
        assert clock is not None
        service.breach_clock(session, clock=clock, actor="scheduler", now=now)
        claimed += 1
    return claimed


def run_sweep(sessions: sessionmaker[Session], *, now: datetime) -> int:
    """One scheduler tick in its own transaction."""
    with sessions.begin() as session:
        return sweep_breaches(session, now=now)
