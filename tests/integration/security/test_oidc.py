"""Staff sign-in through an identity provider (OpenID Connect, code flow with PKCE), against a
real provider: panva's certified `oidc-provider` from npm, run by Node (tests/oidc_provider.py).

The app runs in a TestClient (as every page test does) and calls the provider over real HTTP for
discovery, keys, the token exchange and user info; the person's browser is an httpx client that
the test drives through the provider's sign-in and consent forms. The provider never calls the
app."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.auth import authenticate, set_disabled, set_password
from api.models import OidcLogin, SignInAttempt, User, WebSession
from api.oidc import OidcClient, OidcConfig, OidcError, parse_role_map, pkce_pair
from api.session import COOKIE_NAME, OIDC_COOKIE_NAME
from registry.clock import utc_now
from tests.integration.api.site import PASSWORD, Site, build_site
from tests.oidc_provider import (
    Provider,
    ProviderUnavailable,
    query_of,
    running_provider,
    sign_in_at_provider,
)

pytestmark = pytest.mark.integration

REDIRECT = "http://testserver/login/oidc/callback"
SECRET = "a-client-secret-for-the-tests-only"
OTHER_REDIRECT = "http://other.example/callback"
ROLE_MAP = "compliance=compliance,dm-team=officer"
CLIENTS = [
    {"client_id": "homesafe", "client_secret": SECRET, "redirect_uris": [REDIRECT]},
    {
        "client_id": "homesafe-es",
        "client_secret": SECRET,
        "redirect_uris": [REDIRECT],
        "id_token_signed_response_alg": "ES256",
    },
    {"client_id": "other-app", "client_secret": SECRET, "redirect_uris": [OTHER_REDIRECT]},
]
ACCOUNTS = {
    "alice": {"preferred_username": "alice", "name": "Alice Officer", "groups": ["dm-team"]},
    "carol": {"preferred_username": "carol", "groups": ["dm-team", "compliance"]},
    "bob": {"preferred_username": "bob", "groups": ["catering"]},
    # Someone at the provider calling themselves "admin": never the local admin account.
    "mallory": {"preferred_username": "admin", "groups": ["dm-team"]},
}


def _start(tmp_path_factory: pytest.TempPathFactory, name: str, **kwargs) -> Iterator[Provider]:  # type: ignore[no-untyped-def]
    try:
        with running_provider(
            tmp_path_factory.mktemp(name), clients=CLIENTS, accounts=ACCOUNTS, **kwargs
        ) as provider:
            yield provider
    except ProviderUnavailable as exc:
        if "are needed" in str(exc):
            pytest.skip(str(exc))
        raise


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    """The provider puts the groups in the ID token (as Entra ID and Keycloak can)."""
    yield from _start(tmp_path_factory, "op")


@pytest.fixture(scope="module")
def conform_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    """A second provider (its own keys) that keeps the groups for UserInfo, as Core §5.4 says."""
    yield from _start(tmp_path_factory, "op2", conform_id_token_claims=True)


def _config(issuer: str, client_id: str = "homesafe") -> OidcConfig:
    return OidcConfig(
        issuer=issuer,
        client_id=client_id,
        client_secret=SECRET,
        redirect_url=REDIRECT,
        role_map=parse_role_map(ROLE_MAP),
        scopes="openid profile email groups",
        provider_name="Landlord Login",
    )


@pytest.fixture
def site(tmp_path: Path, provider: Provider) -> Site:
    site = build_site(tmp_path)
    site.context.oidc = OidcClient(_config(provider.issuer))
    return site


@dataclass
class Attempt:
    app: TestClient
    authorization_url: str
    callback_url: str


def _start_sign_in(site: Site, login: str, next_url: str = "/queue") -> Attempt:
    """Press the button, sign in at the provider as `login`; stop before coming back."""
    app = site.client()
    started = app.get("/login/oidc", params={"next": next_url})
    assert started.status_code == 303, started.text
    authorization_url = started.headers["location"]
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        callback = sign_in_at_provider(
            browser, authorization_url, login=login, redirect_prefix=REDIRECT
        )
    return Attempt(app, authorization_url, callback)


def _sign_in(site: Site, login: str, next_url: str = "/queue") -> httpx.Response:
    attempt = _start_sign_in(site, login, next_url)
    return attempt.app.get(attempt.callback_url)


def _users(site: Site) -> dict[str, User]:
    with site.context.sessions() as session:
        return {u.name: u for u in session.scalars(select(User))}


def test_an_officer_of_the_provider_signs_in_as_an_officer_and_opens_the_queue(site: Site):
    attempt = _start_sign_in(site, "alice", next_url=f"/cases/{site.case_id}")
    query = query_of(attempt.authorization_url)
    assert query["code_challenge_method"] == "S256"
    assert query["response_type"] == "code"
    assert query["redirect_uri"] == REDIRECT
    with site.context.sessions() as session:
        pending = session.scalars(select(OidcLogin)).one()
    # The verifier stays on the server; the provider only ever sees its S256 challenge.
    challenge = base64.urlsafe_b64encode(hashlib.sha256(pending.code_verifier.encode()).digest())
    assert query["code_challenge"] == challenge.rstrip(b"=").decode()
    assert pending.code_verifier not in attempt.authorization_url
    assert query["state"] == pending.state
    assert query["nonce"] == pending.nonce
    assert attempt.app.cookies[OIDC_COOKIE_NAME] not in (pending.state, pending.nonce)

    back = attempt.app.get(attempt.callback_url)
    assert back.status_code == 303, back.text
    assert back.headers["location"] == f"/cases/{site.case_id}"
    assert attempt.app.get("/queue").status_code == 200
    assert attempt.app.get(f"/cases/{site.case_id}").status_code == 200
    assert attempt.app.get("/compliance").status_code == 403  # an officer, nothing more

    alice = _users(site)["alice"]
    assert alice.role == "officer"
    assert alice.password_hash is None
    assert alice.external
    assert (alice.oidc_issuer, alice.oidc_subject) == (site.context.oidc.config.issuer, "alice")  # type: ignore[union-attr]
    with site.context.sessions() as session:
        attempts = session.scalars(select(SignInAttempt)).all()
        assert [(a.name, a.method, a.succeeded) for a in attempts] == [("alice", "oidc", True)]
        assert session.scalars(select(OidcLogin.used_at)).one() is not None
        # No local password: the password form does not let anyone in as alice.
        assert authenticate(session, name="alice", password="") is None

    # The next sign-in finds the same person (by issuer and subject), not a new one.
    assert _sign_in(site, "alice").status_code == 303
    assert [n for n in _users(site) if n.startswith("alice")] == ["alice"]


def test_the_first_mapped_group_gives_the_role(site: Site):
    assert _sign_in(site, "carol").status_code == 303
    assert _users(site)["carol"].role == "compliance"


def test_someone_in_no_mapped_group_is_refused_and_nothing_is_created(site: Site):
    attempt = _start_sign_in(site, "bob")
    refused = attempt.app.get(attempt.callback_url)
    assert refused.status_code == 403
    assert "not in any group that has a role" in refused.text
    assert COOKIE_NAME not in attempt.app.cookies
    assert "bob" not in _users(site)
    with site.context.sessions() as session:
        assert session.scalars(select(WebSession)).all() == []
        attempt_row = session.scalars(select(SignInAttempt)).one()
        assert (attempt_row.method, attempt_row.succeeded) == ("oidc", False)


def test_a_provider_user_named_like_a_local_account_never_becomes_it(site: Site):
    assert _sign_in(site, "mallory").status_code == 303
    users = _users(site)
    assert users["admin"].role == "admin"
    assert not users["admin"].external
    mallory = next(u for u in users.values() if u.oidc_subject == "mallory")
    assert mallory.name.startswith("admin-")
    assert mallory.role == "officer"


def test_a_wrong_state_or_a_second_use_is_refused(site: Site):
    attempt = _start_sign_in(site, "alice")
    forged = re.sub(r"state=[^&]+", "state=" + secrets.token_urlsafe(32), attempt.callback_url)
    refused = attempt.app.get(forged)
    assert refused.status_code == 403
    assert "did not match this sign-in" in refused.text
    assert COOKIE_NAME not in attempt.app.cookies
    # The sign-in was used up by the forged answer: the real one cannot follow it.
    attempt.app.cookies.set(OIDC_COOKIE_NAME, attempt.app.cookies.get(OIDC_COOKIE_NAME) or "")
    again = attempt.app.get(attempt.callback_url)
    assert again.status_code == 403
    assert COOKIE_NAME not in attempt.app.cookies
    assert "alice" not in _users(site)


def test_an_answer_in_a_browser_that_did_not_start_the_sign_in_is_refused(site: Site):
    attempt = _start_sign_in(site, "alice")
    stranger = site.client()  # login CSRF: the victim's browser gets the attacker's code
    refused = stranger.get(attempt.callback_url)
    assert refused.status_code == 403
    assert COOKIE_NAME not in stranger.cookies


def test_an_id_token_for_another_nonce_is_refused(site: Site):
    attempt = _start_sign_in(site, "alice")
    with site.context.sessions.begin() as session:
        session.scalars(select(OidcLogin)).one().nonce = secrets.token_urlsafe(32)
    refused = attempt.app.get(attempt.callback_url)
    assert refused.status_code == 403
    assert "nonce" in refused.text
    assert "alice" not in _users(site)


def test_the_provider_checks_the_pkce_verifier(site: Site):
    attempt = _start_sign_in(site, "alice")
    with site.context.sessions.begin() as session:
        session.scalars(select(OidcLogin)).one().code_verifier = pkce_pair()[0]
    refused = attempt.app.get(attempt.callback_url)
    assert refused.status_code == 403
    assert "invalid_grant" in refused.text  # the provider's own refusal
    assert "alice" not in _users(site)


def test_a_disabled_person_is_refused(site: Site):
    assert _sign_in(site, "alice").status_code == 303
    with site.context.sessions.begin() as session:
        set_disabled(session, name="alice", disabled=True, now=utc_now())
    refused = _sign_in(site, "alice")
    assert refused.status_code == 403
    assert "disabled" in refused.text


def test_break_glass_local_accounts_still_work_with_the_provider_on(site: Site):
    client = site.client()
    page = client.get("/login")
    assert 'href="/login/oidc?next=/"' in page.text
    assert "Sign in with Landlord Login" in page.text
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    signed = client.post(
        "/login", data={"name": "admin", "password": PASSWORD, "login_csrf": token}
    )
    assert signed.status_code == 303
    assert client.get("/admin").status_code == 200


def test_with_no_issuer_the_sign_in_page_shows_local_accounts_only(tmp_path: Path):
    site = build_site(tmp_path)
    assert site.context.oidc is None
    page = site.client().get("/login")
    assert "/login/oidc" not in page.text
    assert site.client().get("/login/oidc").status_code == 404


def test_groups_from_user_info_when_the_id_token_does_not_carry_them(
    tmp_path: Path, conform_provider: Provider
):
    site = build_site(tmp_path)
    site.context.oidc = OidcClient(_config(conform_provider.issuer))
    assert _sign_in(site, "carol").status_code == 303
    assert _users(site)["carol"].role == "compliance"


def test_an_es256_id_token_is_checked_too(tmp_path: Path, provider: Provider):
    site = build_site(tmp_path)
    site.context.oidc = OidcClient(_config(provider.issuer, client_id="homesafe-es"))
    attempt = _start_sign_in(site, "alice")
    assert attempt.app.get(attempt.callback_url).status_code == 303


# ID tokens taken straight from the provider (the test acting as a client), then checked.


def _tokens(provider: Provider, client_id: str, redirect: str, login: str) -> tuple[str, str]:
    """(ID token, nonce) from the provider's real token endpoint for the client."""
    client = OidcClient(_config(provider.issuer, client_id=client_id))
    metadata = client.metadata()
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    url = (
        f"{metadata.authorization_endpoint}?"
        + httpx.QueryParams(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect,
                "scope": "openid groups",
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        ).__str__()
    )
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        back = sign_in_at_provider(browser, url, login=login, redirect_prefix=redirect)
    answer = httpx.post(
        metadata.token_endpoint,
        data={
            "grant_type": "authorization_code",
            "code": query_of(back)["code"],
            "redirect_uri": redirect,
            "code_verifier": verifier,
        },
        auth=(client_id, SECRET),
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()["id_token"], nonce


def test_a_real_id_token_passes_and_a_tampered_one_does_not(provider: Provider):
    id_token, nonce = _tokens(provider, "homesafe", REDIRECT, "alice")
    relying_party = OidcClient(_config(provider.issuer))
    now = utc_now()
    claims = relying_party.validate(id_token, nonce=nonce, now=now, access_token=None)
    assert claims["sub"] == "alice"
    assert claims["groups"] == ["dm-team"]

    header, payload, signature = id_token.split(".")
    raised = base64.urlsafe_b64encode(
        base64.urlsafe_b64decode(payload + "==").replace(b'"dm-team"', b'"compliance"')
    )
    tampered = f"{header}.{raised.rstrip(b'=').decode()}.{signature}"
    with pytest.raises(OidcError, match="signature"):
        relying_party.validate(tampered, nonce=nonce, now=now, access_token=None)
    with pytest.raises(OidcError, match="expired"):
        relying_party.validate(
            id_token, nonce=nonce, now=now + timedelta(hours=2), access_token=None
        )


def test_an_id_token_for_another_application_is_refused(provider: Provider):
    id_token, nonce = _tokens(provider, "other-app", OTHER_REDIRECT, "alice")
    with pytest.raises(OidcError, match="different application"):
        OidcClient(_config(provider.issuer)).validate(
            id_token, nonce=nonce, now=utc_now(), access_token=None
        )


def test_an_id_token_from_another_provider_is_refused(
    provider: Provider, conform_provider: Provider
):
    id_token, nonce = _tokens(conform_provider, "homesafe", REDIRECT, "alice")
    with pytest.raises(OidcError, match=r"key the identity provider does not publish|signature"):
        OidcClient(_config(provider.issuer)).validate(
            id_token, nonce=nonce, now=utc_now(), access_token=None
        )


def test_people_from_the_provider_have_no_password_to_change_here(site: Site):
    attempt = _start_sign_in(site, "alice")
    assert attempt.app.get(attempt.callback_url).status_code == 303
    account = attempt.app.get("/account")
    assert "identity provider" in account.text
    assert 'action="/account/password"' not in account.text
    with site.context.sessions.begin() as session, pytest.raises(ValueError, match="no password"):
        set_password(session, name="alice", password="a long new password here")
    admin = site.client("admin").get("/admin").text
    assert re.search(
        r"<th scope=\"row\">alice</th><td>officer</td><td>identity provider</td>", admin
    )


def test_the_role_follows_the_groups_at_every_sign_in_and_losing_them_ends_the_sessions(
    site: Site,
):
    first = _start_sign_in(site, "alice")
    assert first.app.get(first.callback_url).status_code == 303
    assert first.app.get("/queue").status_code == 200
    config = site.context.oidc.config  # type: ignore[union-attr]
    site.context.oidc = OidcClient(
        OidcConfig(**{**config.__dict__, "role_map": parse_role_map("dm-team=viewer")})
    )
    assert _sign_in(site, "alice").status_code == 303
    assert _users(site)["alice"].role == "viewer"
    site.context.oidc = OidcClient(
        OidcConfig(**{**config.__dict__, "role_map": parse_role_map("compliance=compliance")})
    )
    assert _sign_in(site, "alice").status_code == 403
    assert first.app.get("/queue").headers["location"].startswith("/login")  # signed out


def test_a_refusal_at_the_provider_shows_its_error_code_and_no_text_from_the_address(site: Site):
    app = site.client()
    started = app.get("/login/oidc")
    state = query_of(started.headers["location"])["state"]
    denied = app.get(
        "/login/oidc/callback",
        params={"state": state, "error": "access_denied", "iss": site.context.oidc.config.issuer},  # type: ignore[union-attr]
    )
    assert denied.status_code == 403
    assert "did not sign you in (access_denied)" in denied.text
    started = app.get("/login/oidc")
    state = query_of(started.headers["location"])["state"]
    crafted = app.get(
        "/login/oidc/callback",
        params={
            "state": state,
            "error": "Call 0800 FAKE now",
            "iss": site.context.oidc.config.issuer,
        },  # type: ignore[union-attr]
    )
    assert "0800" not in crafted.text
    assert COOKIE_NAME not in app.cookies
