"""Accounts (issue 12): a password change ends the person's other sessions; API tokens expire and
can be revoked (CLI and admin page); people can be disabled and enabled (CLI and admin page);
nobody excuses a breach whose reasonable steps they recorded themselves (four eyes); and a login
form posted from another site signs nobody in, even with a planted CSRF cookie."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.auth import create_token, set_password
from api.models import ApiToken, User
from api.pages.signin import LOGIN_CSRF_COOKIE
from api.session import COOKIE_NAME
from compliance.jobs import run_sweep
from homesafe.cli import main
from registry.clock import utc_now
from tests.integration.api.site import PASSWORD, Site, build_site

pytestmark = pytest.mark.integration

NEW_PASSWORD = "a brand new passphrase for the damp team"


@pytest.fixture
def site(tmp_path) -> Site:
    return build_site(tmp_path)


@pytest.fixture
def cli(site: Site, monkeypatch, tmp_path) -> Site:
    """`homesafe` commands against the site's case database."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOMESAFE_DATABASE_URL", f"sqlite:///{tmp_path / 'cases.db'}")
    monkeypatch.setenv("HOMESAFE_TELEMETRY_URL", f"sqlite:///{tmp_path / 'telemetry.db'}")
    return site


def _sign_in(client: TestClient, name: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    form = client.get("/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', form.text).group(1)
    return client.post("/login", data={"name": name, "password": password, "login_csrf": token})


def _browser(site: Site) -> TestClient:
    return TestClient(site.app, follow_redirects=False)


# --- a password change ends other sessions -------------------------------------------------


def test_setting_a_password_ends_every_session_of_the_person(site: Site) -> None:
    laptop, phone = _browser(site), _browser(site)
    for client in (laptop, phone):
        assert _sign_in(client, "officer").status_code == 303
        assert client.get("/queue").status_code == 200
    with site.context.sessions.begin() as session:
        set_password(session, name="officer", password=NEW_PASSWORD)
    for client in (laptop, phone):
        assert client.get("/queue").status_code == 303  # back to sign in


def test_changing_ones_own_password_ends_the_other_sessions_only(site: Site) -> None:
    laptop, phone = _browser(site), _browser(site)
    for client in (laptop, phone):
        _sign_in(client, "officer")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', laptop.get("/account").text).group(1)
    wrong = laptop.post(
        "/account/password",
        data={"current": "not my password", "new": NEW_PASSWORD, "csrf_token": csrf},
    )
    assert wrong.status_code == 303
    assert phone.get("/queue").status_code == 200  # nothing changed
    changed = laptop.post(
        "/account/password",
        data={"current": PASSWORD, "new": NEW_PASSWORD, "csrf_token": csrf},
    )
    assert changed.status_code == 303
    assert laptop.get("/queue").status_code == 200
    assert phone.get("/queue").status_code == 303
    assert _sign_in(_browser(site), "officer", NEW_PASSWORD).status_code == 303


# --- tokens expire and can be revoked ------------------------------------------------------


def test_tokens_expire(site: Site) -> None:
    client = site.client("viewer", bearer=True)
    assert client.get("/api/v1/cases").status_code == 200
    with site.context.sessions.begin() as session:
        session.execute(update(ApiToken).values(expires_at=utc_now() - timedelta(seconds=1)))
    assert client.get("/api/v1/cases").status_code == 401


def test_a_new_token_has_an_expiry(site: Site) -> None:
    with site.context.sessions.begin() as session:
        create_token(session, name="viewer", now=utc_now())
        rows = session.scalars(select(ApiToken)).all()
    assert rows
    assert all(row.expires_at is not None for row in rows)


@pytest.mark.usefixtures("cli")
def test_tokens_are_listed_and_revoked_with_the_cli(site: Site, capsys) -> None:
    assert main(["tokens", "create", "viewer", "--days", "7"]) == 0
    token = capsys.readouterr().out.strip()
    client = TestClient(site.app, headers={"Authorization": f"Bearer {token}"})
    assert client.get("/api/v1/cases").status_code == 200
    assert main(["tokens", "list", "viewer"]) == 0
    listed = capsys.readouterr().out
    assert token[:10] in listed
    assert main(["tokens", "revoke", token[:10]]) == 0
    assert client.get("/api/v1/cases").status_code == 401
    assert main(["tokens", "revoke", "hs_nothing"]) == 2


def test_an_admin_revokes_a_token_on_the_admin_page(site: Site) -> None:
    client = site.client("viewer", bearer=True)
    admin = site.client("admin")
    page = admin.get("/admin").text
    with site.context.sessions() as session:
        viewer_id = session.scalar(select(User.id).where(User.name == "viewer"))
        token_id = session.scalar(select(ApiToken.id).where(ApiToken.user_id == viewer_id))
    assert f'action="/admin/tokens/{token_id}/revoke"' in page
    answer = admin.post(
        f"/admin/tokens/{token_id}/revoke", data={"csrf_token": site.signed_in("admin")[1]}
    )
    assert answer.status_code == 303
    assert client.get("/api/v1/cases").status_code == 401


# --- people can be disabled ----------------------------------------------------------------


@pytest.mark.usefixtures("cli")
def test_a_person_disabled_with_the_cli_can_do_nothing_until_enabled(site: Site) -> None:
    browser = _browser(site)
    _sign_in(browser, "officer")
    api = site.client("officer", bearer=True)
    assert main(["users", "disable", "officer"]) == 0
    assert browser.get("/queue").status_code == 303
    assert api.get("/api/v1/cases").status_code == 401
    assert _sign_in(_browser(site), "officer").status_code == 200  # refused
    assert main(["users", "enable", "officer"]) == 0
    assert api.get("/api/v1/cases").status_code == 200
    assert _sign_in(_browser(site), "officer").status_code == 303


def test_an_admin_disables_and_enables_on_the_admin_page(site: Site) -> None:
    api = site.client("analyst", bearer=True)
    admin = site.client("admin")
    csrf = site.signed_in("admin")[1]
    assert '<input type="hidden" name="name" value="analyst">' in admin.get("/admin").text
    form = {"csrf_token": csrf, "name": "analyst"}
    assert admin.post("/admin/users/disable", data=form).status_code == 303
    assert api.get("/api/v1/cases").status_code == 401
    assert admin.post("/admin/users/enable", data=form).status_code == 303
    assert api.get("/api/v1/cases").status_code == 200
    # An admin cannot lock themselves out.
    admin.post("/admin/users/disable", data={"csrf_token": csrf, "name": "admin"})
    assert admin.get("/admin").status_code == 200


# --- four eyes -----------------------------------------------------------------------------


def test_nobody_excuses_a_breach_whose_reasonable_steps_they_recorded(site: Site) -> None:
    assert run_sweep(site.context.sessions, now=site.now + timedelta(days=60)) >= 1
    admin = site.client("admin", bearer=True)
    base = f"/api/v1/cases/{site.case_id}/clocks/investigate"
    steps = admin.post(f"{base}/reasonable-steps", json={"steps": "Three visits, no answer"})
    assert steps.status_code == 200, steps.text
    own = admin.post(f"{base}/excuse", json={"note": "fine by me"})
    assert own.status_code == 409
    assert "someone else" in own.json()["detail"]
    other = site.client("compliance", bearer=True).post(f"{base}/excuse", json={})
    assert other.status_code == 200, other.text


# --- login CSRF ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"origin": "https://homesafe.landlord.example.evil.example"},
        {"sec-fetch-site": "cross-site"},
        {"referer": "https://evil.example/page"},
    ],
)
def test_a_login_posted_from_another_site_with_a_planted_cookie_signs_nobody_in(
    site: Site, headers: dict[str, str]
) -> None:
    victim = _browser(site)
    victim.cookies.set(LOGIN_CSRF_COOKIE, "planted-by-the-attacker")
    answer = victim.post(
        "/login",
        data={"name": "viewer", "password": PASSWORD, "login_csrf": "planted-by-the-attacker"},
        headers=headers,
    )
    assert answer.status_code == 403
    assert COOKIE_NAME not in victim.cookies


def test_a_same_site_login_still_works(site: Site) -> None:
    client = _browser(site)
    form = client.get("/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', form.text).group(1)
    answer = client.post(
        "/login",
        data={"name": "officer", "password": PASSWORD, "login_csrf": token},
        headers={"origin": "http://testserver", "sec-fetch-site": "same-origin"},
    )
    assert answer.status_code == 303


@pytest.mark.usefixtures("cli")
def test_cli_users_passwd_ends_sessions(site: Site, monkeypatch) -> None:
    browser = _browser(site)
    _sign_in(browser, "officer")
    monkeypatch.setattr("sys.stdin", io.StringIO(NEW_PASSWORD + "\n"))
    assert main(["users", "passwd", "officer"]) == 0
    assert browser.get("/queue").status_code == 303
