"""Every equity query: the raw frames of equity.outcomes, read from the case database.

Household attributes are special-category data: only callers allowed `equity:read` reach here.
Sensor silence is read from the detectors' sensor-health state (the `silent` fleet rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from compliance.models import Case, CaseEvent, Clock, Evidence
from detectors.models import DetectorState
from equity.models import YouSaidWeDid
from equity.outcomes import HOUSEHOLD_GROUPS, EquityFrames
from registry.models import Gateway, Home, Household
from repairs.models import Contractor, WorkOrder

SILENT_RULE = "silent"


def _frame(session: Session, query, columns: list[str]) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return pd.DataFrame(session.execute(query).all(), columns=columns)


def load_frames(
    session: Session, *, aware_from: datetime | None = None, aware_to: datetime | None = None
) -> EquityFrames:
    """Cases aware in [aware_from, aware_to) with their clocks, timeline, evidence, work orders and homes."""
    case_query = select(Case.id, Case.home_id, Case.hazard, Case.source, Case.aware_at)
    if aware_from is not None:
        case_query = case_query.where(Case.aware_at >= aware_from)
    if aware_to is not None:
        case_query = case_query.where(Case.aware_at < aware_to)
    cases = _frame(session, case_query, ["case_id", "home_id", "hazard", "source", "aware_at"])
    ids = select(case_query.subquery().c.id)
    clocks = _frame(
        session,
        select(Clock.case_id, Clock.kind, Clock.status).where(Clock.case_id.in_(ids)),
        ["case_id", "kind", "status"],
    )
    events = _frame(
        session,
        select(CaseEvent.case_id, CaseEvent.type, CaseEvent.at).where(CaseEvent.case_id.in_(ids)),
        ["case_id", "type", "at"],
    )
    evidence = _frame(
        session,
        select(Evidence.case_id, Evidence.kind, Evidence.source).where(Evidence.case_id.in_(ids)),
        ["case_id", "kind", "source"],
    )
    work_orders = _frame(
        session,
        select(WorkOrder.case_id, Contractor.name, WorkOrder.verification)
        .join(Contractor, Contractor.id == WorkOrder.contractor_id)
        .where(WorkOrder.case_id.in_(ids))
        .order_by(WorkOrder.id),
        ["case_id", "contractor", "verification"],
    )
    homes = _frame(
        session,
        select(Home.home_id, Home.archetype, Home.build_year, Home.imd_decile),
        ["home_id", "archetype", "build_year", "imd_decile"],
    )
    silent = set(
        session.scalars(
            select(Gateway.home_id)
            .join(DetectorState, DetectorState.gateway_id == Gateway.gateway_id)
            .where(DetectorState.rule_key == SILENT_RULE, DetectorState.active.is_(True))
        )
    )
    homes["sensors_silent"] = homes["home_id"].isin(list(silent))
    households = _frame(
        session,
        select(Household.home_id, *(getattr(Household, c) for c in HOUSEHOLD_GROUPS)),
        ["home_id", *HOUSEHOLD_GROUPS],
    )
    return EquityFrames(cases, clocks, events, evidence, work_orders, homes, households)


def you_said_we_did(session: Session, *, limit: int = 50) -> Sequence[YouSaidWeDid]:
    return session.scalars(
        select(YouSaidWeDid).order_by(YouSaidWeDid.published_at.desc()).limit(limit)
    ).all()
