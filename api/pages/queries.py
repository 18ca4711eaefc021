"""The read models the pages show: every query the pages make that no room's repository offers yet.

Reads only; writes go through the rooms' services. Where a room's own repository gains the same
query, the page should call it and the query here should go.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from api.models import User
from compliance.models import AuditEntry, Case, Clock
from ingest.schemas import GatewayOut
from registry.models import Gateway, Home, Sensor

BREACHED = ("breached", "breached_excused")


@dataclass(frozen=True)
class QueueFilters:
    """What the hazard queue may be narrowed to."""

    hazard: str | None = None
    category: str | None = None
    clock: str | None = None
    area: str | None = None
    officer: str | None = None


@dataclass(frozen=True)
class QueueRow:
    case: Case
    postcode: str | None
    nearest: Clock | None
    breached: bool


@dataclass(frozen=True)
class QueueView:
    rows: list[QueueRow]
    total_open: int
    breached_cases: int
    due_today: int
    hazards: list[str]
    areas: list[str]
    officers: list[str]


def area_of(postcode: str | None) -> str | None:
    """A postcode's outward code (its district), the area the queue filters by."""
    return postcode.split()[0].upper() if postcode and postcode.split() else None


def _local_day_bounds(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    local = now.astimezone(ZoneInfo(timezone))
    start = datetime.combine(local.date(), datetime.min.time(), tzinfo=local.tzinfo)
    end = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), local.tzinfo)
    return start, end


def hazard_queue(
    session: Session, *, filters: QueueFilters, now: datetime, timezone: str, limit: int = 200
) -> QueueView:
    """Open cases, nearest running deadline first, with the queue's headline counts."""
    nearest = (
        select(Clock.case_id, func.min(Clock.due_at).label("nearest_due"))
        .where(Clock.status == "running")
        .group_by(Clock.case_id)
        .subquery()
    )
    query: Select[Case, str | None] = (
        select(Case, Home.postcode)
        .join(Home, Home.home_id == Case.home_id)
        .outerjoin(nearest, nearest.c.case_id == Case.id)
        .where(Case.status == "open")
    )
    if filters.hazard:
        query = query.where(Case.hazard == filters.hazard)
    if filters.category:
        query = query.where(Case.category == filters.category)
    if filters.clock:
        query = query.where(
            select(Clock.id)
            .where(Clock.case_id == Case.id, Clock.kind == filters.clock, Clock.status == "running")
            .exists()
        )
    if filters.area:
        area = filters.area.strip().upper()
        query = query.where(
            or_(func.upper(Home.postcode) == area, func.upper(Home.postcode).like(f"{area} %"))
        )
    if filters.officer == "-":
        query = query.where(Case.assigned_to.is_(None))
    elif filters.officer:
        query = query.where(Case.assigned_to == filters.officer)
    query = query.order_by(nearest.c.nearest_due.is_(None), nearest.c.nearest_due, Case.id)
    rows = []
    for case, postcode in session.execute(query.limit(limit)):
        running = [c for c in case.clocks if c.status == "running"]
        rows.append(
            QueueRow(
                case=case,
                postcode=postcode,
                nearest=min(running, key=lambda c: c.due_at) if running else None,
                breached=any(c.status in BREACHED for c in case.clocks),
            )
        )
    day_start, day_end = _local_day_bounds(now, timezone)
    open_case = and_(Clock.case_id == Case.id, Case.status == "open")
    breached_cases = session.scalar(
        select(func.count(func.distinct(Clock.case_id))).where(
            open_case, Clock.status.in_(BREACHED)
        )
    )
    due_today = session.scalar(
        select(func.count(func.distinct(Clock.case_id))).where(
            open_case,
            Clock.status == "running",
            Clock.due_at >= day_start,
            Clock.due_at < day_end,
        )
    )
    postcodes = session.scalars(
        select(func.distinct(Home.postcode)).where(Home.postcode.is_not(None))
    )
    return QueueView(
        rows=rows,
        total_open=session.scalar(select(func.count()).where(Case.status == "open")) or 0,
        breached_cases=breached_cases or 0,
        due_today=due_today or 0,
        hazards=sorted(session.scalars(select(func.distinct(Case.hazard)))),
        areas=sorted({a for a in (area_of(p) for p in postcodes) if a}),
        officers=officer_names(session),
    )


def officer_names(session: Session) -> list[str]:
    """People a case may be assigned to."""
    return list(
        session.scalars(
            select(User.name)
            .where(User.role == "officer", User.disabled_at.is_(None))
            .order_by(User.name)
        )
    )


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


@dataclass
class KindMonth:
    """Clocks of one kind whose deadline fell in one month."""

    kind: str
    month: str
    met_on_time: int = 0
    breached: int = 0
    excused: int = 0
    running: int = 0

    @property
    def decided(self) -> int:
        return self.met_on_time + self.breached + self.excused


def clocks_by_kind_and_month(session: Session, *, timezone: str) -> list[KindMonth]:
    """Clocks met on time, breached, excused and still running, by kind and month of deadline."""
    tz = ZoneInfo(timezone)
    cells: dict[tuple[str, str], KindMonth] = {}
    for kind, status, due, met in session.execute(
        select(Clock.kind, Clock.status, Clock.due_at, Clock.met_at)
    ):
        month = due.astimezone(tz).strftime("%Y-%m")
        cell = cells.setdefault((kind, month), KindMonth(kind, month))
        if status == "met" and met is not None and met <= due:
            cell.met_on_time += 1
        elif status == "breached_excused":
            cell.excused += 1
        elif status in ("breached", "met"):
            cell.breached += 1
        else:
            cell.running += 1
    return sorted(cells.values(), key=lambda c: (c.month, c.kind), reverse=False)


SILENT_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class GatewayView:
    """A gateway's health as ingest records it, read for people: online, silent sensors."""

    health: GatewayOut
    online: bool
    silent_sensors: list[str]

    @classmethod
    def of(
        cls, health: GatewayOut, *, now: datetime, silent_after: timedelta = SILENT_AFTER
    ) -> GatewayView:
        recent = health.last_seen_at is not None and health.last_seen_at >= now - silent_after
        silent = [
            s.sensor
            for s in health.sensors
            if s.last_reading_at is None or s.last_reading_at < now - silent_after
        ]
        return cls(
            health=health, online=recent and health.status != "offline", silent_sensors=silent
        )


def registered_gateways(session: Session) -> Sequence[Gateway]:
    return session.scalars(select(Gateway).order_by(Gateway.gateway_id)).all()


@dataclass(frozen=True)
class Headline:
    """Aggregates for the public transparency page (no home, household or person)."""

    open_cases: int
    cases_opened_12m: int
    cases_closed_12m: int
    clocks_decided_12m: Counter[str]
    clocks_on_time_12m: Counter[str]
    tenant_reports_12m: int
    tenant_reports_made_safe_12m: int
    tenant_reports_closed_12m: int


def headline(session: Session, *, now: datetime) -> Headline:
    """The public figures over the last twelve months."""
    since = now - timedelta(days=365)
    decided: Counter[str] = Counter()
    on_time: Counter[str] = Counter()
    for kind, status, due, met in session.execute(
        select(Clock.kind, Clock.status, Clock.due_at, Clock.met_at).where(
            Clock.due_at >= since, Clock.status != "running"
        )
    ):
        decided[kind] += 1
        if status == "met" and met is not None and met <= due:
            on_time[kind] += 1
    tenant = select(Case).where(Case.source == "tenant", Case.aware_at >= since)
    tenant_cases = session.scalars(tenant).all()
    return Headline(
        open_cases=session.scalar(select(func.count()).where(Case.status == "open")) or 0,
        cases_opened_12m=session.scalar(select(func.count()).where(Case.opened_at >= since)) or 0,
        cases_closed_12m=session.scalar(
            select(func.count()).where(Case.closed_at.is_not(None), Case.closed_at >= since)
        )
        or 0,
        clocks_decided_12m=decided,
        clocks_on_time_12m=on_time,
        tenant_reports_12m=len(tenant_cases),
        tenant_reports_made_safe_12m=sum(
            1
            for c in tenant_cases
            if c.stage in ("made_safe", "closed") or c.outcome in ("not_significant", "no_hazard")
        ),
        tenant_reports_closed_12m=sum(1 for c in tenant_cases if c.status == "closed"),
    )


def registry_counts(session: Session) -> dict[str, int]:
    """How many homes, gateways and sensors the registry holds."""
    return {
        "homes": session.scalar(select(func.count()).select_from(Home)) or 0,
        "gateways": session.scalar(select(func.count()).select_from(Gateway)) or 0,
        "sensors": session.scalar(select(func.count()).select_from(Sensor)) or 0,
    }


def users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.name)).all()


def month_start(day: date) -> date:
    return day.replace(day=1)
