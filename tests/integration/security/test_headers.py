"""Security headers (issue 12) on every route the app serves: a CSP with no inline script or
style, framing refused, nosniff, a referrer policy, HSTS over HTTPS only, and nothing dynamic
stored by browsers or proxies (personal pages and exports: Cache-Control: no-store). The pages
themselves carry no inline script, style or event handler, so the CSP costs nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.session import COOKIE_NAME
from tests.integration.api.site import Site, build_site
from tests.integration.api.test_authorisation import ROUTES, _concrete

pytestmark = pytest.mark.integration

TEMPLATES = Path(__file__).resolve().parents[3] / "api" / "templates"
GET_ROUTES = sorted({path for method, path, _ in ROUTES if method == "GET"})
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle\s*=|\son[a-z]+\s*=|javascript:", re.I
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return build_site(tmp_path_factory.mktemp("headers"))


def _admin(site: Site, base_url: str = "http://testserver") -> TestClient:
    client = TestClient(site.app, follow_redirects=False, base_url=base_url)
    client.cookies.set(COOKIE_NAME, site.signed_in("admin")[0])
    client.headers["Authorization"] = f"Bearer {site.tokens['admin']}"
    return client


def _csp(header: str) -> dict[str, str]:
    return {
        part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2]
        for part in header.split(";")
        if part.strip()
    }


@pytest.mark.parametrize("path", GET_ROUTES)
def test_every_get_route_sends_the_headers(site: Site, path: str) -> None:
    answer = _admin(site).get(_concrete(path, site))
    headers = answer.headers
    csp = _csp(headers["content-security-policy"])
    assert csp["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in csp.get("script-src", csp["default-src"])
    assert "'unsafe-eval'" not in csp.get("script-src", csp["default-src"])
    assert csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'none'"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in headers  # plain HTTP: no HSTS
    if path.startswith("/static"):
        assert "no-store" not in headers.get("cache-control", "")
    else:
        assert headers["cache-control"] == "no-store", path


@pytest.mark.parametrize("path", ["/transparency", "/api/v1/cases", "/login"])
def test_hsts_when_served_over_https(site: Site, path: str) -> None:
    answer = _admin(site, "https://testserver").get(path)
    assert answer.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_no_template_has_inline_script_style_or_handlers(template: str) -> None:
    found = INLINE.findall((TEMPLATES / template).read_text())
    assert found == [], found


@pytest.mark.parametrize(
    "path",
    [
        "/queue",
        "/cases/{case_id}",
        "/compliance",
        "/repairs",
        "/equity",
        "/fleet",
        "/admin",
        "/transparency",
        "/login",
    ],
)
def test_no_rendered_page_has_inline_script_style_or_handlers(site: Site, path: str) -> None:
    answer = _admin(site).get(_concrete(path, site))
    assert answer.status_code == 200
    assert INLINE.findall(answer.text) == []


def test_the_letter_allows_its_own_style_by_hash_and_nothing_else(site: Site) -> None:
    import base64
    import hashlib

    officer = _admin(site)
    concluded = officer.post(
        f"/api/v1/cases/{site.tenant_case_id}/events",
        json={
            "type": "investigation_concluded",
            "at": site.now.isoformat(),
            "outcome": "significant",
        },
    )
    assert concluded.status_code == 200, concluded.text
    letter = officer.get(f"/api/v1/cases/{site.tenant_case_id}/summary.html")
    assert letter.status_code == 200
    css = re.search(r"<style>(.*?)</style>", letter.text, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    csp = _csp(letter.headers["content-security-policy"])
    assert csp["default-src"] == "'none'"
    assert csp["style-src"] == f"'sha256-{digest}'"
    assert "script-src" not in csp
