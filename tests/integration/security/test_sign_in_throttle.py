"""Sign-in throttling and password rules (issue 12): 50 wrong passwords then the right one no
longer signs in; failures are throttled per account (known or not) and per client, logged and
counted; weak and common passwords are refused wherever a password is set."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from api.auth import PasswordRejected, add_user, check_password, set_password
from api.models import SignInAttempt
from api.session import COOKIE_NAME
from registry.clock import utc_now
from tests.integration.api.site import PASSWORD, Site, build_site

pytestmark = pytest.mark.integration


@pytest.fixture
def site(tmp_path) -> Site:
    return build_site(tmp_path)


def _client(site: Site, address: str = "203.0.113.7") -> TestClient:
    return TestClient(site.app, follow_redirects=False, client=(address, 50000))


def _sign_in(client: TestClient, name: str, password: str):  # type: ignore[no-untyped-def]
    form = client.get("/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', form.text).group(1)
    return client.post("/login", data={"name": name, "password": password, "login_csrf": token})


def test_fifty_wrong_passwords_then_the_right_one_does_not_sign_in(site: Site) -> None:
    client = _client(site)
    for n in range(50):
        _sign_in(client, "officer", f"wrong guess number {n}")
    answer = _sign_in(client, "officer", PASSWORD)
    assert answer.status_code == 429
    assert COOKIE_NAME not in client.cookies
    assert "too many" in answer.text.lower()


def test_an_account_is_locked_for_every_client_and_unlocks_after_the_window(site: Site) -> None:
    attacker = _client(site, "198.51.100.1")
    for n in range(5):
        assert _sign_in(attacker, "officer", f"wrong {n}").status_code == 200
    victim = _client(site, "192.0.2.20")  # the real officer, elsewhere
    assert _sign_in(victim, "officer", PASSWORD).status_code == 429
    # The window passes (the failures are moved back 16 minutes).
    with site.context.sessions.begin() as session:
        session.execute(update(SignInAttempt).values(at=utc_now() - timedelta(minutes=16)))
    assert _sign_in(victim, "officer", PASSWORD).status_code == 303


def test_unknown_names_are_throttled_alike_so_locking_tells_nothing(site: Site) -> None:
    client = _client(site)
    answers = []
    for name in ("officer", "no-such-person"):
        for n in range(6):
            answers.append(_sign_in(client, name, f"wrong {n}").status_code)
    assert answers == [200] * 5 + [429] + [200] * 5 + [429]


def test_one_client_trying_many_accounts_is_throttled(site: Site) -> None:
    spray = _client(site, "198.51.100.9")
    for n in range(20):
        _sign_in(spray, f"person-{n}", "Winter2026!Winter")
    assert _sign_in(spray, "officer", PASSWORD).status_code == 429
    assert _sign_in(_client(site, "192.0.2.30"), "officer", PASSWORD).status_code == 303


def test_failures_are_logged_and_counted(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    client = _client(site, "198.51.100.44")
    with caplog.at_level(logging.WARNING, logger="api.auth"):
        _sign_in(client, "officer", "not the password at all")
    assert any(
        "sign-in failed" in r.getMessage()
        and "officer" in r.getMessage()
        and "198.51.100.44" in r.getMessage()
        and "not the password" not in r.getMessage()
        for r in caplog.records
    )
    admin = site.client("admin").get("/admin")
    assert re.search(r"Failed sign-ins in the last 24 hours: <strong>1</strong>", admin.text)


@pytest.mark.parametrize(
    "password",
    [
        "short",
        "password1234",
        "qwertyuiop12",
        "iloveyou1234",
        "Letmein12345!",
        "passwordpassword",
        "aaaaaaaaaaaaaaaa",
        "officer-officer-2026",
    ],
)
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(PasswordRejected):
        check_password(password, name="officer")


def test_a_long_unusual_passphrase_is_accepted() -> None:
    check_password("correct horse battery staple", name="officer")
    check_password("Tiles under the sink went mouldy in March", name="officer")


def test_adding_people_and_setting_passwords_refuse_common_ones(site: Site) -> None:
    with site.context.sessions.begin() as session:
        with pytest.raises(PasswordRejected):
            add_user(session, name="newbie", role="viewer", now=utc_now(), password="password1234")
        with pytest.raises(PasswordRejected):
            set_password(session, name="officer", password="iloveyou1234")
    csrf = site.signed_in("admin")[1]
    answer = site.client("admin").post(
        "/admin/users",
        data={"name": "newbie", "role": "viewer", "password": "qwertyuiop12", "csrf_token": csrf},
    )
    assert answer.status_code == 303
    page = site.client("admin").get(answer.headers["location"])
    assert "common" in page.text.lower()
