"""The tenant's written summary from the case page: previewed, printed or downloaded, and sent.

The letter's words come from ``compliance.summary`` (one text for HTML, PDF and plain text);
sending calls ``compliance.service.send_written_summary``, which records ``summary_sent`` with how
and when and hands the letter to a delivery channel when the composition root plugs one in.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from api.deps import Context, DbSession, RowId, page_action, page_require
from api.pages.render import render
from api.pages.work import _back, _no_case, context_letters, not_found, parse_local
from api.session import SignedIn
from compliance import repository, service
from compliance.summary import address_block, heading, paragraphs, render_pdf
from registry.clock import utc_now

router = APIRouter(include_in_schema=False)


@router.get("/cases/{case_id}/summary")
def summary_page(
    case_id: RowId,
    request: Request,
    session: DbSession,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_require("cases:personal"))],
    large_print: bool = False,
) -> Response:
    """The written summary as the tenant will read it, with the form that sends it."""
    case = repository.get_case(session, case_id)
    if case is None:
        return not_found(request, signed, f"There is no case {case_id}.")
    now = utc_now()
    try:
        facts = service.summary_facts(session, case, context.engine, now=now)
    except service.EventRefused as exc:
        return _back(case_id, error=exc.reason)
    from zoneinfo import ZoneInfo

    return render(
        request,
        "letter.html",
        signed,
        case=case,
        facts=facts,
        address=address_block(facts),
        heading=heading(facts),
        paragraphs=paragraphs(facts),
        large_print=large_print,
        letters=service.letters_sent(case),
        methods=service.SUMMARY_METHODS,
        summary_due=next(
            (c for c in reversed(case.clocks) if c.kind == "written_summary" and c.met_at is None),
            None,
        ),
        channel=context_letters(context) is not None,
        now_local=now.astimezone(ZoneInfo(context.engine.calendar.timezone)).strftime(
            "%Y-%m-%dT%H:%M"
        ),
        missing=facts.landlord.missing(),
    )


@router.get("/cases/{case_id}/summary.pdf")
def summary_pdf(
    case_id: RowId,
    request: Request,
    session: DbSession,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_require("cases:personal"))],
    large_print: bool = False,
) -> Response:
    """The written summary as a PDF, to print or attach (large print on request)."""
    case = repository.get_case(session, case_id)
    if case is None:
        return not_found(request, signed, f"There is no case {case_id}.")
    try:
        facts = service.summary_facts(session, case, context.engine, now=utc_now())
    except service.EventRefused as exc:
        return _back(case_id, error=exc.reason)
    suffix = "-large-print" if large_print else ""
    return Response(
        render_pdf(facts, large_print=large_print),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="case-{case_id}-summary{suffix}.pdf"'},
    )


@router.post("/cases/{case_id}/summary/send")
def send_summary_form(
    case_id: RowId,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_action("cases:write"))],
    method: Annotated[str, Form(max_length=32)] = "",
    at: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Send the written summary (or record how staff sent it): ``summary_sent`` with method and time."""
    try:
        when = parse_local(at, context.engine.calendar.timezone) if at else utc_now()
    except ValueError:
        return _back(case_id, error="the time sent is not a date and time")
    try:
        with context.sessions.begin() as session:
            _, said = service.send_written_summary(
                session,
                case_id=case_id,
                method=method,
                at=when,
                actor=signed.user.name,
                now=utc_now(),
                engine=context.engine,
                channel=context_letters(context),
            )
    except service.CaseNotFound:
        return _no_case(case_id)
    except (service.EventRefused, service.InvalidInput) as exc:
        return _back(case_id, error=exc.reason)
    return _back(case_id, message=f"Written summary sent. {said}")
