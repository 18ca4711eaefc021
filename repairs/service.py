"""Repairs use cases: raise work orders on cases, book, dispatch, record visits, verify by sensors.

Services take keyword-only arguments, append to the audit log and never commit. Each step that
matters to a case is also recorded on it through compliance: a failed access before the
investigation concludes is compliance's `access_failed` event (the reasonable-steps record); after
it, the attempt joins the case as evidence. Completed safety work is `safety_work_completed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from compliance import audit, events
from compliance import repository as cases
from compliance import service as compliance
from compliance.models import Case
from compliance.schemas import EventIn, FindingIn
from registry.clock import to_rfc3339
from repairs import repository
from repairs.models import Contractor, RepairKpi, Visit, WorkOrder
from repairs.performance import (
    BadCondition,
    JobFacts,
    KpiDefinition,
    Share,
    check_condition,
    clocks_met,
    contractor_performance,
    evaluate_kpi,
    rp02,
)
from repairs.rules import CLOCK_FOR_KIND, VerificationSettings, priority
from repairs.schemas import KpiIn, VisitIn, WorkOrderIn, WorkOrderOut
from repairs.verification import verdict


class WorkOrderNotFound(LookupError):
    """No work order with that id."""


class ContractorNotFound(LookupError):
    """No contractor with that id."""


class RepairRefused(Exception):
    """The work order's state does not allow the step; the reason is for the person who sent it."""


def _audit(
    session: Session, order: WorkOrder, action: str, actor: str, now: datetime, **after: Any
) -> None:
    audit.append(
        session,
        at=now,
        actor=actor,
        action=f"work_order.{action}",
        entity_type="work_order",
        entity_id=order.id,
        before=None,
        after={"case_id": order.case_id, "status": order.status, **after},
    )
    _emit(session, order, action, now, **after)


def _emit(session: Session, order: WorkOrder, step: str, now: datetime, **detail: Any) -> None:
    """work_order.created (raised) or work_order.updated, through compliance.events."""
    if not events.enabled(session):
        return
    session.flush()
    events.record(
        session,
        type="work_order.created" if step == "raised" else "work_order.updated",
        at=now,
        data=WorkOrderOut.model_validate(order).model_dump(mode="json"),
        detail={"step": step, "kind": order.kind, "status": order.status, **detail},
        case_id=order.case_id,
        work_order_id=order.id,
    )


def _case_evidence(
    session: Session,
    case: Case,
    *,
    kind: str,
    source: str,
    description: str,
    figures: dict[str, Any],
    actor: str,
    now: datetime,
) -> None:
    """A repairs fact joins the case's evidence (and the audit log) without changing its state."""
    compliance.record_evidence(
        session,
        case_id=case.id,
        kind=kind,
        source=source,
        description=description,
        figures=figures,
        actor=actor,
        now=now,
    )


def _case_step(
    session: Session,
    case: Case,
    event: EventIn,
    *,
    actor: str,
    now: datetime,
    engine: compliance.Engine,
) -> bool:
    """Record the event on the case; False (and nothing changed) when the case's state refuses it."""
    try:
        compliance.record_event(
            session, case_id=case.id, event=event, actor=actor, now=now, engine=engine
        )
    except compliance.EventRefused:
        return False  # compliance refuses before it changes anything
    return True


def add_contractor(session: Session, *, name: str, kind: str, now: datetime) -> Contractor:
    """A contractor or in-house team; names are unique."""
    if repository.contractor_named(session, name) is not None:
        raise RepairRefused(f"contractor {name!r} exists already")
    contractor = Contractor(name=name, kind=kind, created_at=now)
    session.add(contractor)
    session.flush()
    return contractor


def raise_work_order(
    session: Session, *, order: WorkOrderIn, actor: str, now: datetime
) -> WorkOrder:
    """A work order on a case; its target is the priority's time from the report, or the clock if sooner."""
    case = cases.get_case(session, order.case_id)
    if case is None:
        raise compliance.CaseNotFound(f"no case {order.case_id}")
    if case.status != "open":
        raise RepairRefused(f"case {case.id} is {case.status}")
    if session.get(Contractor, order.contractor_id) is None:
        raise ContractorNotFound(f"no contractor {order.contractor_id}")
    target_at = case.aware_at + timedelta(hours=priority(order.priority).target_hours)
    for clock in case.clocks:
        if clock.kind in CLOCK_FOR_KIND[order.kind] and clock.status == "running":
            target_at = min(target_at, clock.due_at)
    work_order = WorkOrder(
        case_id=case.id,
        home_id=case.home_id,
        hazard=case.hazard,
        kind=order.kind,
        contractor_id=order.contractor_id,
        priority=order.priority,
        description=order.description,
        reported_at=case.aware_at,
        raised_at=now,
        target_at=target_at,
        status="raised",
        verification="not_started",
        flagged=False,
        raised_by=actor,
        communal=order.communal,
    )
    session.add(work_order)
    session.flush()
    _audit(session, work_order, "raised", actor, now, target_at=to_rfc3339(target_at))
    return work_order


def _open_order(session: Session, work_order_id: int) -> WorkOrder:
    order = repository.get_work_order(session, work_order_id)
    if order is None:
        raise WorkOrderNotFound(f"no work order {work_order_id}")
    if order.status in ("completed", "cancelled"):
        raise RepairRefused(f"work order {order.id} is {order.status}")
    return order


def book_visit(
    session: Session, *, work_order_id: int, booked_for: datetime, actor: str, now: datetime
) -> Visit:
    """An appointment with the household."""
    order = _open_order(session, work_order_id)
    visit = Visit(booked_for=booked_for, outcome="booked", recorded_at=now, actor=actor)
    order.visits.append(visit)
    if order.status == "raised":
        order.status = "booked"
    session.flush()
    _audit(session, order, "booked", actor, now, booked_for=to_rfc3339(booked_for))
    return visit


def dispatch(
    session: Session,
    *,
    work_order_id: int,
    at: datetime,
    actor: str,
    now: datetime,
    engine: compliance.Engine,
    operative: str | None = None,
) -> WorkOrder:
    """An operative sent: ends part one of the journey; the case's work is started. The
    operative's name is kept for feedback on them (staff and the panel see it, never the public)."""
    order = _open_order(session, work_order_id)
    if order.dispatched_at is None:
        order.dispatched_at = at
    if operative and operative.strip():
        order.operative = operative.strip()[:100]
    order.status = "dispatched"
    session.flush()
    case = cases.get_case(session, order.case_id)
    assert case is not None
    started = "safety_work_started" if order.kind == "safety" else "supplementary_work_started"
    _case_step(
        session,
        case,
        EventIn(type=started, at=at, note=f"work order {order.id} dispatched"),  # type: ignore[arg-type]
        actor=actor,
        now=now,
        engine=engine,
    )
    _audit(session, order, "dispatched", actor, now, dispatched_at=to_rfc3339(at))
    return order


def record_visit(
    session: Session,
    *,
    work_order_id: int,
    visit: VisitIn,
    actor: str,
    now: datetime,
    engine: compliance.Engine,
    verification: VerificationSettings | None = None,
) -> WorkOrder:
    """What happened at a visit: completed (what was done), no access (method, reason) or follow-on."""
    order = _open_order(session, work_order_id)
    if order.dispatched_at is None:
        order.dispatched_at = visit.at  # an operative who attended was dispatched
    booked = next((v for v in order.visits if v.outcome == "booked"), None)
    row = booked or Visit(recorded_at=now, actor=actor)
    row.at, row.outcome, row.recorded_at, row.actor = visit.at, visit.outcome, now, actor
    row.method = visit.method.strip().lower() if visit.method else None
    row.reason = visit.reason or visit.work_done
    if booked is None:
        order.visits.append(row)
    case = cases.get_case(session, order.case_id)
    assert case is not None
    if visit.outcome == "no_access":
        order.status = "no_access"
        session.flush()
        _record_no_access(session, case, order, visit, actor=actor, now=now, engine=engine)
    elif visit.outcome == "follow_on":
        order.status = "follow_on"
        session.flush()
    else:
        _complete(
            session,
            case,
            order,
            visit,
            actor=actor,
            now=now,
            engine=engine,
            settings=verification or VerificationSettings(),
        )
    _audit(
        session,
        order,
        f"visit_{visit.outcome}",
        actor,
        now,
        at=to_rfc3339(visit.at),
        method=row.method,
        reason=visit.reason,
    )
    return order


def _record_no_access(
    session: Session,
    case: Case,
    order: WorkOrder,
    visit: VisitIn,
    *,
    actor: str,
    now: datetime,
    engine: compliance.Engine,
) -> None:
    note = f"work order {order.id}: no access ({visit.reason})"
    if case.status == "open" and case.outcome is None:
        event = EventIn(type="access_failed", at=visit.at, method=visit.method, note=note)
        if _case_step(session, case, event, actor=actor, now=now, engine=engine):
            return
    _case_evidence(
        session,
        case,
        kind="access_attempt",
        source="contractor" if order.contractor.kind == "contractor" else "staff",
        description=note,
        figures={
            "work_order_id": order.id,
            "at": to_rfc3339(visit.at),
            "method": visit.method,
            "reason": visit.reason,
        },
        actor=actor,
        now=now,
    )


def _complete(
    session: Session,
    case: Case,
    order: WorkOrder,
    visit: VisitIn,
    *,
    actor: str,
    now: datetime,
    engine: compliance.Engine,
    settings: VerificationSettings,
) -> None:
    order.status = "completed"
    order.completed_at = visit.at
    order.work_done = visit.work_done
    order.verification = "watching"
    order.verify_until = visit.at + settings.watch
    session.flush()
    note = f"work order {order.id} completed: {visit.work_done}"
    if order.kind == "safety":
        event = EventIn(type="safety_work_completed", at=visit.at, note=note)
    else:
        event = EventIn(type="supplementary_work_started", at=visit.at, note=note)
    recorded = case.status == "open" and _case_step(
        session, case, event, actor=actor, now=now, engine=engine
    )
    if not recorded:
        _case_evidence(
            session,
            case,
            kind="repair_completed",
            source="contractor" if order.contractor.kind == "contractor" else "staff",
            description=note,
            figures={"work_order_id": order.id, "at": to_rfc3339(visit.at)},
            actor=actor,
            now=now,
        )


def record_satisfaction(
    session: Session, *, work_order_id: int, score: int, at: datetime, actor: str, now: datetime
) -> WorkOrder:
    """The resident's satisfaction (1–5) after completion."""
    order = repository.get_work_order(session, work_order_id)
    if order is None:
        raise WorkOrderNotFound(f"no work order {work_order_id}")
    if order.completed_at is None:
        raise RepairRefused("satisfaction is asked after the work is completed")
    if not 1 <= score <= 5:
        raise RepairRefused("satisfaction is a score from 1 to 5")
    order.satisfaction_score, order.satisfaction_at = score, at
    session.flush()
    _audit(session, order, "satisfaction", actor, now, score=score)
    return order


@dataclass(frozen=True)
class VerificationSummary:
    healthy: int
    recurred: int
    watching: int


def _settle(
    session: Session,
    order: WorkOrder,
    state: str,
    at: datetime,
    *,
    now: datetime,
    engine: compliance.Engine,
) -> bool:
    """Claim the work order's verdict with a conditional update, so two schedulers never both settle it."""
    won = cast(
        "CursorResult[Any]",
        session.execute(
            update(WorkOrder)
            .where(WorkOrder.id == order.id, WorkOrder.verification == "watching")
            .values(verification=state)
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    if not won:
        return False
    session.refresh(order)
    case = cases.get_case(session, order.case_id)
    assert case is not None
    days = int((order.verify_until - order.completed_at).total_seconds() // 86400)  # type: ignore[operator]
    who = order.contractor.name
    if state == "healthy":
        order.verified_at = at
        _case_evidence(
            session,
            case,
            kind="repair_verified",
            source="sensor",
            description=f"conditions stayed healthy for {days} days after work order {order.id}",
            figures={"work_order_id": order.id, "watched_until": to_rfc3339(at)},
            actor="verifier",
            now=now,
        )
        _emit(session, order, "verified", now, verified_at=to_rfc3339(at))
        return True
    order.recurred_at, order.flagged = at, True
    if case.status == "closed":
        _case_step(
            session,
            case,
            EventIn(type="reopened", at=at, note=f"hazard returned after work order {order.id}"),
            actor="verifier",
            now=now,
            engine=engine,
        )
    _case_evidence(
        session,
        case,
        kind="repair_recurred",
        source="sensor",
        description=f"the hazard returned within {days} days of work order {order.id} by {who}",
        figures={"work_order_id": order.id, "contractor": who, "found_at": to_rfc3339(at)},
        actor="verifier",
        now=now,
    )
    _emit(session, order, "recurred", now, found_at=to_rfc3339(at), contractor=who)
    return True


def verify_repairs(
    session: Session, *, now: datetime, engine: compliance.Engine
) -> VerificationSummary:
    """Settle each watched repair: recurred if sensors found the hazard again, healthy once the watch ends."""
    healthy = recurred = watching = 0
    for order in repository.watching(session):
        assert order.completed_at is not None
        assert order.verify_until is not None
        found = repository.sensor_findings_after(
            session, home_id=order.home_id, hazard=order.hazard, after=order.completed_at
        )
        result = verdict(
            completed_at=order.completed_at,
            verify_until=order.verify_until,
            findings_at=found,
            now=now,
        )
        if result.state == "watching":
            watching += 1
        elif _settle(session, order, result.state, result.at, now=now, engine=engine):  # type: ignore[arg-type]
            healthy += result.state == "healthy"
            recurred += result.state == "recurred"
    return VerificationSummary(healthy=healthy, recurred=recurred, watching=watching)


def on_finding(
    session: Session, *, finding: FindingIn, now: datetime, engine: compliance.Engine
) -> list[WorkOrder]:
    """The detector hand-off's hook, called before `record_finding`: flags watched repairs the finding undoes.

    A closed case is reopened first, so the finding then joins it as evidence.
    """
    flagged = []
    for order in repository.watching(session, home_id=finding.home_id, hazard=finding.hazard):
        assert order.completed_at is not None
        assert order.verify_until is not None
        result = verdict(
            completed_at=order.completed_at,
            verify_until=order.verify_until,
            findings_at=[finding.detected_at],
            now=max(now, finding.detected_at),
        )
        if result.state == "recurred" and _settle(
            session, order, "recurred", finding.detected_at, now=now, engine=engine
        ):
            flagged.append(order)
    return flagged


def handle_finding(
    session: Session, *, finding: FindingIn, now: datetime, engine: compliance.Engine
) -> tuple[Case, bool, list[WorkOrder]]:
    """A detector finding with repair verification: flag undone repairs, then record it on the case."""
    flagged = on_finding(session, finding=finding, now=now, engine=engine)
    case, created = compliance.record_finding(session, finding=finding, now=now, engine=engine)
    return case, created, flagged


def job_facts(order: WorkOrder) -> JobFacts:
    return JobFacts(
        work_order_id=order.id,
        contractor=order.contractor.name,
        contractor_kind=order.contractor.kind,
        kind=order.kind,
        priority=order.priority,
        emergency=priority(order.priority).emergency,
        hazard=order.hazard,
        status=order.status,
        reported_at=order.reported_at,
        target_at=order.target_at,
        dispatched_at=order.dispatched_at,
        completed_at=order.completed_at,
        visit_outcomes=tuple(v.outcome for v in order.visits),
        verification=order.verification,
        satisfaction_score=order.satisfaction_score,
    )


def all_job_facts(session: Session) -> list[JobFacts]:
    return [job_facts(o) for o in repository.all_work_orders(session)]


def define_kpi(session: Session, *, kpi: KpiIn, now: datetime) -> RepairKpi:
    """Add or replace a landlord's KPI by name; conditions are checked before anything is written."""
    for condition in (kpi.numerator, kpi.denominator, kpi.filter):
        check_condition(condition)
    row = next((k for k in repository.kpis(session) if k.name == kpi.name), None)
    if row is None:
        row = RepairKpi(name=kpi.name, created_at=now)
        session.add(row)
    row.numerator, row.denominator, row.filter = kpi.numerator, kpi.denominator, kpi.filter
    session.flush()
    return row


def _share_out(share: Share) -> dict[str, Any]:
    return {"numerator": share.numerator, "denominator": share.denominator, "rate": share.rate}


def _own_kpi(row: RepairKpi, jobs: list[JobFacts]) -> dict[str, Any]:
    """One landlord KPI's share; one that cannot be computed (stored before definitions were
    checked, or edited in the database) says why instead of taking the page down."""
    try:
        share = evaluate_kpi(
            KpiDefinition(row.name, row.numerator, row.denominator, row.filter), jobs
        )
    except BadCondition as exc:
        return {"numerator": None, "denominator": None, "rate": None, "error": str(exc)}
    return _share_out(share)


def delete_kpi(session: Session, *, name: str) -> bool:
    """Remove a landlord's KPI by name; False when there is none of that name."""
    row = next((k for k in repository.kpis(session) if k.name == name), None)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def kpi_report(
    session: Session, *, start: datetime | None = None, end: datetime | None = None
) -> dict[str, Any]:
    """Benchmarkable KPIs (RP02, Awaab's Law clocks met) and the landlord's own."""
    jobs = all_job_facts(session)
    own = {k.name: _own_kpi(k, jobs) for k in repository.kpis(session)}
    return {
        "rp02": {key: _share_out(s) for key, s in rp02(jobs, start=start, end=end).items()},
        "clocks_met": {
            key: _share_out(s) for key, s in clocks_met(repository.clock_statuses(session)).items()
        },
        "resident_defined": own,
    }


def performance_report(session: Session) -> list[dict[str, Any]]:
    """Contractor performance, one dict per contractor."""
    out = []
    for p in contractor_performance(all_job_facts(session)):
        out.append(
            {
                "contractor": p.contractor,
                "contractor_kind": p.contractor_kind,
                "jobs": p.jobs,
                "completed": p.completed,
                "first_time_fix": _share_out(p.first_time_fix),
                "no_access": _share_out(p.no_access),
                "within_target": _share_out(p.within_target),
                "recurrence": _share_out(p.recurrence),
                "median_hours_to_dispatch": p.median_hours_to_dispatch,
                "median_hours_dispatch_to_complete": p.median_hours_dispatch_to_complete,
                "satisfaction_mean": p.satisfaction_mean,
                "satisfaction_responses": p.satisfaction_responses,
            }
        )
    return out
