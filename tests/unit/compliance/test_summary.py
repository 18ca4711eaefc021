"""The tenant's written summary: plain English, HTML and PDF, large print."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from compliance.summary import (
    BODY_PT,
    LARGE_PRINT_PT,
    SummaryFacts,
    WorkItem,
    paragraphs,
    render_html,
    render_pdf,
)

pytestmark = pytest.mark.unit


def facts(
    outcome="significant", work=True, findings="Mould on the north wall <script>"
) -> SummaryFacts:
    items = (
        WorkItem(
            "Safety work to remove or reduce the hazard",
            datetime(2026, 3, 9, 23, 59, 59, tzinfo=UTC),
        ),
        WorkItem("Further work", None, done_at=datetime(2026, 3, 5, 12, tzinfo=UTC)),
    )
    return SummaryFacts(
        case_id=42,
        home_id="H0001",
        hazard="damp_and_mould",
        outcome=outcome,
        investigated_at=datetime(2026, 3, 2, 10, tzinfo=UTC),
        findings=findings,
        work=items if work else (),
    )


def test_plain_english_says_what_was_found_the_work_and_how_to_complain():
    text = dict(paragraphs(facts()))
    assert "Monday 2 March 2026" in text["What we looked at"]
    assert "damp and mould growth" in text["What we looked at"]
    assert "a significant hazard" in text["What we found"]
    assert "by Monday 9 March 2026" in text["The work we will do"]
    assert "done on Thursday 5 March 2026" in text["The work we will do"]
    assert "Housing Ombudsman" in text["How to complain"]


def test_no_hazard_says_no_work_is_needed():
    text = dict(paragraphs(facts("no_hazard", work=False, findings="")))
    assert text["What we found"] == "We found no hazard."
    assert "do not need to do any safety work" in text["The work we will do"]


def test_html_escapes_and_large_print_is_bigger():
    normal, large = render_html(facts()), render_html(facts(), large_print=True)
    assert "<script>" not in normal
    assert "&lt;script&gt;" in normal
    assert f"font-size:{BODY_PT}pt" in normal
    assert f"font-size:{LARGE_PRINT_PT}pt" in large
    assert LARGE_PRINT_PT >= 16  # RNIB clear print: at least 16 pt


def test_pdf_is_a_pdf_and_large_print_takes_more_pages():
    normal = render_pdf(facts())
    large = render_pdf(facts(findings="Mould — “quoted” text " * 40), large_print=True)
    assert normal.startswith(b"%PDF-")
    assert large.startswith(b"%PDF-")
    assert large.count(b"/Type /Page") > normal.count(b"/Type /Page")  # more pages
    assert render_pdf(facts()) == normal  # deterministic: same facts, same bytes
