"""Content spoofing through `?message=` / `?error=` (issue 12): pages show only notices this
site set after a form (a one-use flash cookie bound to the person's session), never text from
the address, on the public page or any other."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.pages.flash import FLASH_COOKIE
from api.session import COOKIE_NAME
from tests.integration.api.site import Site, build_site

pytestmark = pytest.mark.integration

SPOOF = "Official notice: call 0900 123 456 to keep your tenancy"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return build_site(tmp_path_factory.mktemp("messages"))


@pytest.mark.parametrize("role", [None, "compliance", "admin"])
@pytest.mark.parametrize("path", ["/transparency", "/queue", "/compliance", "/admin", "/cases/1"])
@pytest.mark.parametrize("name", ["message", "error"])
def test_text_in_the_address_is_never_shown(
    site: Site, role: str | None, path: str, name: str
) -> None:
    answer = site.client(role).get(path, params={name: SPOOF})
    assert SPOOF not in answer.text


def test_a_form_leaves_its_notice_for_the_next_page_once(site: Site) -> None:
    client = site.client("compliance")
    posted = client.post(
        "/transparency/you-said-we-did",
        data={
            "you_said": "Repairs take too long",
            "we_did": "Two more surveyors",
            "csrf_token": site.signed_in("compliance")[1],
        },
    )
    assert posted.status_code == 303
    assert posted.headers["location"] == "/transparency"
    first = client.get("/transparency")
    assert "Published: you said, we did." in first.text
    assert "Published: you said, we did." not in client.get("/transparency").text


def test_a_flash_cookie_not_made_for_this_session_is_ignored(site: Site) -> None:
    client = site.client("compliance")
    client.post(
        "/transparency/you-said-we-did",
        data={"you_said": "a", "we_did": "b", "csrf_token": site.signed_in("compliance")[1]},
    )
    planted = client.cookies[FLASH_COOKIE]
    other = TestClient(site.app, follow_redirects=False)
    other.cookies.set(COOKIE_NAME, site.signed_in("admin")[0])
    other.cookies.set(FLASH_COOKIE, planted)
    assert "Published" not in other.get("/transparency").text
    anonymous = TestClient(site.app, follow_redirects=False)
    anonymous.cookies.set(FLASH_COOKIE, planted)
    assert "Published" not in anonymous.get("/transparency").text
