"""Interop (contract section 6): the damp and mould data model exports, TSM RP02, external
references and work-order updates from other systems."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status

from api.auth import may
from api.deps import Context, DbSession, RowId, require
from api.models import User
from api.routers.compliance import FromParam, ToParam, _period
from interop import service
from interop.models import ExternalReference
from interop.schemas import EntityType, ReferenceIn, ReferenceOut, UpdatesResult, WorkOrderUpdatesIn

router = APIRouter(tags=["interop"])

Exporter = Annotated[User, Depends(require("interop:export"))]
Importer = Annotated[User, Depends(require("interop:import"))]
ReferenceReader = Annotated[User, Depends(require("interop:references"))]


@router.get("/exports/damp-and-mould")
def damp_and_mould(
    session: DbSession,
    context: Context,
    user: Exporter,
    start: FromParam,
    end: ToParam,
    component: Annotated[str, Query(pattern="^(investigation|work_order)$")] = "investigation",
) -> dict[str, Any]:
    """One component of the government's damp and mould data model (JSON Schema draft-07) for
    the cases open at any time in the period: ``investigation`` (hazard reports, investigations,
    their hazards and severity, status history, notifications, escalations) or ``work_order``.
    Tenants' names, contacts and report texts only for roles that work cases."""
    begin, finish = _period(start, end, context.engine.calendar.timezone)
    return service.export_damp_and_mould(
        session,
        component=component,
        start=begin,
        end=finish,
        now=context.now(),
        engine=context.engine,
        personal=may(user.role, "cases:personal"),
    )


@router.get("/exports/tsm.csv")
def tsm(
    session: DbSession,
    context: Context,
    _user: Exporter,
    year: Annotated[
        str, Query(max_length=9, description="the year it starts in April: 2025 or 2025/26")
    ],
) -> Response:
    """TSM RP02 for the financial year: repairs completed within the landlord's target,
    emergency and non-emergency, with numerators and denominators."""
    period, _ = service.tsm_rp02(session, year=year, engine=context.engine)
    return Response(
        service.tsm_csv(session, year=year, engine=context.engine),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="tsm-rp02-{period.first}.csv"'},
    )


def _out(row: ExternalReference) -> ReferenceOut:
    return ReferenceOut.model_validate(
        {
            **{k: getattr(row, k) for k in ReferenceOut.model_fields if k != "path"},
            "path": service.reference_path(row.entity_type, row.entity_id),
        }
    )


@router.get("/references", response_model=list[ReferenceOut])
def list_references(
    session: DbSession,
    _user: ReferenceReader,
    allocated_by: Annotated[str | None, Query(max_length=50)] = None,
    value: Annotated[str | None, Query(max_length=100)] = None,
    entity_type: EntityType | None = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0,
) -> list[ReferenceOut]:
    """References other systems gave Homesafe's cases, homes, tenancies and work orders: find
    the case behind a housing management system's repair number, or a work order's job numbers."""
    rows = service.find_references(
        session,
        allocated_by=allocated_by,
        value=value,
        entity_type=entity_type,
        entity_id=entity_id,
        limit=limit,
        offset=offset,
    )
    return [_out(r) for r in rows]


@router.post("/references", response_model=ReferenceOut, status_code=status.HTTP_201_CREATED)
def add_reference(
    body: ReferenceIn, session: DbSession, context: Context, user: Importer
) -> ReferenceOut:
    """Attach another system's reference to a case, home, tenancy or work order."""
    return _out(service.add_reference(session, reference=body, actor=user.name, now=context.now()))


@router.delete("/references/{reference_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_reference(
    reference_id: RowId, session: DbSession, context: Context, user: Importer
) -> Response:
    """Remove a reference (the audit log keeps that it was there)."""
    service.remove_reference(session, reference_id=reference_id, actor=user.name, now=context.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/work-orders/updates", response_model=UpdatesResult)
def work_order_updates(
    body: WorkOrderUpdatesIn, session: DbSession, context: Context, user: Importer
) -> UpdatesResult:
    """Status updates from a contractor's or housing management system, each matched to a work
    order by the system's reference; the batch is validated whole before anything is written
    (422 with every bad update by its position and reason), then applied as the pages would."""
    try:
        return service.apply_updates(
            session,
            allocated_by=body.allocated_by,
            updates=list(enumerate(body.updates, start=1)),
            actor=user.name,
            now=context.now(),
            engine=context.engine,
        )
    except service.UpdatesRefused as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            {"message": str(exc), "errors": [e.model_dump() for e in exc.errors]},
        ) from None
