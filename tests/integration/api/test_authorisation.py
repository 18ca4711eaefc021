"""Every route (API and page), with every role and with no credentials, against the one table of
who may do what (api.auth.PERMISSIONS). Routes are read from app.routes, so new ones are covered."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Mount, Route

from api.app import create_app
from api.auth import FRAMEWORK_ROUTES, PERMISSIONS, PUBLIC, ROLES, may
from api.deps import AppContext, route_permission
from api.session import COOKIE_NAME, start_session
from tests.integration.api.site import Site, build_site

pytestmark = pytest.mark.integration

CALLERS = (None, *ROLES)


def _routes() -> list[tuple[str, str, str | None]]:
    """(method, path, declared permission) for every route the app serves."""
    app = create_app(AppContext(sessions=None, telemetry=None, engine=None))  # type: ignore[arg-type]
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            for method in sorted(route.methods):
                found.append((method, context.path, route_permission(route.dependant)))
        elif isinstance(route, Mount):
            found.append(("GET", route.path, FRAMEWORK_ROUTES.get(route.path)))
        elif isinstance(route, Route):
            for method in sorted(route.methods or {"GET"}):
                if method != "HEAD":
                    found.append((method, route.path, FRAMEWORK_ROUTES.get(route.path)))
    return found


ROUTES = _routes()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return build_site(tmp_path_factory.mktemp("authz"))


def _concrete(path: str, site: Site) -> str:
    values = {
        "case_id": str(site.case_id),
        "home_id": site.home_id,
        "gateway_id": site.gateway_id,
        "clock_id": str(site.clock_id),
        "kind": "investigate",
    }
    if path == "/static":
        return "/static/homesafe.css"
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m.group(1), "1"), path)


def _call(site: Site, method: str, path: str, role: str | None):
    client = site.client()
    is_page = not path.startswith("/api/")
    data = None
    if role is not None and is_page:
        with site.context.sessions.begin() as session:
            from sqlalchemy import select

            from api.models import User

            user = session.scalars(select(User).where(User.name == role)).one()
            cookie, signed = start_session(session, user=user, now=site.now)
        client.cookies.set(COOKIE_NAME, cookie)
        data = {"csrf_token": signed.csrf_token}
    elif role is not None:
        client.headers["Authorization"] = f"Bearer {site.tokens[role]}"
    if method == "GET":
        return client.get(path)
    if is_page:
        return client.request(method, path, data=data or {})
    return client.request(method, path, json={})


def test_every_route_declares_a_known_permission():
    undeclared = [f"{m} {p}" for m, p, perm in ROUTES if perm is None]
    unknown = [
        f"{m} {p}: {perm}"
        for m, p, perm in ROUTES
        if perm and perm != PUBLIC and perm not in PERMISSIONS
    ]
    assert not undeclared, (
        f"routes declaring no permission (use api.deps.require/page_require): {undeclared}"
    )
    assert not unknown, f"permissions missing from api.auth.PERMISSIONS: {unknown}"


def test_the_walk_covers_the_api_and_the_pages():
    paths = {p for _, p, _ in ROUTES}
    assert {
        "/api/v1/cases",
        "/api/v1/cases/{case_id}",
        "/queue",
        "/cases/{case_id}",
        "/transparency",
    } <= paths
    assert len(ROUTES) >= 25


@pytest.mark.parametrize(
    ("method", "path", "permission"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES]
)
def test_route_answers_each_caller_as_the_table_says(
    site: Site, method: str, path: str, permission: str | None
):
    assert permission is not None, "route declares no permission"
    url = _concrete(path, site)
    is_page = not path.startswith("/api/")
    for role in CALLERS:
        response = _call(site, method, url, role)
        who = role or "no credentials"
        if may(role, permission):
            assert response.status_code not in (401, 403), (
                f"{who} refused {method} {url}: {response.text[:200]}"
            )
            assert response.status_code < 500, f"{who}: {method} {url} -> {response.status_code}"
            assert not response.headers.get("location", "").startswith("/login?"), (
                f"{who} sent to sign in"
            )
        elif role is None and is_page:
            assert response.status_code == 303, f"{method} {url} -> {response.status_code}"
            assert response.headers["location"].startswith("/login?next=")
        elif role is None:
            assert response.status_code == 401, f"{method} {url} -> {response.status_code}"
        else:
            assert response.status_code == 403, f"{who} {method} {url} -> {response.status_code}"
