"""What the API and the pages do across rooms for notifications: queue the written summary
(compliance renders it, the file store keeps the PDFs, notify sends it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from api.deps import AppContext
from compliance import repository as cases
from compliance import service as compliance
from compliance.summary import render_pdf, render_text
from notify import service as notify
from notify.models import Message


def send_summary(
    session: Session,
    *,
    context: AppContext,
    case_id: int,
    large_print: bool,
    actor: str,
    now: datetime,
) -> Message:
    """Queue the case's written summary to the tenant: the PDF (and a large-print one when asked)
    stored in the file store and attached, the plain text in the body. Refused (EventRefused)
    before an investigation concludes; SummaryRefused when it is already on its way."""
    case = cases.get_case(session, case_id)
    if case is None:
        raise compliance.CaseNotFound(f"no case {case_id}")
    facts = compliance.summary_facts(session, case, context.engine, now=now)
    if context.files is None:
        raise notify.SummaryRefused("no file store is configured for the summary's PDF")
    pdf_key = context.files.put(render_pdf(facts), suffix="pdf")
    large_key = (
        context.files.put(render_pdf(facts, large_print=True), suffix="pdf")
        if large_print
        else None
    )
    return notify.queue_summary(
        session,
        case_id=case.id,
        home_id=case.home_id,
        hazard=case.hazard,
        investigation=case.investigations[-1].number,
        text=render_text(facts),
        pdf_key=pdf_key,
        large_print_key=large_key,
        actor=actor,
        now=now,
        settings=context.channels,
        hooks=context.notify_hooks or notify.no_hooks,
    )
