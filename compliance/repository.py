"""Every compliance query."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, and_, case, func, or_, select, true, update
from sqlalchemy.orm import Session, aliased, lazyload

from compliance.models import AuditEntry, Case, Clock, ClockWarning
from registry.models import Home
from registry.repository import homes_matching


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
    query: Select[Case] = select(Case).options(
        lazyload(Case.events), lazyload(Case.evidence), lazyload(Case.investigations)
    )
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
        values["accommodation_due_reason"] = case(
            (due, "breach"), else_=Case.accommodation_due_reason
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


# --- the hazard queue, search and the case's audit entries ----------------------------------------

BREACHED = ("breached", "breached_excused")


@dataclass(frozen=True)
class QueueQuery:
    """What the hazard queue is narrowed to (every field optional)."""

    status: str = "open"  # open | closed | all
    hazard: str | None = None
    category: str | None = None
    clock: str | None = None  # a kind of duty still outstanding
    area: str | None = None  # a postcode district
    officer: str | None = None  # a name, or "-" for nobody
    breached: bool = False  # a duty breached and still not done
    due_before: datetime | None = None  # a running deadline before this (due today)
    emergency: bool = False
    search: str | None = None
    search_personal: bool = False  # tenants' names, emails and phones may be searched


def _outstanding_breach() -> Any:
    """Per case, the deadline of its oldest breached duty still not done."""
    return (
        select(Clock.case_id, func.min(Clock.due_at).label("overdue_since"))
        .where(Clock.status.in_(BREACHED), Clock.met_at.is_(None))
        .group_by(Clock.case_id)
        .subquery()
    )


def _queue_base(query: QueueQuery) -> Select[Case, str | None, str | None]:
    base = select(Case, Home.postcode, Home.address).join(Home, Home.home_id == Case.home_id)
    if query.status in ("open", "closed"):
        base = base.where(Case.status == query.status)
    if query.hazard:
        base = base.where(Case.hazard == query.hazard)
    if query.category:
        base = base.where(Case.category == query.category)
    if query.clock:
        base = base.where(
            select(Clock.id)
            .where(Clock.case_id == Case.id, Clock.kind == query.clock, Clock.met_at.is_(None))
            .exists()
        )
    if query.area:
        area = query.area.strip().upper()
        base = base.where(
            or_(func.upper(Home.postcode) == area, func.upper(Home.postcode).like(f"{area} %"))
        )
    if query.officer == "-":
        base = base.where(Case.assigned_to.is_(None))
    elif query.officer:
        base = base.where(Case.assigned_to == query.officer)
    if query.due_before is not None:
        base = base.where(
            select(Clock.id)
            .where(
                Clock.case_id == Case.id,
                Clock.status == "running",
                Clock.due_at < query.due_before,
            )
            .exists()
        )
    if query.emergency:
        base = base.where(
            or_(
                Case.category == "emergency",
                select(Clock.id)
                .where(
                    Clock.case_id == Case.id,
                    Clock.kind == "emergency_action",
                    Clock.met_at.is_(None),
                )
                .exists(),
            )
        )
    if query.search and query.search.strip():
        text = query.search.strip()
        number = re.fullmatch(r"(?:case\s*)?#?\s*(\d{1,9})", text, flags=re.IGNORECASE)
        matches: list[Any] = [
            Case.home_id.in_(homes_matching(text, personal=query.search_personal))
        ]
        if number:
            matches.append(Case.id == int(number.group(1)))
        if query.search_personal:
            matches.append(Case.tenancy_ref == text)
        base = base.where(or_(*matches))
    return base


def hazard_queue(
    session: Session, *, query: QueueQuery, limit: int = 100, offset: int = 0
) -> tuple[list[tuple[Case, str | None, str | None]], int, int]:
    """Cases in order of urgency: those with a breached duty still not done first (the longest
    overdue first), then the nearest running deadline; closed cases last, latest closed first.

    Returns (rows of case, postcode, address), how many match, and how many of those have a
    breached duty outstanding. Two ordered queries rather than one sort: breaches are few, and
    the rest is read in ``next_due_at`` order from its index.
    """
    base = _queue_base(query).options(
        lazyload(Case.events), lazyload(Case.evidence), lazyload(Case.investigations)
    )
    overdue = _outstanding_breach()
    first = base.join(overdue, overdue.c.case_id == Case.id)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    breached = session.scalar(select(func.count()).select_from(first.subquery())) or 0
    rows: list[tuple[Case, str | None, str | None]] = []
    if offset < breached:
        rows += [
            (case, postcode, address)
            for case, postcode, address, _ in session.execute(
                first.add_columns(overdue.c.overdue_since)
                .order_by(overdue.c.overdue_since, Case.id)
                .limit(limit)
                .offset(offset)
            )
        ]
    if len(rows) < limit and not query.breached:
        rest = base.where(~select(overdue.c.case_id).where(overdue.c.case_id == Case.id).exists())
        rows += [
            (case, postcode, address)
            for case, postcode, address in session.execute(
                rest.order_by(
                    Case.next_due_at.asc().nulls_last(),
                    Case.closed_at.desc().nulls_first(),
                    Case.id,
                )
                .limit(limit - len(rows))
                .offset(max(0, offset - breached))
            )
        ]
    if query.breached:
        total = breached
    return rows, total, breached


def queue_headline(session: Session, *, day_end: datetime) -> dict[str, int]:
    """Open cases, those with a breached duty still not done, those with a deadline by day_end."""
    open_case = and_(Clock.case_id == Case.id, Case.status == "open")
    return {
        "open": session.scalar(select(func.count()).where(Case.status == "open")) or 0,
        "breached": session.scalar(
            select(func.count(func.distinct(Clock.case_id))).where(
                open_case, Clock.status.in_(BREACHED), Clock.met_at.is_(None)
            )
        )
        or 0,
        "due_today": session.scalar(
            select(func.count(func.distinct(Clock.case_id))).where(
                open_case, Clock.status == "running", Clock.due_at < day_end
            )
        )
        or 0,
    }


def queue_choices(session: Session) -> tuple[list[str], list[str]]:
    """The hazards cases have, and the postcodes of homes (for the queue's filters)."""
    hazards = sorted(session.scalars(select(func.distinct(Case.hazard))))
    postcodes = list(
        session.scalars(select(func.distinct(Home.postcode)).where(Home.postcode.is_not(None)))
    )
    return hazards, postcodes


def cases_of_home(session: Session, home_id: str) -> Sequence[Case]:
    """Every case of a home, open ones first, the latest first."""
    return session.scalars(
        select(Case)
        .where(Case.home_id == home_id)
        .options(lazyload(Case.events), lazyload(Case.evidence))
        .order_by((Case.status == "open").desc(), Case.aware_at.desc(), Case.id.desc())
    ).all()


def case_audit_entries(session: Session, case: Case) -> Sequence[AuditEntry]:
    """The audit entries about the case and its clocks, oldest first."""
    clock_ids = [str(c.id) for c in case.clocks]
    return session.scalars(
        select(AuditEntry)
        .where(
            or_(
                and_(AuditEntry.entity_type == "case", AuditEntry.entity_id == str(case.id)),
                and_(AuditEntry.entity_type == "clock", AuditEntry.entity_id.in_(clock_ids)),
            )
        )
        .order_by(AuditEntry.id)
    ).all()


def audit_entries_by_id(session: Session, ids: list[int]) -> dict[int, AuditEntry]:
    """Audit entries by id (to check each one's link to the entry before it)."""
    if not ids:
        return {}
    return {e.id: e for e in session.scalars(select(AuditEntry).where(AuditEntry.id.in_(ids)))}


def clock_outcomes(session: Session) -> list[tuple[str, str, datetime, datetime | None]]:
    """(kind, status, due_at, met_at) of every clock, for the compliance figures."""
    return [
        (kind, status, due, met)
        for kind, status, due, met in session.execute(
            select(Clock.kind, Clock.status, Clock.due_at, Clock.met_at)
        )
    ]


def clocks_outstanding_before(session: Session, *, before: datetime) -> Sequence[Clock]:
    """Duties not yet done of open cases, breached or with a deadline before ``before``:
    what a compliance officer looks at first, the oldest deadline first."""
    return session.scalars(
        select(Clock)
        .join(Case, Case.id == Clock.case_id)
        .where(
            Case.status == "open",
            Clock.met_at.is_(None),
            or_(Clock.status.in_(BREACHED), Clock.due_at < before),
        )
        .order_by(Clock.due_at, Clock.id)
    ).all()


def public_figures(session: Session, *, since: datetime) -> dict[str, Any]:
    """Aggregates for the public page since a time: no home, household or person."""
    clocks = list(
        session.execute(
            select(Clock.kind, Clock.status, Clock.due_at, Clock.met_at).where(
                Clock.due_at >= since, Clock.status != "running"
            )
        )
    )
    tenant = list(
        session.execute(
            select(Case.status, Case.stage, Case.outcome).where(
                Case.source == "tenant", Case.aware_at >= since
            )
        )
    )
    return {
        "open": session.scalar(select(func.count()).where(Case.status == "open")) or 0,
        "opened": session.scalar(select(func.count()).where(Case.opened_at >= since)) or 0,
        "closed": session.scalar(
            select(func.count()).where(Case.closed_at.is_not(None), Case.closed_at >= since)
        )
        or 0,
        "clocks": clocks,
        "tenant_cases": tenant,
    }
