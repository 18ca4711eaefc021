"""The Content-Security-Policy in a real browser (issue 12): every page renders with no CSP
violation reported by Chromium, /docs runs Swagger UI from local files only, and a page cannot
be framed by another site."""

from __future__ import annotations

import pytest

from tests.e2e.browser.conftest import shot
from tests.e2e.browser.test_pages import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PAGES = ["/queue", "/cases/{case}", "/compliance", "/repairs", "/equity", "/fleet", "/admin"]


def _watch(page):  # type: ignore[no-untyped-def]
    """Console messages and requests that left the site."""
    violations: list[str] = []
    outside: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on(
        "request",
        lambda r: (
            outside.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:")) else None
        ),
    )
    return violations, outside


def test_every_page_renders_without_a_csp_violation(live, browser_context) -> None:
    site, base = live
    page = browser_context.new_page()
    violations, outside = _watch(page)
    page.goto(f"{base}/transparency")
    page.wait_for_load_state("networkidle")
    sign_in(page, base, "admin")
    for path in PAGES:
        page.goto(base + path.replace("{case}", str(site.case_id)))
        page.wait_for_load_state("networkidle")
    assert violations == []
    assert outside == []
    page.close()


def test_docs_runs_swagger_ui_from_local_files(live, browser_context) -> None:
    _site, base = live
    page = browser_context.new_page()
    violations, outside = _watch(page)
    sign_in(page, base, "viewer")
    page.goto(f"{base}/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "Homesafe" in page.locator(".swagger-ui .info .title").inner_text()
    shot(page, "09-docs")
    assert violations == []
    assert outside == []
    page.close()


def test_another_site_cannot_frame_a_page(live, browser_context, tmp_path) -> None:
    _site, base = live
    page = browser_context.new_page()
    framing = tmp_path / "frame.html"
    framing.write_text(f'<iframe id="f" src="{base}/login"></iframe>')
    with page.expect_event("framenavigated", lambda f: f != page.main_frame):
        page.goto(framing.as_uri())
    [child] = [f for f in page.frames if f != page.main_frame]
    child.wait_for_load_state()
    # Chromium refuses to show it (frame-ancestors 'none'): an error page, not the sign-in form.
    assert child.url.startswith("chrome-error://"), child.url
    assert child.locator("input[name=password]").count() == 0
    page.close()
