"""The OpenAPI document is complete and accurate, and schemathesis finds no server error in it."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.routing import APIRoute, iter_route_contexts
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from api.app import create_app
from api.auth import PUBLIC
from api.deps import AppContext, route_permission
from tests.integration.api.site import Site, build_site

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return build_site(tmp_path_factory.mktemp("openapi"))


def _document(site: Site) -> dict:
    response = site.client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_every_api_route_is_documented_and_no_page_is(site: Site):
    paths = _document(site)["paths"]
    api_routes = set()
    for context in iter_route_contexts(site.app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path.startswith("/api/v1/"):
            for method in route.methods:
                api_routes.add((context.path, method.lower()))
    documented = {(path, method) for path, item in paths.items() for method in item}
    assert api_routes <= documented, api_routes - documented
    assert all(path.startswith("/api/v1/") for path in paths), [
        p for p in paths if not p.startswith("/api/v1/")
    ]


def test_every_guarded_operation_declares_bearer_security(site: Site):
    document = _document(site)
    schemes = document["components"]["securitySchemes"]
    assert schemes["HTTPBearer"] == {"type": "http", "scheme": "bearer"}
    for context in iter_route_contexts(site.app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not context.path.startswith("/api/v1/"):
            continue
        for method in route.methods:
            operation = document["paths"][context.path][method.lower()]
            if route_permission(route.dependant) == PUBLIC:
                assert "security" not in operation, context.path
            else:
                assert operation.get("security") == [{"HTTPBearer": []}], (method, context.path)


def test_the_case_shapes_match_the_contract(site: Site):
    schemas = _document(site)["components"]["schemas"]
    case = schemas["CaseOut"]["properties"]
    assert {"id", "home_id", "hazard", "category", "source", "aware_at", "status", "clocks"} <= set(
        case
    )
    clock = schemas["ClockOut"]["properties"]
    assert {"kind", "started_at", "due_at", "met_at", "status"} <= set(clock)
    assert set(clock["status"]["enum"]) == {"running", "met", "breached", "breached_excused"}
    detail = schemas["CaseDetailOut"]["properties"]
    assert {"clocks", "timeline", "evidence"} <= set(detail)
    listing = _document(site)["paths"]["/api/v1/cases"]["get"]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "array"
    params = {p["name"] for p in listing["parameters"]}
    assert {"status", "hazard", "home_id", "breached"} <= params


def _operation_labels() -> list[str]:
    """Every operation of the API, read from the app's own OpenAPI document."""
    app = create_app(AppContext(sessions=None, telemetry=None, engine=None))  # type: ignore[arg-type]
    return [
        f"{method.upper()} {path}"
        for path, item in app.openapi()["paths"].items()
        for method in item
    ]


@pytest.fixture(scope="module")
def api_schema(site: Site):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", site.app)


@pytest.mark.parametrize("label", _operation_labels())
def test_schemathesis_finds_no_server_error(api_schema, site: Site, label: str):  # type: ignore[no-untyped-def]
    """Generated requests (as an admin) never get a 5xx; successful answers match their schema."""
    operation = next(r.ok() for r in api_schema.get_all_operations() if r.ok().label == label)
    headers = {"Authorization": f"Bearer {site.tokens['admin']}"}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=8,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):  # type: ignore[no-untyped-def]
        response = case.call(headers=headers)
        checks = [not_a_server_error]
        if response.status_code < 300:
            checks.append(response_schema_conformance)
        case.validate_response(response, checks=checks)

    run()
