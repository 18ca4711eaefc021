"""Issue 14's findings through the pages (TestClient, SQLite): each test failed before the fix."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from api.pages.sensors import MEASURES, thresholds_for
from compliance.schemas import EventIn, ReportIn
from compliance.service import breach_due_clocks, record_event, record_report
from registry.clock import utc_now
from tests.integration.api.site import Site, build_site, notice

pytestmark = pytest.mark.integration


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return build_site(tmp_path)


def _breached_case(site: Site) -> int:
    with site.context.sessions.begin() as session:
        case, _ = record_report(
            session,
            report=ReportIn(
                home_id="H0003",
                hazard="damp_and_mould",
                source="tenant",
                reported_at=utc_now() - timedelta(hours=30),
                description="Mould everywhere",
                emergency=True,
            ),
            actor="officer",
            now=utc_now(),
            engine=site.context.engine,
        )
        breach_due_clocks(session, now=utc_now(), actor="scheduler")
        return case.id


def test_breached_cases_come_first_naming_the_duty_and_how_overdue(site: Site) -> None:
    breached = _breached_case(site)
    page = site.client("officer").get("/queue").text
    rows = page.split('data-case="')[1:]
    assert rows[0].startswith(f'{breached}"')
    assert "Investigate and make the home safe (emergency)" in rows[0]
    assert "Breached: overdue by" in rows[0]
    assert "no endeavours recorded yet" in rows[0]
    only = site.client("officer").get("/queue?show=breached").text
    assert only.count('data-case="') == 1


def test_a_closed_case_stays_findable(site: Site) -> None:
    with site.context.sessions.begin() as session:
        record_event(
            session,
            case_id=site.case_id,
            event=EventIn(type="investigation_concluded", at=utc_now(), outcome="no_hazard"),  # type: ignore[arg-type]
            actor="officer",
            now=utc_now(),
            engine=site.context.engine,
        )
        record_event(
            session,
            case_id=site.case_id,
            event=EventIn(type="summary_sent", at=utc_now(), method="in_person"),  # type: ignore[arg-type]
            actor="officer",
            now=utc_now(),
            engine=site.context.engine,
        )
        record_event(
            session,
            case_id=site.case_id,
            event=EventIn(type="closed", at=utc_now(), reason="no_hazard_found"),  # type: ignore[arg-type]
            actor="officer",
            now=utc_now(),
            engine=site.context.engine,
        )
    client = site.client("officer")
    assert f'data-case="{site.case_id}"' not in client.get("/queue").text
    assert f'data-case="{site.case_id}"' in client.get("/queue?status=closed").text
    assert f'data-case="{site.case_id}"' in client.get(f"/queue?q=case+{site.case_id}").text
    assert f"/cases/{site.case_id}" in client.get("/search?q=H0001").text


def test_a_case_does_not_close_in_one_click(site: Site) -> None:
    client = site.client("officer")
    _, csrf = site.signed_in("officer")
    answer = client.post(
        f"/cases/{site.case_id}/events",
        data={"csrf_token": csrf, "type": "closed", "at": "2026-01-01T10:00"},
    )
    assert "closing page" in notice(answer).get("error", "")
    confirm = client.get(f"/cases/{site.case_id}/close?reason=duplicate&note=case+2").text
    assert "a second officer must agree" in confirm


def test_officers_see_needs_address_and_contact_but_never_ethnicity(site: Site) -> None:
    officer = site.client("officer").get(f"/cases/{site.tenant_case_id}").text
    assert "Household needs that raise the risk" in officer
    assert "health condition or disability" in officer
    assert "Ethnicity" not in officer
    assert "ethnicity" not in officer
    assert "Who it is about" in officer
    assert "Address" in officer
    analyst = site.client("analyst").get(f"/cases/{site.tenant_case_id}").text
    assert "Household needs that raise the risk" not in analyst


def test_the_written_summary_comes_from_the_pages_with_a_session(site: Site) -> None:
    with site.context.sessions.begin() as session:
        record_event(
            session,
            case_id=site.case_id,
            event=EventIn(
                type="investigation_concluded",
                at=utc_now(),
                outcome="significant",
                findings="Mould behind the wardrobe.",
                note="INTERNAL ONLY",
            ),  # type: ignore[arg-type]
            actor="officer",
            now=utc_now(),
            engine=site.context.engine,
        )
    client = site.client("officer")
    preview = client.get(f"/cases/{site.case_id}/summary").text
    assert "Mould behind the wardrobe." in preview
    assert "INTERNAL ONLY" not in preview
    assert "Missing from the letter" in preview  # the landlord's details are not configured
    pdf = client.get(f"/cases/{site.case_id}/summary.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")


def test_each_chart_carries_its_own_measures_threshold() -> None:
    figures = {"threshold_humidity_pct": 80.0, "threshold_wme_pct": 20.0}
    by_reading = {m.reading: thresholds_for(m, figures) for m in MEASURES}
    assert [t.value for t in by_reading["humidity_pct"]] == [80.0]
    assert [t.value for t in by_reading["wme_pct"]] == [20.0]
    assert [t.value for t in thresholds_for(MEASURES[2], {})] == [20.0]  # the detector's default


def test_case_page_charts_are_labelled_by_ids_that_exist_and_ticks_are_local(site: Site) -> None:
    page = site.client("officer").get(f"/cases/{site.case_id}").text
    for label in ('aria-labelledby="chart-0-wide-title chart-0-wide-desc"',):
        assert label in page
    assert 'id="chart-0-wide-title"' in page
    assert 'id="chart-0-wide-desc"' in page
    assert page.count('class="tick-label"') >= 6
    assert " UTC<" not in page


def test_unknown_pages_answer_html_and_the_api_json(site: Site) -> None:
    client = site.client("officer")
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Page not found" in page.text
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/json")
    forbidden = site.client("viewer").get("/admin").text
    assert "cannot manage people and roles" in forbidden
    assert "may not users admin" not in forbidden
