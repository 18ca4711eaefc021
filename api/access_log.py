"""The access log of special-category data (issue 12): every read of a household's needs (which
carry health and disability) or of an analysis by residents' groups (ethnicity, disability, age)
is recorded with who, when, what and through which door, in the request's own transaction.
Compliance and admins read it (GET /api/v1/audit/special-category-reads, the admin page)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import SpecialCategoryRead
from equity.outcomes import HOUSEHOLD_GROUPS

HOUSEHOLD_NEEDS = "household_needs"
EQUITY_ANALYSIS = "equity_analysis"


def record_read(
    session: Session, *, actor: str, role: str, what: str, subject: str, via: str, now: datetime
) -> None:
    """Keep one read of special-category data."""
    session.add(
        SpecialCategoryRead(
            at=now,
            actor=actor[:64],
            role=role[:16],
            what=what,
            subject=subject[:200],
            via=via[:200],
        )
    )
    session.flush()


def reads(
    session: Session, *, since: datetime | None = None, limit: int = 100
) -> Sequence[SpecialCategoryRead]:
    """The newest reads first."""
    query = select(SpecialCategoryRead)
    if since is not None:
        query = query.where(SpecialCategoryRead.at >= since)
    return session.scalars(query.order_by(SpecialCategoryRead.id.desc()).limit(limit)).all()


def record_analysis(
    session: Session,
    *,
    actor: str,
    role: str,
    dimensions: Sequence[str],
    outcome: str,
    via: str,
    now: datetime,
) -> None:
    """Keep an equity analysis that groups residents by special-category (household) data."""
    special = [d for d in dimensions if d in HOUSEHOLD_GROUPS]
    if special:
        record_read(
            session,
            actor=actor,
            role=role,
            what=EQUITY_ANALYSIS,
            subject=f"{outcome} by {', '.join(special)}",
            via=via,
            now=now,
        )
