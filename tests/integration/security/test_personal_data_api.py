"""Viewers and analysts no longer get tenants' report text, notes and letters through the API
(issue 12): the API applies the pages' personal-data rule (`cases:personal` in api/auth.py)."""

from __future__ import annotations

import pytest

from api.auth import ROLES, may
from tests.integration.api.site import Site, build_site

pytestmark = pytest.mark.integration

REPORT_TEXT = "The bedroom is freezing and the boiler keeps failing."
NOTE = "Tenant Mrs Example says the baby's cot is by the wet wall."


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    site = build_site(tmp_path_factory.mktemp("personal"))
    officer = site.client("officer", bearer=True)
    answer = officer.post(
        f"/api/v1/cases/{site.tenant_case_id}/events",
        json={"type": "access_failed", "at": site.now.isoformat(), "note": NOTE, "method": "phone"},
    )
    assert answer.status_code == 200, answer.text
    return site


@pytest.mark.parametrize("role", ROLES)
def test_case_detail_carries_tenants_words_only_for_roles_that_work_cases(
    site: Site, role: str
) -> None:
    answer = site.client(role, bearer=True).get(f"/api/v1/cases/{site.tenant_case_id}")
    if not may(role, "cases:read"):  # the scrutiny panel: residents, never a case
        assert answer.status_code == 403
        assert REPORT_TEXT not in answer.text
        return
    assert answer.status_code == 200
    personal = may(role, "cases:personal")
    assert (REPORT_TEXT in answer.text) is personal
    assert (NOTE in answer.text) is personal
    # The case itself (clocks, timeline steps) is there for every role that reads cases.
    body = answer.json()
    assert body["clocks"]
    assert [e["type"] for e in body["timeline"]][-1] == "access_failed"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("suffix", ["summary.html", "summary.pdf"])
def test_the_letter_to_the_tenant_only_for_roles_that_work_cases(
    site: Site, role: str, suffix: str
) -> None:
    answer = site.client(role, bearer=True).get(f"/api/v1/cases/{site.tenant_case_id}/{suffix}")
    # 409 for those allowed: the summary follows the investigation's conclusion.
    assert (answer.status_code == 403) is not may(role, "cases:personal"), answer.text
