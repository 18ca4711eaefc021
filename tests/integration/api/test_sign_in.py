"""Signing in with a password, the session cookie, CSRF on every form, signing out; the web session
table's migration on SQLite and PostgreSQL; `homesafe users add --password` and `users passwd`."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from api.auth import authenticate
from api.models import User, WebSession
from api.session import COOKIE_NAME, signed_in
from homesafe.database import make_engine
from homesafe.migrate import upgrade
from registry.db import Base
from tests.integration.api.site import PASSWORD, Site, build_site, notice

pytestmark = pytest.mark.integration


@pytest.fixture
def site(tmp_path) -> Site:
    return build_site(tmp_path)


def _login_form(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    return re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)


def test_sign_in_sets_an_httponly_session_and_stores_only_its_hash(site: Site):
    client = site.client()
    token = _login_form(client)
    response = client.post(
        "/login",
        data={"name": "officer", "password": PASSWORD, "login_csrf": token, "next": "/cases/1"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/cases/1"
    cookie_header = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith(COOKIE_NAME)
    )
    assert "HttpOnly" in cookie_header
    assert "SameSite=lax" in cookie_header
    cookie = client.cookies[COOKIE_NAME]
    with site.context.sessions() as session:
        stored = session.scalars(select(WebSession.token_hash)).all()
    assert cookie not in stored
    assert len(stored) == 1
    assert client.get("/queue").status_code == 200


def test_wrong_password_or_missing_form_token_is_refused(site: Site):
    client = site.client()
    token = _login_form(client)
    wrong = client.post(
        "/login", data={"name": "officer", "password": "not the password", "login_csrf": token}
    )
    assert "do not match" in wrong.text
    assert COOKIE_NAME not in client.cookies
    no_token = client.post("/login", data={"name": "officer", "password": PASSWORD})
    assert "expired" in no_token.text
    assert COOKIE_NAME not in client.cookies


def test_a_form_without_the_session_csrf_token_changes_nothing(site: Site):
    client = site.client("officer")
    before = client.get(f"/cases/{site.case_id}").text
    response = client.post(
        f"/cases/{site.case_id}/events",
        data={"type": "investigation_booked", "at": "2026-11-24T10:00", "csrf_token": "forged"},
    )
    assert response.status_code == 403
    assert client.get(f"/cases/{site.case_id}").text.count("Investigation booked") == before.count(
        "Investigation booked"
    )


def test_the_form_goes_through_the_same_state_machine_as_the_api(site: Site):
    client = site.client("officer")
    _, csrf = site.signed_in("officer")
    response = client.post(
        f"/cases/{site.case_id}/events",
        data={"type": "summary_sent", "at": "2026-11-24T10:00", "csrf_token": csrf},
    )
    assert response.status_code == 303
    assert "error" in notice(response)
    api = site.client("officer", bearer=True).post(
        f"/api/v1/cases/{site.case_id}/events",
        json={"type": "summary_sent", "at": "2026-11-24T10:00:00Z"},
    )
    assert api.status_code == 409


def test_sign_out_ends_the_session_for_good(site: Site):
    client = site.client("compliance")
    cookie, csrf = site.signed_in("compliance")
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    client.cookies.set(COOKIE_NAME, cookie)
    assert client.get("/compliance").headers["location"].startswith("/login")


def test_sessions_expire_and_disabled_people_are_signed_out(site: Site):
    cookie, _ = site.signed_in("analyst")
    with site.context.sessions.begin() as session:
        assert signed_in(session, cookie_value=cookie, now=site.now) is not None
        assert signed_in(session, cookie_value=cookie, now=site.now + timedelta(hours=13)) is None
        session.scalars(select(User).where(User.name == "analyst")).one().disabled_at = site.now
    with site.context.sessions() as session:
        assert signed_in(session, cookie_value=cookie, now=site.now) is None
        assert authenticate(session, name="analyst", password=PASSWORD) is None


def test_assignment_is_audited(site: Site):
    client = site.client("officer")
    _, csrf = site.signed_in("officer")
    response = client.post(
        f"/cases/{site.case_id}/assign", data={"officer": "officer2", "csrf_token": csrf}
    )
    assert response.status_code == 303
    page = client.get(f"/cases/{site.case_id}").text
    assert "Assigned to: <strong>officer2</strong>" in page
    assert "Audit log: case assigned" in page
    refused = client.post(
        f"/cases/{site.case_id}/assign", data={"officer": "viewer", "csrf_token": csrf}
    )
    assert "not an officer" in notice(refused)["error"]


def test_web_session_migration_matches_the_model(case_db_url):
    engine = make_engine(case_db_url)
    upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    ours = [d for d in diff if "web_session" in repr(d)]
    assert ours == []
    engine.dispose()


def test_cli_adds_a_person_with_a_password_and_changes_it(tmp_path, monkeypatch):
    from homesafe.cli import main

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("HOMESAFE_DATABASE_URL", url)
    monkeypatch.setenv("HOMESAFE_TELEMETRY_URL", f"sqlite:///{tmp_path / 't.db'}")
    assert main(["db", "upgrade"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("first password 123\n"))
    assert main(["users", "add", "sam", "--role", "officer", "--password"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("second password 456\n"))
    assert main(["users", "passwd", "sam"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "passwd", "sam"]) == 2
    engine = make_engine(url)
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        assert authenticate(session, name="sam", password="first password 123") is None
        assert authenticate(session, name="sam", password="second password 456") is not None
    engine.dispose()
