"""A home's page (its tenancy and contacts, needs, sensors over a chosen period, cases, work
orders) and the search that finds homes and cases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.access_log import HOUSEHOLD_NEEDS, record_read
from api.auth import may
from api.deps import Context, DbSession, page_require
from api.pages import sensors
from api.pages.render import render
from api.pages.work import CLOSURE_WORDS, TENURE_WORDS, not_found
from api.session import SignedIn
from compliance import repository, service
from registry import repository as registry
from registry.clock import utc_now
from registry.service import NEEDS, needs_of
from repairs import repository as repairs_repository

router = APIRouter(include_in_schema=False)


@router.get("/homes/{home_id}")
def home_page(
    home_id: str,
    request: Request,
    session: DbSession,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_require("cases:read"))],
    period: Annotated[str, Query(max_length=4)] = "7d",
) -> Response:
    """The home: tenancy and contacts (by role), needs that raise risk, sensors over a chosen
    period, every case past and present, and their work orders."""
    home = registry.get_home(session, home_id)
    if home is None:
        return not_found(request, signed, f"There is no home {home_id} in the registry.")
    now = utc_now()
    span = sensors.PERIODS.get(period, sensors.PERIODS["7d"])
    personal = may(signed.user.role, "cases:personal")
    needs = may(signed.user.role, "households:needs")
    if needs:
        record_read(
            session,
            actor=signed.user.name,
            role=signed.user.role,
            what=HOUSEHOLD_NEEDS,
            subject=f"home {home_id}",
            via=f"page /homes/{home_id}",
            now=now,
        )
    cases = repository.cases_of_home(session, home_id)
    orders = [o for c in cases for o in repairs_repository.list_work_orders(session, case_id=c.id)]
    tenancies = registry.tenancies_of_home(session, home_id) if personal else []
    return render(
        request,
        "home.html",
        signed,
        now=now,
        home=home,
        personal=personal,
        tenancies=tenancies,
        current=registry.tenancy_on(session, home_id, context.engine.calendar.local_date(now)),
        needs_visible=needs,
        needs=needs_of(registry.get_household(session, home_id)) if needs else (),
        needs_words=NEEDS,
        tenure_words=TENURE_WORDS,
        sensor_list=registry.sensors_of_home(session, home_id),
        period=period if period in sensors.PERIODS else "7d",
        periods=sensors.PERIODS,
        charts=sensors.home_charts(
            context.telemetry,
            session,
            home_id=home_id,
            now=now,
            timezone=context.engine.calendar.timezone,
            start=now - span,
            end=now,
        ),
        cases=cases,
        urgent=service.urgent_clock,
        duty_label=service.duty_label,
        closure_words=CLOSURE_WORDS,
        orders=orders,
    )


@router.get("/search")
def search_page(
    request: Request,
    session: DbSession,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_require("cases:read"))],
    q: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    """Find homes and cases (open or closed) by case number, home, address, postcode, UPRN and,
    for staff who may read them, tenants' names and contacts."""
    text = q.strip()
    personal = may(signed.user.role, "cases:personal")
    homes = registry.find_homes(session, text, personal=personal) if text else []
    view = (
        service.hazard_queue(
            session,
            query=repository.QueueQuery(status="all", search=text, search_personal=personal),
            now=utc_now(),
            engine=context.engine,
            limit=50,
        )
        if text
        else None
    )
    return render(
        request,
        "search.html",
        signed,
        q=text,
        homes=homes,
        view=view,
        personal=personal,
        closure_words=CLOSURE_WORDS,
    )
