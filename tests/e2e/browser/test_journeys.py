"""Each role's main job in a real browser, end to end.

The officer walks an emergency case through every duty to a closing with its reason; two officers
close a case over an outstanding duty; the compliance officer starts from the breaches, accepts
the endeavours, exports and takes the evidence pack; the analyst reads equity; closed cases stay
findable. Screenshots go to test-artifacts/screenshots/ (named in the closing note of issue 14)."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from compliance.service import breach_due_clocks
from registry.clock import to_rfc3339, utc_now
from tests.e2e.browser.conftest import shot
from tests.e2e.browser.test_pages import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def _local(minutes_ago: float) -> str:
    moment = utc_now() - timedelta(minutes=minutes_ago)
    return moment.astimezone(ZoneInfo("Europe/London")).strftime("%Y-%m-%dT%H:%M")


def _report(page, base, token, **fields):  # type: ignore[no-untyped-def]
    response = page.request.post(
        f"{base}/api/v1/reports", headers={"Authorization": f"Bearer {token}"}, data=fields
    )
    assert response.status in (200, 201), response.text()
    return response.json()["id"]


def _step(page, title: str, at: str, **fields: str) -> str:  # type: ignore[no-untyped-def]
    """Fill and send the step form titled ``title``; return what the page then says."""
    form = page.get_by_role("form", name=title)
    form.get_by_label("When it happened (UK time)").fill(at)
    for label, value in fields.items():
        field = form.get_by_label(label.replace("_", " "), exact=True)
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        elif field.get_attribute("type") == "checkbox":
            field.check()
        else:
            field.fill(value)
    form.get_by_role("button").click()
    page.wait_for_load_state()
    said = page.locator("[role=status], [role=alert]").first.inner_text()
    assert not said.startswith("Not done"), said
    return said


def _status(page, duty: str) -> str:  # type: ignore[no-untyped-def]
    return page.locator(f'tr[data-duty="{duty}"] .clock-status').first.inner_text()


def test_an_officer_takes_an_emergency_case_from_report_to_closing(live, page):
    site, base = live
    case_id = _report(
        page,
        base,
        site.tokens["officer"],
        home_id="H0003",
        hazard="damp_and_mould",
        source="tenant",
        reported_at=to_rfc3339(utc_now() - timedelta(hours=3)),
        description="Black mould round the baby's cot; the wall is wet.",
        emergency=True,
    )
    sign_in(page, base, "officer")
    page.get_by_label("Find a case", exact=False).fill(f"case {case_id}")
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()
    page.get_by_role("link", name=f"Case {case_id}", exact=True).click()
    page.wait_for_load_state()
    panel = page.locator(".next-step").inner_text()
    assert "Investigate and make the home safe (emergency)" in panel, panel
    shot(page, "10-emergency-case-next-step")

    # Make safe within the 24 hours.
    _step(
        page,
        "Record the home made safe",
        _local(120),
        **{"Internal note (optional)": "Mould washed, heater and dehumidifier in place."},
    )
    assert _status(page, "emergency_action").startswith("Met")
    assert "Done" in _status(page, "emergency_action")

    # The standard investigation, with findings for the letter and the work's target dates.
    form = page.get_by_role("form", name="Record the investigation's findings")
    form.get_by_label("When it happened (UK time)").fill(_local(90))
    form.get_by_label("What the investigation found").select_option("significant")
    form.get_by_label("Kind of investigation").select_option("standard")
    form.get_by_label("How it was done").select_option("in_person")
    form.get_by_label("Who investigated").fill("Sam Surveyor")
    form.get_by_label("Their role").fill("Damp and mould surveyor")
    form.get_by_label("Findings, for the tenant's letter").fill(
        "Mould on the bedroom's outside wall from a blocked gutter and no extractor fan."
    )
    form.get_by_label("What will be done").first.fill("Clear the gutter, fit an extractor fan")
    form.get_by_label("Supplementary (preventive) work is needed too").check()
    form.get_by_label("What will be done").nth(1).fill("Insulate the outside wall")
    form.get_by_label("Internal note (optional)").fill("INTERNAL: tenant was hostile at first")
    form.get_by_role("button").click()
    page.wait_for_load_state()
    assert "Recorded: investigation concluded." in page.get_by_role("status").inner_text()
    assert _status(page, "investigate").startswith("Met")
    for duty in ("written_summary", "safety_work", "supplementary_steps", "supplementary_work"):
        assert _status(page, duty).startswith("Running"), duty
    assert "Standard investigation, in person" in page.locator("ol.investigations").inner_text()
    shot(page, "11-case-after-investigation")

    # The written summary: previewed (findings, not the internal note), then sent.
    page.get_by_role("link", name="Preview and send the written summary").click()
    page.wait_for_load_state()
    letter = page.locator("article.letter").inner_text()
    assert "blocked gutter" in letter
    assert "INTERNAL" not in letter
    assert "Case number:" in letter
    assert "Clear the gutter" in letter
    shot(page, "12-written-summary-preview")
    page.get_by_label("How it is sent").select_option("first_class_post")
    page.get_by_label("When it was sent (UK time)").fill(_local(60))
    page.get_by_role("button", name="Send the written summary").click()
    page.wait_for_load_state()
    assert "Written summary sent." in page.get_by_role("status").inner_text()
    assert _status(page, "written_summary").startswith("Met")
    assert "by first-class post" in page.locator("#h-summary ~ ul").first.inner_text()

    # Safety work, the supplementary steps, begun and completed.
    _step(page, "Record the home made safe", _local(40))
    assert _status(page, "safety_work").startswith("Met")
    _step(
        page,
        "Record steps taken to begin the supplementary work",
        _local(30),
        **{
            "Which steps (survey booked, contractor instructed, materials ordered)": "Insulation contractor instructed"
        },
    )
    assert _status(page, "supplementary_steps").startswith("Met")
    _step(page, "Record the supplementary work begun", _local(20))
    assert _status(page, "supplementary_work").startswith("Met")
    _step(page, "Record the supplementary work completed", _local(10))
    assert "No duty is outstanding" in page.locator(".next-step").inner_text()
    shot(page, "13-case-all-duties-done")

    # Closed with its reason, after a confirmation page.
    close = page.get_by_role("form", name="Close the case")
    close.get_by_label("Why it closes").select_option("work_complete_verified")
    close.get_by_role("button").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == f"Close case {case_id}?"
    assert "No duty is outstanding" in page.locator("main").inner_text()
    shot(page, "14-close-confirmation")
    page.get_by_role("button", name="Close the case").click()
    page.wait_for_load_state()
    assert "Case closed: work complete and verified." in page.get_by_role("status").inner_text()
    assert "Closed" in page.locator("ul.facts").inner_text()

    # Closed cases stay findable: the queue's closed view and the search.
    page.goto(f"{base}/queue?status=closed")
    assert page.locator(f'tr[data-case="{case_id}"]').count() == 1
    page.goto(f"{base}/search?q=H0003")
    assert f"Case {case_id}" in page.locator("main").inner_text()
    shot(page, "15-closed-case-found")


def test_closing_over_an_outstanding_duty_needs_a_second_officer(live, page):
    site, base = live
    case_id = _report(
        page,
        base,
        site.tokens["officer"],
        home_id="H0002",
        hazard="damp_and_mould",
        source="tenant",
        reported_at=to_rfc3339(utc_now() - timedelta(hours=1)),
        description="Mould in the bathroom (reported twice).",
    )
    sign_in(page, base, "officer")
    page.goto(f"{base}/cases/{case_id}")
    close = page.get_by_role("form", name="Close the case")
    close.get_by_label("Why it closes").select_option("duplicate")
    close.get_by_label("Note (optional; for a duplicate, the other case's number)").fill(
        f"Duplicate of case {site.tenant_case_id}"
    )
    close.get_by_role("button").click()
    page.wait_for_load_state()
    assert "a second officer must agree" in page.locator("main").inner_text()
    page.get_by_role("button", name="Ask a second officer to approve").click()
    page.wait_for_load_state()
    assert "Closure requested" in page.get_by_role("status").inner_text()
    assert "A second officer to approve closing" in page.locator(".next-step").inner_text()
    shot(page, "16-closure-requested")
    # The same officer cannot approve their own request.
    page.goto(f"{base}/cases/{case_id}/close?reason=duplicate")
    assert "another officer must approve it" in page.locator("main").inner_text()

    page.context.clear_cookies()
    sign_in(page, base, "officer2")
    page.goto(f"{base}/cases/{case_id}")
    approve = page.get_by_role("form", name="Approve closing the case")
    approve.get_by_role("button").click()
    page.wait_for_load_state()
    assert "your confirmation closes it" in page.locator("main").inner_text()
    page.get_by_role("button", name="Close the case").click()
    page.wait_for_load_state()
    assert "Case closed: duplicate" in page.get_by_role("status").inner_text()
    assert "No longer applies" in _status(page, "investigate")
    shot(page, "17-closed-by-second-officer")


def test_the_compliance_officer_starts_from_the_breaches(live, page):
    site, base = live
    case_id = _report(
        page,
        base,
        site.tokens["officer"],
        home_id="H0001",
        hazard="excess_cold",
        source="staff",
        reported_at=to_rfc3339(utc_now() - timedelta(hours=30)),
        description="No heating, elderly tenant.",
        emergency=True,
    )
    with site.context.sessions.begin() as session:
        assert breach_due_clocks(session, now=utc_now(), actor="scheduler") >= 1
    sign_in(page, base, "officer")
    page.goto(f"{base}/queue?show=breached")
    first = page.locator("table.queue tbody tr").first
    assert first.get_attribute("data-case") == str(case_id)
    assert "Breached: overdue by" in first.inner_text()
    assert "no endeavours recorded yet" in first.inner_text()
    shot(page, "18-queue-breached-first")
    page.goto(f"{base}/cases/{case_id}")
    page.get_by_label("All reasonable endeavours made").fill(
        "Heating engineer booked within 2 hours; the part was unavailable nationally."
    )
    page.get_by_role("button", name="Record the endeavours").click()
    page.wait_for_load_state()

    page.context.clear_cookies()
    sign_in(page, base, "compliance")
    page.goto(f"{base}/compliance")
    headings = page.locator("main h2").all_inner_texts()
    assert headings[0] == "Breached and still not done", headings
    row = page.locator("#h-breaches ~ div tr.breached").first
    assert f"Case {case_id}" in row.inner_text()
    assert "awaiting a compliance officer" in row.inner_text()
    shot(page, "19-compliance-breaches-first")
    row.get_by_role("button", name="Accept as all reasonable endeavours").click()
    page.wait_for_load_state()
    assert "is excused" in page.get_by_role("status").inner_text()

    page.goto(f"{base}/cases/{case_id}")
    shot(page, "19b-case-excused")
    link = page.get_by_role("link", name="Evidence pack as data (ZIP)").get_attribute("href")
    got = page.request.get(base + link)  # the signed-in browser's own request
    assert got.status == 200, got.text()[:500]
    assert got.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(got.body()))
    names = set(archive.namelist())
    assert {
        "clocks.csv",
        "timeline.csv",
        "audit_entries.csv",
        "audit_verification.json",
        "MANIFEST.sha256",
        f"case-{case_id}-evidence-pack.pdf",
    } <= names
    assert "breached_excused" in archive.read("clocks.csv").decode()
    assert '"case_entries_ok": true' in archive.read("audit_verification.json").decode()
    pdf = page.request.get(f"{base}/cases/{case_id}/evidence-pack.pdf")
    assert pdf.status == 200
    assert pdf.body().startswith(b"%PDF")
    (shot(page, "19c-unused").parent / f"evidence-pack-case-{case_id}.pdf").write_bytes(pdf.body())


def test_the_analyst_reads_equity_with_everyone_and_suppression_explained(live, page):
    site, base = live
    sign_in(page, base, "analyst")
    page.goto(f"{base}/equity")
    table = page.locator("main table").first.inner_text()
    assert "Everyone" in table
    assert "Everyone" in page.locator("svg.chart desc").first.text_content()
    assert page.get_by_role("heading", name="Why some groups are not shown").is_visible()
    shot(page, "20-equity-everyone-suppression")
    page.goto(f"{base}/cases/{site.case_id}")
    assert "Household needs that raise the risk" not in page.locator("main").inner_text()
