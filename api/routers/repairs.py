"""Repairs: contractors, work orders, visits, satisfaction, contractor performance and KPIs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response, status

from api.deps import Context, DbSession, RowId, require
from api.models import User
from registry.clock import utc_now
from repairs import repository, service
from repairs.models import Contractor, WorkOrder
from repairs.schemas import (
    BookingIn,
    ContractorIn,
    ContractorOut,
    DispatchIn,
    KpiIn,
    SatisfactionIn,
    VisitIn,
    WorkOrderIn,
    WorkOrderOut,
)

router = APIRouter(tags=["repairs"])

Reader = Annotated[User, Depends(require("repairs:read"))]
Writer = Annotated[User, Depends(require("repairs:write"))]


@router.get("/contractors", response_model=list[ContractorOut])
def list_contractors(session: DbSession, _user: Reader) -> list[Contractor]:
    """Contractors and in-house teams."""
    return list(repository.contractors(session))


@router.post("/contractors", response_model=ContractorOut, status_code=status.HTTP_201_CREATED)
def add_contractor(body: ContractorIn, session: DbSession, _user: Writer) -> Contractor:
    """Add a contractor or in-house team."""
    return service.add_contractor(session, name=body.name, kind=body.kind, now=utc_now())


@router.get("/work-orders", response_model=list[WorkOrderOut])
def list_work_orders(
    session: DbSession,
    _user: Reader,
    case_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    status_: Annotated[str | None, Query(alias="status")] = None,
    contractor_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0,
) -> list[WorkOrder]:
    """Work orders, nearest target first."""
    return list(
        repository.list_work_orders(
            session,
            case_id=case_id,
            status=status_,
            contractor_id=contractor_id,
            limit=limit,
            offset=offset,
        )
    )


@router.post("/work-orders", response_model=WorkOrderOut, status_code=status.HTTP_201_CREATED)
def raise_work_order(body: WorkOrderIn, session: DbSession, user: Writer) -> WorkOrder:
    """Raise safety or supplementary work on a case."""
    return service.raise_work_order(session, order=body, actor=user.name, now=utc_now())


@router.get("/work-orders/{work_order_id}", response_model=WorkOrderOut)
def get_work_order(work_order_id: RowId, session: DbSession, _user: Reader) -> WorkOrder:
    """One work order with its visits."""
    order = repository.get_work_order(session, work_order_id)
    if order is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no work order {work_order_id}")
    return order


@router.post("/work-orders/{work_order_id}/appointments", response_model=WorkOrderOut)
def book(work_order_id: RowId, body: BookingIn, session: DbSession, user: Writer) -> WorkOrder:
    """Book an appointment."""
    service.book_visit(
        session,
        work_order_id=work_order_id,
        booked_for=body.booked_for,
        actor=user.name,
        now=utc_now(),
    )
    return repository.get_work_order(session, work_order_id)  # type: ignore[return-value]


@router.post("/work-orders/{work_order_id}/dispatch", response_model=WorkOrderOut)
def dispatch(
    work_order_id: RowId, body: DispatchIn, session: DbSession, context: Context, user: Writer
) -> WorkOrder:
    """An operative dispatched (the end of part one of the journey)."""
    return service.dispatch(
        session,
        work_order_id=work_order_id,
        at=body.at,
        actor=user.name,
        now=utc_now(),
        engine=context.engine,
    )


@router.post("/work-orders/{work_order_id}/visits", response_model=WorkOrderOut)
def visit(
    work_order_id: RowId, body: VisitIn, session: DbSession, context: Context, user: Writer
) -> WorkOrder:
    """What happened at a visit: completed, no access (method and reason) or a follow-on needed."""
    return service.record_visit(
        session,
        work_order_id=work_order_id,
        visit=body,
        actor=user.name,
        now=utc_now(),
        engine=context.engine,
    )


@router.post("/work-orders/{work_order_id}/satisfaction", response_model=WorkOrderOut)
def satisfaction(
    work_order_id: RowId, body: SatisfactionIn, session: DbSession, user: Writer
) -> WorkOrder:
    """The resident's satisfaction, 1 to 5, after completion."""
    return service.record_satisfaction(
        session,
        work_order_id=work_order_id,
        score=body.score,
        at=body.at,
        actor=user.name,
        now=utc_now(),
    )


@router.get("/repairs/performance")
def performance(session: DbSession, _user: Reader) -> list[dict[str, Any]]:
    """Per contractor: jobs, first-time fix, no access, journey times, recurrence, satisfaction."""
    return service.performance_report(session)


@router.get("/repairs/kpis")
def kpis(session: DbSession, _user: Reader) -> dict[str, Any]:
    """RP02 (emergency and non-emergency), Awaab's Law clocks met, and the landlord's own KPIs."""
    return service.kpi_report(session)


@router.post("/repairs/kpis", status_code=status.HTTP_201_CREATED)
def define_kpi(body: KpiIn, session: DbSession, _user: Writer) -> dict[str, Any]:
    """Define (or redefine, by name) a resident-driven KPI."""
    row = service.define_kpi(session, kpi=body, now=utc_now())
    return {
        "name": row.name,
        "numerator": row.numerator,
        "denominator": row.denominator,
        "filter": row.filter,
    }


@router.delete("/repairs/kpis/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_kpi(
    name: Annotated[str, Path(min_length=1, max_length=100)], session: DbSession, _user: Writer
) -> Response:
    """Remove a resident-driven KPI by name; 404 when there is none of that name."""
    if not service.delete_kpi(session, name=name):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no KPI named {name!r}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
