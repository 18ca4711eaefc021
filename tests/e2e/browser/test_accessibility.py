"""axe-core on every page, as every role that opens it, at 1280 and 390 px: no serious or critical
violation. The screenshots are kept in test-artifacts/screenshots/."""

from __future__ import annotations

import pytest

from tests.e2e.browser.conftest import axe_violations, shot
from tests.e2e.browser.test_pages import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def _pages(site) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """(role, name, path): every page, opened by a role that may."""
    return [
        ("officer", "queue", "/queue"),
        ("officer", "queue-filtered", "/queue?show=breached&show=emergency&status=all"),
        ("officer", "case", f"/cases/{site.case_id}"),
        ("officer", "case-emergency", f"/cases/{site.tenant_case_id}"),
        ("officer", "close", f"/cases/{site.case_id}/close?reason=duplicate"),
        ("officer", "search", "/search?q=H000"),
        ("officer", "home", f"/homes/{site.home_id}?period=3d"),
        ("officer", "repairs", "/repairs"),
        ("officer", "fleet", "/fleet"),
        ("compliance", "compliance", "/compliance"),
        ("analyst", "equity", "/equity"),
        ("analyst", "case-analyst", f"/cases/{site.case_id}"),
        ("viewer", "case-viewer", f"/cases/{site.tenant_case_id}"),
        ("admin", "admin", "/admin"),
        ("viewer", "forbidden", "/compliance"),
        ("viewer", "not-found", "/no-such-page"),
        (None, "transparency", "/transparency"),
        (None, "sign-in", "/login"),
    ]


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_no_serious_or_critical_axe_violation_on_any_page(live, page, axe_source, width):
    site, base = live
    page.set_viewport_size({"width": width, "height": 900})
    found: dict[str, list[dict]] = {}
    signed_as = None
    for role, name, path in _pages(site):
        if role != signed_as:
            page.context.clear_cookies()
            if role is not None:
                sign_in(page, base, role)
            signed_as = role
        page.goto(base + path)
        violations = axe_violations(page, axe_source)
        if violations:
            found[f"{name} ({path})"] = violations
        shot(page, f"axe-{name}-{'phone' if width < 600 else 'desktop'}")
    assert found == {}, found
