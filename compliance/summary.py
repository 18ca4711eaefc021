"""The written summary for the tenant, in plain English, as HTML and PDF (with a large-print variant).

docs/law.md, "Defence and records": the summary says what the investigation found, whether there
is a significant or emergency hazard, what safety and preventative work will be done and by when
(or why none), and how to complain. The detailed contents are *unconfirmed*; these are the points
every source names. Large print follows the RNIB's clear-print guidance: at least 16 pt (we use 18),
left-aligned, plain sans-serif. PDF via fpdf2 (pure Python, core fonts, no network).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fpdf import FPDF

from compliance.rules import HAZARD_BY_KEY

BODY_PT = 12
_NEXT_LINE: dict[str, Any] = {"new_x": "LMARGIN", "new_y": "NEXT"}
LARGE_PRINT_PT = 18

_OUTCOME_WORDS = {
    "emergency": "an emergency hazard: a serious and immediate risk to your health or safety",
    "significant": "a significant hazard: a serious risk to your health or safety",
    "not_significant": "a hazard, but not one that is a significant risk to your health or safety",
    "no_hazard": "no hazard",
}


@dataclass(frozen=True)
class WorkItem:
    """One piece of work the landlord will do, and by when (or when it was done)."""

    what: str
    due_at: datetime | None
    done_at: datetime | None = None


@dataclass(frozen=True)
class SummaryFacts:
    """What the summary says: taken from the case and its investigation."""

    case_id: int
    home_id: str
    hazard: str
    outcome: str
    investigated_at: datetime
    findings: str
    work: tuple[WorkItem, ...]
    landlord: str = "Your landlord"
    complaints: str = (
        "If you are unhappy with what we found or what we are doing, you can complain to us by "
        "phone, email, letter or in person, quoting your case number. If you are still unhappy "
        "after our complaints process, you can ask the Housing Ombudsman Service to look at it "
        "(www.housing-ombudsman.org.uk, 0300 111 3000)."
    )
    timezone: str = "Europe/London"


def _when(at: datetime, tz: str) -> str:
    local = at.astimezone(ZoneInfo(tz))
    return f"{local:%A} {local.day} {local:%B %Y}"


def hazard_name(key: str) -> str:
    """The HHSRS name of a hazard key, in lower case for a sentence."""
    hazard = HAZARD_BY_KEY.get(key)
    return hazard.name_2005.lower() if hazard else key.replace("_", " ")


def paragraphs(facts: SummaryFacts) -> list[tuple[str, str]]:
    """The summary as (heading, text) pairs, in plain English."""
    tz = facts.timezone
    found = _OUTCOME_WORDS.get(facts.outcome, facts.outcome.replace("_", " "))
    parts = [
        (
            "What we looked at",
            f"On {_when(facts.investigated_at, tz)} we finished investigating the report of "
            f"{hazard_name(facts.hazard)} at your home ({facts.home_id}). Case number: "
            f"{facts.case_id}.",
        ),
        ("What we found", f"We found {found}. {facts.findings}".strip()),
    ]
    if facts.work:
        lines = []
        for item in facts.work:
            if item.done_at is not None:
                lines.append(f"{item.what}: done on {_when(item.done_at, tz)}.")
            elif item.due_at is not None:
                lines.append(f"{item.what}: by {_when(item.due_at, tz)}.")
            else:
                lines.append(f"{item.what}.")
        parts.append(("The work we will do", " ".join(lines)))
    else:
        parts.append(
            (
                "The work we will do",
                "We do not need to do any safety work, because we did not find a significant "
                "or emergency hazard.",
            )
        )
    parts.append(("How to complain", facts.complaints))
    return parts


def render_html(facts: SummaryFacts, *, large_print: bool = False) -> str:
    """The summary as a standalone HTML page."""
    size = LARGE_PRINT_PT if large_print else BODY_PT
    title = f"{facts.landlord}: what we found at your home"
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
        f"</head>\n<body>\n<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def _latin1(text: str) -> str:
    """The PDF core fonts are Latin-1: replace the few typographic characters outside it."""
    for bad, good in (("\u2014", "-"), ("\u2013", "-"), ("\u2019", "'"), ("\u2018", "'")):
        text = text.replace(bad, good)
    for bad, good in (("\u201c", '"'), ("\u201d", '"'), ("\u2026", "...")):
        text = text.replace(bad, good)
    return text.encode("latin-1", "replace").decode("latin-1")


def render_pdf(facts: SummaryFacts, *, large_print: bool = False) -> bytes:
    """The summary as a PDF document."""
    size = LARGE_PRINT_PT if large_print else BODY_PT
    pdf = FPDF(format="A4")
    pdf.set_creation_date(facts.investigated_at)
    pdf.set_title(f"Case {facts.case_id}: written summary")
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    line_mm = size * 0.3528 * 1.5
    pdf.set_font("Helvetica", "B", size + 6)
    pdf.multi_cell(
        0, line_mm * 1.2, _latin1(f"{facts.landlord}: what we found at your home"), **_NEXT_LINE
    )
    for heading, text in paragraphs(facts):
        pdf.ln(line_mm / 2)
        pdf.set_font("Helvetica", "B", size + 2)
        pdf.multi_cell(0, line_mm, _latin1(heading), **_NEXT_LINE)
        pdf.set_font("Helvetica", "", size)
        pdf.multi_cell(0, line_mm, _latin1(text), **_NEXT_LINE)
    return bytes(pdf.output())
