"""What the scheduler runs: settle post-repair verification."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from compliance.service import Engine
from repairs.service import VerificationSummary, verify_repairs


def run_verification(
    sessions: sessionmaker[Session], *, now: datetime, engine: Engine
) -> VerificationSummary:
    """One verification tick in its own transaction."""
    with sessions.begin() as session:
        return verify_repairs(session, now=now, engine=engine)
