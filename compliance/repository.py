"""Every compliance query."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from compliance.models import Case, Clock


def open_case_for(session: Session, *, home_id: str, hazard: str) -> Case | None:
    """The one open case for a home and hazard, if any."""
    return session.scalars(
        select(Case).where(Case.home_id == home_id, Case.hazard == hazard, Case.status == "open")
    ).first()


def get_case(session: Session, case_id: int) -> Case | None:
    return session.get(Case, case_id)


def list_cases(
    session: Session,
    *,
    status: str | None = None,
    hazard: str | None = None,
    home_id: str | None = None,
    breached: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[Case]:
    """Cases ordered by their nearest running deadline (cases with none running last)."""
    nearest = (
        select(Clock.case_id, func.min(Clock.due_at).label("nearest_due"))
        .where(Clock.status == "running")
        .group_by(Clock.case_id)
        .subquery()
    )
    query: Select[tuple[Case]] = select(Case).outerjoin(nearest, nearest.c.case_id == Case.id)
    if status is not None:
        query = query.where(Case.status == status)
    if hazard is not None:
        query = query.where(Case.hazard == hazard)
    if home_id is not None:
        query = query.where(Case.home_id == home_id)
    if breached is not None:
        any_breach = (
            select(Clock.id)
            .where(Clock.case_id == Case.id, Clock.status.in_(("breached", "breached_excused")))
            .exists()
        )
        query = query.where(any_breach if breached else ~any_breach)
    query = query.order_by(nearest.c.nearest_due.is_(None), nearest.c.nearest_due, Case.id)
    return session.scalars(query.limit(limit).offset(offset)).all()


def due_clock_ids(session: Session, *, now: datetime, limit: int = 1000) -> list[int]:
    """Running clocks whose deadline has passed, locked for this sweep where the database can."""
    query = (
        select(Clock.id)
        .where(Clock.status == "running", Clock.due_at <= now)
        .order_by(Clock.due_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))
