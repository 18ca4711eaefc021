"""The pages in a real browser: an officer works a case, compliance exports, the public is refused."""

from __future__ import annotations

import csv
import io

import pytest

from tests.e2e.browser.conftest import shot
from tests.integration.api.site import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def sign_in(page, base: str, name: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_an_officer_records_an_event_and_sees_the_clock_change(live, page):
    site, base = live
    sign_in(page, base, "officer")
    assert page.url == f"{base}/queue"
    assert page.get_by_role("heading", name="Hazard queue").is_visible()
    shot(page, "01-queue-officer")
    page.get_by_role("link", name=f"Case {site.case_id}", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name=f"Case {site.case_id}: Damp and mould").is_visible()
    investigate = page.locator('tr[data-clock="investigate"]')
    assert investigate.locator(".clock-status").inner_text().startswith("Running")
    assert "left" in investigate.locator(".time-left").inner_text()
    assert page.locator('tr[data-clock="written_summary"]').count() == 0
    assert (
        page.locator("svg.chart").count() >= 2
    )  # humidity and temperature, with the window shaded
    assert page.locator("svg.chart rect.window").count() >= 1
    assert page.locator("svg.chart line.threshold").count() >= 1
    shot(page, "02-case-before")

    form = page.get_by_role("form", name="Record the investigation's findings")
    form.get_by_label("What the investigation found").select_option("significant")
    form.get_by_label("Internal note (optional)").fill(
        "Black mould behind the wardrobe; extractor fan broken."
    )
    form.get_by_role("button").click()
    page.wait_for_load_state()

    assert "Recorded: investigation concluded." in page.get_by_role("status").inner_text()
    assert page.locator('tr[data-clock="investigate"] .clock-status').inner_text().startswith("Met")
    assert (
        page.locator('tr[data-clock="written_summary"] .clock-status')
        .inner_text()
        .startswith("Running")
    )
    assert page.locator('tr[data-clock="safety_work"]').count() == 1
    assert "Investigation concluded: significant" in page.locator("ol.timeline").inner_text()
    shot(page, "03-case-after")

    raise_form = page.get_by_role("form", name="Raise a work order")
    raise_form.get_by_label("Work", exact=True).select_option("safety")
    raise_form.get_by_label("Priority").select_option("urgent")
    raise_form.get_by_label("Or add a new contractor").fill("Dryhomes Ltd")
    raise_form.get_by_label("What needs doing (optional)").fill(
        "Replace the extractor fan; treat the mould."
    )
    raise_form.get_by_role("button").click()
    page.wait_for_load_state()
    notice = page.get_by_role("status").inner_text()
    assert "raised: safety work, urgent." in notice, notice
    row = page.locator("tr[data-work-order]")
    assert row.count() == 1
    assert "Dryhomes Ltd" in row.inner_text()
    order_id = row.get_attribute("data-work-order")

    visit = page.get_by_role("form", name=f"Record a visit for work order {order_id}")
    visit.get_by_label("What happened").select_option("completed")
    visit.get_by_label("Work done (when completed)").fill("Fan replaced, mould washed and treated.")
    visit.get_by_role("button").click()
    page.wait_for_load_state()
    assert (
        f"Visit recorded on work order {order_id}: completed."
        in page.get_by_role("status").inner_text()
    )
    assert (
        page.locator(f'tr[data-work-order="{order_id}"] .wo-status')
        .inner_text()
        .startswith("Completed")
    )
    assert (
        "Dispatch to completion: 0 min"
        in page.locator(f'tr[data-work-order="{order_id}"] .journey').inner_text()
    )
    assert page.locator('tr[data-clock="safety_work"] .clock-status').inner_text().startswith("Met")
    assert "Home made safe" in page.locator("ol.timeline").inner_text()
    assert "Not sent yet" not in page.locator("#h-summary + p").inner_text()
    shot(page, "03b-case-work-order-completed")


def test_a_step_the_state_no_longer_allows_is_refused_with_the_reason(live, page, browser_context):
    site, base = live
    sign_in(page, base, "officer")
    page.goto(f"{base}/cases/{site.tenant_case_id}")
    stale = browser_context.new_page()  # a second tab, opened before the first one acts
    stale.goto(f"{base}/cases/{site.tenant_case_id}")
    page.get_by_role("form", name="Record the investigation's findings").get_by_role(
        "button"
    ).click()
    page.wait_for_load_state()
    assert page.get_by_role("status").count() == 1
    stale.get_by_role("form", name="Record the investigation's findings").get_by_role(
        "button"
    ).click()
    stale.wait_for_load_state()
    alert = stale.get_by_role("alert").inner_text()
    assert alert.startswith("Not done:"), alert
    assert "conclude" in alert.lower(), alert
    shot(stale, "06-case-refused")
    stale.close()


def test_compliance_exports_the_csv(live, page):
    site, base = live
    sign_in(page, base, "compliance")
    page.goto(f"{base}/compliance")
    assert "link and match their hashes" in page.locator("#chain-status").inner_text()
    shot(page, "04-compliance")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert {"case_id", "kind", "due_at", "met_at", "status"} <= set(rows[0])
    assert {(r["case_id"], r["kind"]) for r in rows} >= {(str(site.case_id), "investigate")}


def test_no_one_sees_the_transparency_page_and_is_refused_the_rest(live, page):
    site, base = live
    page.goto(f"{base}/transparency")
    assert page.get_by_role("heading", level=1).inner_text().startswith("How we are doing")
    assert "H0001" not in page.content()  # aggregates only
    shot(page, "05-transparency-public")
    for path in (
        "/queue",
        f"/cases/{site.case_id}",
        "/compliance",
        "/fleet",
        "/equity",
        "/repairs",
        "/admin",
    ):
        page.goto(base + path)
        assert page.url.startswith(f"{base}/login?next="), path
    response = page.goto(f"{base}/api/v1/cases")
    assert response is not None
    assert response.status == 401


def test_a_viewer_is_refused_compliance_and_sees_no_personal_data(live, page):
    site, base = live
    sign_in(page, base, "viewer")
    response = page.goto(f"{base}/compliance")
    assert response is not None
    assert response.status == 403
    page.goto(f"{base}/cases/{site.tenant_case_id}")
    assert "boiler keeps failing" not in page.content()
    assert "asthma" not in page.content()


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_every_page_renders_for_the_admin(live, page, width):
    site, base = live
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, base, "admin")
    for name, path in (
        ("queue", "/queue"),
        ("case", f"/cases/{site.case_id}"),
        ("compliance", "/compliance"),
        ("repairs", "/repairs"),
        ("equity", "/equity"),
        ("fleet", "/fleet"),
        ("admin", "/admin"),
        ("transparency", "/transparency"),
    ):
        response = page.goto(base + path)
        assert response is not None, path
        assert response.status == 200, path
        assert page.locator("h1").count() == 1
        # Every form control has a label a screen reader can read.
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                 .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
                 .map(el => el.name)"""
        )
        assert unlabelled == [], (path, unlabelled)
        # Nothing wider than the screen but the scrolling tables.
        overflow = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                 .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1 && !el.closest('.scroll'))
                 .map(el => el.tagName + '.' + el.className)"""
        )
        assert overflow == [], (path, width, overflow)
        shot(page, f"page-{name}-{'phone' if width < 600 else 'desktop'}")
