"""Schemathesis over every API operation with every role (issue 12): generated requests never get
a 5xx; a role without the operation's permission is refused (403) whatever it sends; and no answer
to a role without `cases:personal` carries a tenant's words (report text, a note) or a household's
special-category data."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.routing import APIRoute, iter_route_contexts
from hypothesis import HealthCheck, given, settings

from api.app import create_app
from api.auth import ROLES, may
from api.deps import AppContext, route_permission
from tests.integration.api.site import Site, build_site

pytestmark = pytest.mark.integration

REPORT_TEXT = "The bedroom is freezing and the boiler keeps failing."
NOTE = "Tenant said the cot stands by the wet wall"


def _permissions() -> dict[str, str]:
    app = create_app(AppContext(sessions=None, telemetry=None, engine=None))  # type: ignore[arg-type]
    found = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path.startswith("/api/v1/"):
            for method in route.methods:
                found[f"{method.upper()} {context.path}"] = str(route_permission(route.dependant))
    return found


PERMISSION_OF = _permissions()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    site = build_site(tmp_path_factory.mktemp("fuzz-roles"))
    answer = site.client("officer", bearer=True).post(
        f"/api/v1/cases/{site.tenant_case_id}/events",
        json={"type": "access_failed", "at": site.now.isoformat(), "note": NOTE},
    )
    assert answer.status_code == 200, answer.text
    return site


@pytest.fixture(scope="module")
def api_schema(site: Site):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", site.app)


@pytest.mark.parametrize("label", sorted(PERMISSION_OF))
def test_every_role_gets_no_server_error_and_nothing_beyond_its_table(
    api_schema, site: Site, label: str
) -> None:  # type: ignore[no-untyped-def]
    operation = next(r.ok() for r in api_schema.get_all_operations() if r.ok().label == label)
    permission = PERMISSION_OF[label]
    for role in ROLES:
        _fuzz(operation, site, role, label, permission)


def _fuzz(operation, site: Site, role: str, label: str, permission: str) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {site.tokens[role]}"}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=3,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):  # type: ignore[no-untyped-def]
        # Point path ids at the records that hold personal data, so the checks below bite.
        real = {"case_id": site.tenant_case_id, "home_id": "H0002", "n": 1}
        for name, value in real.items():
            if case.path_parameters and name in case.path_parameters:
                case.path_parameters[name] = value
        response = case.call(headers=headers)
        assert response.status_code < 500, (role, label, response.status_code, response.text)
        if not may(role, permission):
            # Refused, or the request was bad before its permission could be judged.
            assert response.status_code in (403, 404, 413, 422), (role, label, response.status_code)
        if not may(role, "cases:personal"):
            assert REPORT_TEXT not in response.text, (role, label)
            assert NOTE not in response.text, (role, label)
        if not may(role, "households:read"):
            assert "asthma" not in response.text, (role, label)  # households' vulnerability

    run()
