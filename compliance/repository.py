"""Every compliance query."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, case, func, or_, select, true, update
from sqlalchemy.orm import Session, aliased, lazyload

from compliance.models import Case, Clock, ClockWarning


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
    """Cases ordered by their nearest running deadline (``next_due_at``; cases with none last)."""
    query: Select[Case] = select(Case).options(lazyload(Case.events), lazyload(Case.evidence))
    if status is not None:
        query = query.where(Case.status == status)
    if hazard is not None:
        query = query.where(Case.hazard == hazard)
    if home_id is not None:
        query = query.where(Case.home_id == home_id)
    if breached is not None:
        # Both forms match the partial index ix_clock_breached_case_id (breaches are few).
        breach = Clock.status.in_(("breached", "breached_excused"))
        if breached:
            query = query.where(Case.id.in_(select(Clock.case_id).where(breach)))
        else:
            query = query.where(~select(Clock.id).where(Clock.case_id == Case.id, breach).exists())
    # NULLS LAST is PostgreSQL's default for ascending order, so ix_case_status_next_due_at serves it.
    query = query.order_by(Case.next_due_at.asc().nulls_last(), Case.id)
    return session.scalars(query.limit(limit).offset(offset)).all()


def claim_due_clocks(session: Session, *, now: datetime, limit: int = 1000) -> list[Row[Any]]:
    """Mark up to ``limit`` overdue running clocks breached, dated at their deadline, in one statement.

    Returns ``(id, case_id, kind, due_at)`` of the rows this transaction won. The conditional
    update (``status = 'running'``) means of two schedulers only one wins a row; on PostgreSQL the
    due rows' cases are locked ``FOR UPDATE SKIP LOCKED`` (every writer locks the case first), so
    a second scheduler, or an officer's request, is skipped rather than waited for.
    """
    due = aliased(Clock)
    chosen = (
        select(due.id)
        .join(Case, Case.id == due.case_id)
        .where(due.status == "running", due.due_at < now)
        .order_by(due.due_at, due.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        chosen = chosen.with_for_update(skip_locked=True, of=Case)
    claim = (
        update(Clock)
        .where(
            Clock.id.in_(chosen.scalar_subquery()), Clock.status == "running", Clock.due_at < now
        )
        .values(status="breached", breached_at=Clock.due_at)
        .returning(Clock.id, Clock.case_id, Clock.kind, Clock.due_at)
        .execution_options(synchronize_session=False)
    )
    return list(session.execute(claim))


def accommodation_of(session: Session, *, case_ids: list[int]) -> dict[int, str]:
    """Each case's accommodation duty, by case id."""
    rows = session.execute(select(Case.id, Case.accommodation).where(Case.id.in_(case_ids)))
    return {row.id: row.accommodation for row in rows}


def refresh_after_breach(
    session: Session, *, case_ids: list[int], accommodation_due: list[int]
) -> None:
    """One update of the cases whose clocks were breached: ``next_due_at`` from their running
    clocks, and the duty to offer alternative accommodation on ``accommodation_due``."""
    nearest = (
        select(func.min(Clock.due_at))
        .where(Clock.case_id == Case.id, Clock.status == "running")
        .scalar_subquery()
    )
    values: dict[str, Any] = {"next_due_at": nearest}
    if accommodation_due:
        due = Case.id.in_(accommodation_due)
        values["accommodation"] = case((due, "due"), else_=Case.accommodation)
        values["alternative_accommodation_due"] = case(
            (due, true()), else_=Case.alternative_accommodation_due
        )
    session.execute(
        update(Case)
        .where(Case.id.in_(case_ids))
        .values(values)
        .execution_options(synchronize_session=False)
    )


def due_warning_ids(session: Session, *, now: datetime, limit: int = 1000) -> list[int]:
    """Unfired warnings now due whose clock still runs and is not yet overdue, locked (skip locked) on PostgreSQL."""
    query = (
        select(ClockWarning.id)
        .join(Clock, Clock.id == ClockWarning.clock_id)
        .where(
            ClockWarning.fired_at.is_(None),
            ClockWarning.warn_at <= now,
            Clock.status == "running",
            Clock.due_at >= now,  # past the deadline a warning is moot: the breach follows
        )
        .order_by(ClockWarning.warn_at, ClockWarning.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=ClockWarning)
    return list(session.scalars(query))


def clocks_in_period(session: Session, *, start: datetime, end: datetime) -> Sequence[Clock]:
    """Clocks of every case that ran in [start, end): started before end, and not done before start."""
    query = (
        select(Clock)
        .join(Case, Case.id == Clock.case_id)
        .where(
            Clock.started_at < end,
            or_(Clock.met_at.is_(None), Clock.met_at >= start, Clock.due_at >= start),
        )
        .order_by(Clock.case_id, Clock.id)
    )
    return session.scalars(query).all()


def open_cases(session: Session) -> Sequence[Case]:
    """Every open case."""
    return session.scalars(select(Case).where(Case.status == "open").order_by(Case.id)).all()


def all_clocks(session: Session) -> Sequence[Clock]:
    """Every clock."""
    return session.scalars(select(Clock).order_by(Clock.id)).all()
