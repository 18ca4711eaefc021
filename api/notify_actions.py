"""What the API and the pages do across rooms for notifications: queue the written summary
(compliance renders it, the file store keeps the PDFs, notify sends it).

Two ways in:
- ``POST /api/v1/cases/{id}/summary/send`` (``send_summary``): queued first; ``summary_sent`` is
  recorded by the delivery hook when the email or letter has gone, dated when it went.
- The case page's "send the written summary" form (``compliance.service.send_written_summary``):
  records ``summary_sent`` with the method the officer chose and hands the letter to
  ``NotifyLetters``, which queues it (email, or first-class post through GOV.UK Notify); the
  case's Messages then show whether it was delivered.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from api.deps import AppContext
from compliance import repository as cases
from compliance import service as compliance
from compliance.summary import SummaryFacts, render_pdf, render_text
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


class NotifyLetters:
    """compliance.service.LetterChannel through notify: plugged into the pages by the
    composition root (``AppContext.letters``)."""

    def __init__(self, context: AppContext) -> None:
        self.context = context

    def deliver(
        self, session: Session, *, case_id: int, facts: SummaryFacts, method: str, text: str
    ) -> str:
        if method not in ("email", "first_class_post"):
            return "Recorded: it was not sent through Homesafe."
        case = cases.get_case(session, case_id)
        if case is None or self.context.files is None:
            return "Recorded, but Homesafe could not queue it: no file store is configured."
        pdf_key = self.context.files.put(render_pdf(facts), suffix="pdf")
        try:
            message = notify.queue_summary(
                session,
                case_id=case_id,
                home_id=case.home_id,
                hazard=case.hazard,
                investigation=case.investigations[-1].number if case.investigations else 0,
                text=text,
                pdf_key=pdf_key,
                large_print_key=None,
                actor="notify",
                now=self.context.now(),
                settings=self.context.channels,
                hooks=self.context.notify_hooks or notify.no_hooks,
                method=method,
                record_when_sent=False,
            )
        except notify.SummaryRefused as exc:
            return f"Recorded; not queued again: {exc.reason}."
        if message.status == "not_sent":
            return f"Recorded, but Homesafe did not send it: {message.last_error}."
        how = "by email to " + message.recipient if message.channel == "email" else "by post"
        return f"Queued {how}; the case's Messages show when it has gone."
