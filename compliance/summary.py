"""The written summary for the tenant, in plain English, as HTML and PDF (with a large-print variant).

What it says (docs/law.md, "The written summary"): what was investigated and how; whether a
significant or emergency hazard was found and what it is; for each piece of work what will be done
and the target dates to begin and to complete it, or that none is needed and why; where the
household stands on alternative accommodation; how to contact the landlord and how to complain
(the landlord's process, then the Housing Ombudsman). It states only what happened: a duty that
fell away is never "done". A contact detail the landlord has not configured is named as missing
rather than printed as a placeholder. Large print follows the RNIB's clear-print guidance: at
least 16 pt (we use 18), left-aligned (never justified), plain sans-serif. PDF via fpdf2 (pure
Python, core fonts, no network).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from fpdf import FPDF

from compliance.rules import HAZARD_BY_KEY

BODY_PT = 12
LARGE_PRINT_PT = 18

_OUTCOME_WORDS = {
    "emergency": "an emergency hazard: a serious and immediate risk to your health or safety",
    "significant": "a significant hazard: a serious risk to your health or safety",
    "not_significant": "a hazard, but not one that is a significant risk to your health or safety",
    "no_hazard": "no hazard",
}
_TYPE_WORDS = {
    "emergency": "emergency investigation",
    "standard": "investigation",
    "renewed": "in-person investigation you asked for",
    "further": "further investigation",
}
_METHOD_WORDS = {"in_person": "in person, at your home", "remote": "remotely"}
_ACCOMMODATION_WORDS = {
    "due": (
        "If we cannot make your home safe in time, we will offer you somewhere suitable to stay, "
        "at our cost, until your home is safe."
    ),
    "offered": (
        "We have offered you somewhere suitable to stay, at our cost, until your home is safe."
    ),
    "accepted": (
        "You have accepted somewhere else to stay, at our cost, until your home is safe. We will "
        "tell you when you can go home."
    ),
    "declined": (
        "We offered you somewhere else to stay and you decided to stay at home. You can change "
        "your mind at any time: please contact us."
    ),
    "moved": "You are staying somewhere else, at our cost, until your home is safe.",
}
COMPLAINTS = (
    "If you are unhappy with what we found or what we are doing, you can complain to us{how}, "
    "quoting your case number. If you are still unhappy after our complaints process, you can "
    "ask the Housing Ombudsman Service to look at it (www.housing-ombudsman.org.uk, "
    "0300 111 3000)."
)


@dataclass(frozen=True)
class Landlord:
    """The landlord's contact details printed on every letter (HOMESAFE_LANDLORD_* settings)."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None

    def missing(self) -> list[str]:
        """The details not configured, in words."""
        words = {
            "name": "our name",
            "phone": "our phone number",
            "email": "our email address",
            "address": "our postal address",
        }
        return [words[key] for key in words if not getattr(self, key)]


@dataclass(frozen=True)
class WorkItem:
    """One piece of work: what it is, and when it will begin and finish, or when it was done."""

    what: str
    due_at: datetime | None  # the deadline to finish (or, for supplementary work, to begin)
    done_at: datetime | None = None
    begin_by: date | datetime | None = None
    plan: str | None = None  # the officer's description of the work, for the tenant
    complete_by: date | None = None
    steps_by: datetime | None = None  # supplementary work: first steps by this time
    hours: bool = False  # the deadline is a time of day (the 24 hours), not a whole day


@dataclass(frozen=True)
class SummaryFacts:
    """What the summary says: taken from the case and its latest investigation."""

    case_id: int
    home_id: str
    hazard: str
    outcome: str
    investigated_at: datetime
    findings: str
    work: tuple[WorkItem, ...]
    landlord: Landlord = field(default_factory=Landlord)
    timezone: str = "Europe/London"
    investigation_type: str | None = None
    method: str | None = None
    no_emergency_found: bool = False
    accommodation: str | None = None
    tenant_name: str | None = None
    address: str | None = None
    postcode: str | None = None
    letter_date: date | None = None


def _when(at: datetime | date, tz: str, *, with_time: bool = False) -> str:
    if isinstance(at, datetime):
        local = at.astimezone(ZoneInfo(tz))
        day = f"{local:%A} {local.day} {local:%B %Y}"
        if with_time:
            return f"{local:%H:%M} on {day}"
        return day
    return f"{at:%A} {at.day} {at:%B %Y}"


def hazard_name(key: str) -> str:
    """The HHSRS name of a hazard key, in lower case for a sentence."""
    hazard = HAZARD_BY_KEY.get(key)
    return hazard.name_2005.lower() if hazard else key.replace("_", " ")


def _work_line(item: WorkItem, tz: str) -> str:
    what = f"{item.what} ({item.plan.strip()})" if item.plan and item.plan.strip() else item.what
    if item.done_at is not None:
        return f"{what}: done on {_when(item.done_at, tz)}."
    parts = []
    if item.steps_by is not None:
        parts.append(
            f"we will take the first steps (such as a survey or booking a contractor) by "
            f"{_when(item.steps_by, tz)}"
        )
    if item.begin_by is not None:
        parts.append(f"we will start by {_when(item.begin_by, tz)}")
    if item.complete_by is not None:
        parts.append(f"we aim to finish by {_when(item.complete_by, tz)}")
    if item.due_at is not None:
        deadline = _when(item.due_at, tz, with_time=item.hours)
        if item.steps_by is not None:
            parts.append(f"the work will begin by {deadline} at the latest")
        else:
            parts.append(f"it will be finished by {deadline} at the latest")
    if not parts:
        return f"{what}."
    return f"{what}: {'; '.join(parts)}."


def _contact(landlord: Landlord) -> str:
    lines = []
    if landlord.name:
        lines.append(landlord.name)
    if landlord.phone:
        lines.append(f"Phone: {landlord.phone}")
    if landlord.email:
        lines.append(f"Email: {landlord.email}")
    if landlord.address:
        lines.append(f"Write to: {landlord.address}")
    missing = landlord.missing()
    if missing:
        lines.append(
            f"This letter is missing {', '.join(missing)}: they have not been set up in our "
            "system. Please use the details you have for us."
        )
    return " ".join(f"{line}." if not line.endswith(".") else line for line in lines)


def _complaints(landlord: Landlord) -> str:
    ways = []
    if landlord.phone:
        ways.append(f"by phone ({landlord.phone})")
    if landlord.email:
        ways.append(f"by email ({landlord.email})")
    if landlord.address:
        ways.append(f"by letter ({landlord.address})")
    how = (
        (" " + ", ".join(ways) + " or in person")
        if ways
        else " by phone, email, letter or in person"
    )
    return COMPLAINTS.format(how=how)


def heading(facts: SummaryFacts) -> str:
    """The letter's title."""
    return f"{facts.landlord.name or 'Your landlord'}: what we found at your home"


def address_block(facts: SummaryFacts) -> list[str]:
    """The tenant's name and address, the date and the case number, for the top of the letter."""
    lines = [facts.tenant_name or "The tenant"]
    if facts.address:
        lines.extend(part.strip() for part in facts.address.split(",") if part.strip())
    else:
        lines.append(f"Home {facts.home_id}")
    if facts.postcode and (not facts.address or facts.postcode not in facts.address):
        lines.append(facts.postcode)
    if facts.letter_date is not None:
        lines.append(_when(facts.letter_date, facts.timezone))
    lines.append(f"Case number: {facts.case_id}")
    return lines


def paragraphs(facts: SummaryFacts) -> list[tuple[str, str]]:
    """The summary as (heading, text) pairs, in plain English."""
    tz = facts.timezone
    found = _OUTCOME_WORDS.get(facts.outcome, facts.outcome.replace("_", " "))
    kind = _TYPE_WORDS.get(facts.investigation_type or "standard", "investigation")
    method = _METHOD_WORDS.get(facts.method or "")
    how = f", which we carried out {method}" if method else ""
    parts = [
        (
            "What we looked at",
            f"On {_when(facts.investigated_at, tz)} we finished our {kind}{how}, into the report "
            f"of {hazard_name(facts.hazard)} at your home.",
        ),
        ("What we found", f"We found {found}. {facts.findings}".strip()),
    ]
    lines = [_work_line(item, tz) for item in facts.work]
    if facts.no_emergency_found:
        lines.insert(0, "We did not find an emergency hazard, so no emergency work is needed.")
    if facts.work:
        parts.append(("The work we will do", " ".join(lines)))
    elif facts.outcome in ("emergency", "significant"):
        parts.append(
            (
                "The work we will do",
                " ".join(
                    [
                        *lines,
                        "We will write to you separately with the work we will do and its dates.",
                    ]
                ),
            )
        )
    else:
        parts.append(
            (
                "The work we will do",
                " ".join(
                    [
                        *lines,
                        "We do not need to do any safety work, because we did not find a "
                        "significant or emergency hazard.",
                    ]
                ),
            )
        )
    if facts.accommodation in _ACCOMMODATION_WORDS:
        parts.append(("Somewhere else to stay", _ACCOMMODATION_WORDS[facts.accommodation]))
    parts.append(("How to contact us", _contact(facts.landlord)))
    parts.append(("How to complain", _complaints(facts.landlord)))
    return parts


def render_html(facts: SummaryFacts, *, large_print: bool = False) -> str:
    """The summary as a standalone HTML page."""
    size = LARGE_PRINT_PT if large_print else BODY_PT
    title = heading(facts)
    top = "<br>\n".join(html.escape(line) for line in address_block(facts))
    body = "\n".join(
        f"<h2>{html.escape(heading)}</h2>\n<p>{html.escape(text)}</p>"
        for heading, text in paragraphs(facts)
    )
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>body{{font-family:Arial,Helvetica,sans-serif;font-size:{size}pt;"
        "line-height:1.5;max-width:40em;margin:2em;text-align:left}"
        f"h1{{font-size:{size + 6}pt}}h2{{font-size:{size + 2}pt}}</style>\n"
        f"</head>\n<body>\n<p>{top}</p>\n<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def render_text(facts: SummaryFacts) -> str:
    """The summary as plain text (for email bodies and screen readers)."""
    lines = [*address_block(facts), "", heading(facts), ""]
    for title, text in paragraphs(facts):
        lines.extend([title, text, ""])
    return "\n".join(lines)


def _latin1(text: str) -> str:
    """The PDF core fonts are Latin-1: replace the few typographic characters outside it."""
    for bad, good in (("\u2014", "-"), ("\u2013", "-"), ("\u2019", "'"), ("\u2018", "'")):
        text = text.replace(bad, good)
    for bad, good in (("\u201c", '"'), ("\u201d", '"'), ("\u2026", "...")):
        text = text.replace(bad, good)
    return text.encode("latin-1", "replace").decode("latin-1")


def render_pdf(facts: SummaryFacts, *, large_print: bool = False) -> bytes:
    """The summary as a PDF document, left-aligned."""
    size = LARGE_PRINT_PT if large_print else BODY_PT
    pdf = FPDF(format="A4")
    pdf.set_creation_date(facts.investigated_at)
    pdf.set_title(f"Case {facts.case_id}: written summary")
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    line_mm = size * 0.3528 * 1.5
    pdf.set_font("Helvetica", "", size)
    for line in address_block(facts):
        pdf.multi_cell(0, line_mm, _latin1(line), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(line_mm)
    pdf.set_font("Helvetica", "B", size + 6)
    pdf.multi_cell(
        0, line_mm * 1.2, _latin1(heading(facts)), align="L", new_x="LMARGIN", new_y="NEXT"
    )
    for title, text in paragraphs(facts):
        pdf.ln(line_mm / 2)
        pdf.set_font("Helvetica", "B", size + 2)
        pdf.multi_cell(0, line_mm, _latin1(title), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", size)
        pdf.multi_cell(0, line_mm, _latin1(text), align="L", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
