"""Every query of the residents' part of equity."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from compliance.models import Case, CaseEvent, Clock
from equity.residents.models import (
    DeepDiveRequest,
    KpiPeriod,
    ResidentKpi,
    ReviewNote,
    SurveyInvitation,
)
from registry.models import Home, Household
from repairs.models import Contractor, Visit, WorkOrder


def cases_with_homes(session: Session) -> list[Any]:
    """(case id, hazard, category, aware_at, closed_at, source, postcode) of every case."""
    return list(
        session.execute(
            select(
                Case.id,
                Case.hazard,
                Case.category,
                Case.aware_at,
                Case.closed_at,
                Case.source,
                Home.postcode,
            )
            .join(Home, Home.home_id == Case.home_id)
            .order_by(Case.id)
        ).all()
    )


def case_events(session: Session) -> list[Any]:
    return list(session.execute(select(CaseEvent.case_id, CaseEvent.type, CaseEvent.at)).all())


def clocks(session: Session) -> list[Any]:
    return list(
        session.execute(
            select(
                Clock.case_id,
                Clock.kind,
                Clock.started_at,
                Clock.due_at,
                Clock.met_at,
                Clock.status,
            )
        ).all()
    )


def work_orders(session: Session) -> Sequence[WorkOrder]:
    return session.scalars(select(WorkOrder).order_by(WorkOrder.id)).all()


def visits(session: Session) -> list[Any]:
    return list(
        session.execute(
            select(Visit.work_order_id, Visit.outcome).order_by(Visit.work_order_id, Visit.id)
        ).all()
    )


def invitations(session: Session) -> Sequence[SurveyInvitation]:
    return session.scalars(select(SurveyInvitation).order_by(SurveyInvitation.id)).all()


def responses_with_groups(session: Session) -> list[Any]:
    """Each invitation with its contractor, its case's source, operative, and the household's
    groups (special-category: only aggregated, suppressed figures leave the service)."""
    return list(
        session.execute(
            select(
                SurveyInvitation,
                Contractor.name,
                Case.source,
                WorkOrder.operative,
                Household.ethnicity,
                Household.disability,
                Household.age_band,
            )
            .join(WorkOrder, WorkOrder.id == SurveyInvitation.work_order_id)
            .join(Contractor, Contractor.id == WorkOrder.contractor_id)
            .join(Case, Case.id == SurveyInvitation.case_id)
            .outerjoin(Household, Household.home_id == SurveyInvitation.home_id)
            .order_by(SurveyInvitation.id)
        ).all()
    )


def invitation_by_hash(session: Session, token_hash: str) -> SurveyInvitation | None:
    return session.scalars(
        select(SurveyInvitation).where(SurveyInvitation.token_hash == token_hash)
    ).first()


def invited_homes(session: Session, *, work_order_id: int, milestone: str) -> set[str]:
    return set(
        session.scalars(
            select(SurveyInvitation.home_id).where(
                SurveyInvitation.work_order_id == work_order_id,
                SurveyInvitation.milestone == milestone,
            )
        )
    )


def orders_needing_surveys(session: Session, *, since: datetime) -> Sequence[WorkOrder]:
    """Work orders dispatched or completed since ``since`` (the survey job's look-back)."""
    return session.scalars(
        select(WorkOrder)
        .where((WorkOrder.dispatched_at >= since) | (WorkOrder.completed_at >= since))
        .order_by(WorkOrder.id)
    ).all()


def homes_with_addresses(session: Session) -> list[Any]:
    return list(session.execute(select(Home.home_id, Home.address, Home.postcode)).all())


def home_of(session: Session, home_id: str) -> Any:
    return session.execute(
        select(Home.home_id, Home.address, Home.postcode).where(Home.home_id == home_id)
    ).first()


def deep_dive_requests(session: Session) -> Sequence[DeepDiveRequest]:
    return session.scalars(select(DeepDiveRequest).order_by(DeepDiveRequest.id.desc())).all()


def deep_dive_request(session: Session, request_id: int) -> DeepDiveRequest | None:
    return session.get(DeepDiveRequest, request_id)


def kpis(session: Session, *, state: str | None = None) -> Sequence[ResidentKpi]:
    query = select(ResidentKpi).order_by(ResidentKpi.name)
    if state is not None:
        query = query.where(ResidentKpi.state == state)
    return session.scalars(query).all()


def kpi(session: Session, kpi_id: int) -> ResidentKpi | None:
    return session.get(ResidentKpi, kpi_id)


def kpi_named(session: Session, name: str) -> ResidentKpi | None:
    return session.scalars(select(ResidentKpi).where(ResidentKpi.name == name)).first()


def kpi_periods(session: Session, kpi_id: int) -> Sequence[KpiPeriod]:
    return session.scalars(
        select(KpiPeriod).where(KpiPeriod.kpi_id == kpi_id).order_by(KpiPeriod.quarter)
    ).all()


def kpi_period(session: Session, kpi_id: int, quarter: str) -> KpiPeriod | None:
    return session.scalars(
        select(KpiPeriod).where(KpiPeriod.kpi_id == kpi_id, KpiPeriod.quarter == quarter)
    ).first()


def review_notes(session: Session, *, year: int) -> Sequence[ReviewNote]:
    return session.scalars(
        select(ReviewNote).where(ReviewNote.year == year).order_by(ReviewNote.id)
    ).all()
