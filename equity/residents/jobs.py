"""What the scheduler runs for residents: the milestone surveys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from equity.residents.service import invite_surveys


def run_surveys(sessions: sessionmaker[Session], *, now: datetime) -> int:
    """One pass: each household is asked once per milestone, in one transaction with its event.

    Two schedulers racing lose nothing: the invitation's (work order, milestone, home) is unique,
    so the second one's transaction fails whole and the first one's stands."""
    with sessions.begin() as session:
        return invite_surveys(session, now=now)
