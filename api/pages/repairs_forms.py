"""The case page's repair forms: raise a work order, book, dispatch, record a visit, satisfaction.

Each form goes through the same repairs.service function as the JSON API; a refused step comes
back to the case page with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, status
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api.deps import Context, RowId, page_action
from api.pages.render import words
from api.pages.work import _back, _first_error, parse_local
from api.session import SignedIn
from compliance import service as compliance
from registry.clock import utc_now
from repairs import repository, service
from repairs.models import WorkOrder
from repairs.schemas import ContractorIn, VisitIn, WorkOrderIn

router = APIRouter(include_in_schema=False)

Officer = Annotated[SignedIn, Depends(page_action("repairs:write"))]


def _no_case(case_id: int) -> RedirectResponse:
    return RedirectResponse(
        "/queue?" + urlencode({"error": f"there is no case {case_id}"}), status.HTTP_303_SEE_OTHER
    )


def _step(case_id: int, act: Callable[[], str]) -> Response:
    """Run one repairs step (its own transaction); back to the case with what was done or why not."""
    try:
        done = act()
    except compliance.CaseNotFound:
        return _no_case(case_id)
    except (service.RepairRefused, service.WorkOrderNotFound, service.ContractorNotFound) as exc:
        return _back(case_id, error=str(exc).strip("'\""))
    except (ValidationError, ValueError) as exc:
        return _back(case_id, error=f"the form was not complete: {_first_error(exc)}")
    return _back(case_id, message=done)


def _order_on_case(session: Any, case_id: int, work_order_id: int) -> WorkOrder:
    """The work order, if it belongs to the case."""
    order = repository.get_work_order(session, work_order_id)
    if order is None or order.case_id != case_id:
        raise service.WorkOrderNotFound(f"case {case_id} has no work order {work_order_id}")
    return order


@router.post("/cases/{case_id}/work-orders")
def raise_work_order_form(
    case_id: RowId,
    context: Context,
    signed: Officer,
    kind: Annotated[str, Form(max_length=16)] = "",
    priority: Annotated[str, Form(max_length=16)] = "",
    contractor_id: Annotated[str, Form(max_length=12)] = "",
    new_contractor: Annotated[str, Form(max_length=100)] = "",
    new_contractor_kind: Annotated[str, Form(max_length=16)] = "contractor",
    description: Annotated[str | None, Form(max_length=10_000)] = None,
    communal: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    """Raise safety or supplementary work on the case, with a chosen (or newly added) contractor."""

    def act() -> str:
        now = utc_now()
        with context.sessions.begin() as session:
            if new_contractor.strip():
                added = ContractorIn(name=new_contractor.strip(), kind=new_contractor_kind)  # type: ignore[arg-type]
                chosen = service.add_contractor(
                    session, name=added.name, kind=added.kind, now=now
                ).id
            elif contractor_id.isdigit():
                chosen = int(contractor_id)
            else:
                raise ValueError("choose a contractor, or add one")
            order = WorkOrderIn(
                case_id=case_id,
                kind=kind,  # type: ignore[arg-type]
                contractor_id=chosen,
                priority=priority,  # type: ignore[arg-type]
                description=(description or "").strip() or None,
                communal=communal == "yes",
            )
            made = service.raise_work_order(session, order=order, actor=signed.user.name, now=now)
            return f"Work order {made.id} raised: {words(made.kind).lower()} work, {made.priority}."

    return _step(case_id, act)


@router.post("/cases/{case_id}/work-orders/{work_order_id}/appointments")
def book_form(
    case_id: RowId,
    work_order_id: RowId,
    context: Context,
    signed: Officer,
    booked_for: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Book an appointment with the household."""

    def act() -> str:
        when = parse_local(booked_for, context.engine.calendar.timezone)
        with context.sessions.begin() as session:
            _order_on_case(session, case_id, work_order_id)
            service.book_visit(
                session,
                work_order_id=work_order_id,
                booked_for=when,
                actor=signed.user.name,
                now=utc_now(),
            )
        return f"Appointment booked for work order {work_order_id}."

    return _step(case_id, act)


@router.post("/cases/{case_id}/work-orders/{work_order_id}/dispatch")
def dispatch_form(
    case_id: RowId,
    work_order_id: RowId,
    context: Context,
    signed: Officer,
    at: Annotated[str, Form(max_length=40)] = "",
    operative: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """An operative sent: the end of part one of the journey."""

    def act() -> str:
        when = parse_local(at, context.engine.calendar.timezone)
        with context.sessions.begin() as session:
            _order_on_case(session, case_id, work_order_id)
            service.dispatch(
                session,
                work_order_id=work_order_id,
                at=when,
                actor=signed.user.name,
                now=utc_now(),
                engine=context.engine,
                operative=operative,
            )
        return f"Work order {work_order_id} dispatched."

    return _step(case_id, act)


@router.post("/cases/{case_id}/work-orders/{work_order_id}/visits")
def visit_form(
    case_id: RowId,
    work_order_id: RowId,
    context: Context,
    signed: Officer,
    outcome: Annotated[str, Form(max_length=16)] = "",
    at: Annotated[str, Form(max_length=40)] = "",
    method: Annotated[str | None, Form(max_length=16)] = None,
    reason: Annotated[str | None, Form(max_length=10_000)] = None,
    work_done: Annotated[str | None, Form(max_length=10_000)] = None,
) -> Response:
    """What happened at a visit: completed, no access (method and reason), or a follow-on."""

    def act() -> str:
        visit = VisitIn(
            outcome=outcome,  # type: ignore[arg-type]
            at=parse_local(at, context.engine.calendar.timezone),
            method=(method or "").strip() or None,
            reason=(reason or "").strip() or None,
            work_done=(work_done or "").strip() or None,
        )
        with context.sessions.begin() as session:
            _order_on_case(session, case_id, work_order_id)
            service.record_visit(
                session,
                work_order_id=work_order_id,
                visit=visit,
                actor=signed.user.name,
                now=utc_now(),
                engine=context.engine,
            )
        return f"Visit recorded on work order {work_order_id}: {words(visit.outcome).lower()}."

    return _step(case_id, act)


@router.post("/cases/{case_id}/work-orders/{work_order_id}/satisfaction")
def satisfaction_form(
    case_id: RowId,
    work_order_id: RowId,
    context: Context,
    signed: Officer,
    score: Annotated[str, Form(max_length=2)] = "",
    at: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """The resident's satisfaction, 1 to 5, after completion."""

    def act() -> str:
        if not score.isdigit():
            raise ValueError("choose a score from 1 to 5")
        when = parse_local(at, context.engine.calendar.timezone)
        with context.sessions.begin() as session:
            _order_on_case(session, case_id, work_order_id)
            service.record_satisfaction(
                session,
                work_order_id=work_order_id,
                score=int(score),
                at=when,
                actor=signed.user.name,
                now=utc_now(),
            )
        return f"Satisfaction {score} of 5 recorded on work order {work_order_id}."

    return _step(case_id, act)
