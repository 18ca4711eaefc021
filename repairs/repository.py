"""Every repairs query."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from compliance.models import Case, Clock, Evidence
from repairs.models import Contractor, RepairKpi, WorkOrder


def get_work_order(session: Session, work_order_id: int) -> WorkOrder | None:
    return session.get(WorkOrder, work_order_id)


def list_work_orders(
    session: Session,
    *,
    case_id: int | None = None,
    status: str | None = None,
    contractor_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[WorkOrder]:
    query = select(WorkOrder).order_by(WorkOrder.target_at, WorkOrder.id)
    if case_id is not None:
        query = query.where(WorkOrder.case_id == case_id)
    if status is not None:
        query = query.where(WorkOrder.status == status)
    if contractor_id is not None:
        query = query.where(WorkOrder.contractor_id == contractor_id)
    return session.scalars(query.limit(limit).offset(offset)).all()


def all_work_orders(session: Session) -> Sequence[WorkOrder]:
    return session.scalars(select(WorkOrder).order_by(WorkOrder.id)).all()


def contractors(session: Session) -> Sequence[Contractor]:
    return session.scalars(select(Contractor).order_by(Contractor.name)).all()


def contractor_named(session: Session, name: str) -> Contractor | None:
    return session.scalars(select(Contractor).where(Contractor.name == name)).first()


def watching(
    session: Session, *, home_id: str | None = None, hazard: str | None = None
) -> Sequence[WorkOrder]:
    """Completed work orders still being watched for the hazard's return."""
    query = select(WorkOrder).where(WorkOrder.verification == "watching")
    if home_id is not None:
        query = query.where(WorkOrder.home_id == home_id)
    if hazard is not None:
        query = query.where(WorkOrder.hazard == hazard)
    return session.scalars(query.order_by(WorkOrder.id)).all()


def sensor_findings_after(
    session: Session, *, home_id: str, hazard: str, after: datetime
) -> list[datetime]:
    """When sensor findings for this home and hazard were recorded after `after`, on any case."""
    rows = session.execute(
        select(Evidence.recorded_at, Evidence.window_end)
        .join(Case, Case.id == Evidence.case_id)
        .where(
            Case.home_id == home_id,
            Case.hazard == hazard,
            Evidence.kind == "sensor_finding",
            Evidence.recorded_at > after,
        )
    ).all()
    return [recorded for recorded, window_end in rows if window_end is None or window_end > after]


def clock_statuses(session: Session) -> list[tuple[str, str]]:
    return [(k, s) for k, s in session.execute(select(Clock.kind, Clock.status)).all()]


def kpis(session: Session) -> Sequence[RepairKpi]:
    return session.scalars(select(RepairKpi).order_by(RepairKpi.name)).all()
