"""The pure checks of OpenID Connect sign-in (api.oidc): the role map, PKCE, the authorisation
response and every rule of ID token validation, with keys made here (no provider, no network).
The same checks run against a real provider in tests/integration/security/test_oidc.py."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from api.oidc import (
    OidcError,
    ProviderMetadata,
    UnknownKey,
    at_hash,
    check_callback,
    groups_of,
    name_hint,
    parse_role_map,
    pkce_pair,
    role_for,
    validate_id_token,
)

ISSUER = "https://login.landlord.example"
CLIENT = "homesafe"
NONCE = "n-0S6_WzA2Mj"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _public_jwk(key: Any, kid: str, alg: str) -> dict[str, Any]:
    algorithm = jwt.algorithms.RSAAlgorithm if alg == "RS256" else jwt.algorithms.ECAlgorithm
    jwk = json.loads(algorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


JWKS = [_public_jwk(RSA_KEY, "rsa-1", "RS256"), _public_jwk(EC_KEY, "ec-1", "ES256")]


def _token(
    *,
    key: Any = RSA_KEY,
    alg: str = "RS256",
    kid: str | None = "rsa-1",
    drop: tuple[str, ...] = (),
    **claims: Any,
) -> str:
    body: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "248289761001",
        "aud": CLIENT,
        "exp": int((NOW + timedelta(minutes=5)).timestamp()),
        "iat": int(NOW.timestamp()),
        "nonce": NONCE,
        "groups": ["dm-team"],
    }
    body.update(claims)
    for name in drop:
        body.pop(name)
    headers = {"kid": kid} if kid else {}
    return jwt.encode(body, key, algorithm=alg, headers=headers)


def _validate(token: str, **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "keys": JWKS,
        "issuer": ISSUER,
        "client_id": CLIENT,
        "nonce": NONCE,
        "now": NOW,
    }
    arguments.update(overrides)
    return validate_id_token(token, **arguments)


def test_a_good_rs256_or_es256_token_gives_its_claims():
    assert _validate(_token())["sub"] == "248289761001"
    assert _validate(_token(key=EC_KEY, alg="ES256", kid="ec-1"))["groups"] == ["dm-team"]


@pytest.mark.parametrize(
    ("token", "words"),
    [
        (_token(key=OTHER_KEY), "signature"),
        (_token(iss="https://evil.example"), "different identity provider"),
        (_token(aud="another-app"), "different application"),
        (_token(aud=[CLIENT, "another-app"]), "other applications as well"),
        (_token(azp="another-app"), "different application"),
        (_token(exp=int((NOW - timedelta(minutes=2)).timestamp())), "expired"),
        (_token(iat=int((NOW + timedelta(minutes=5)).timestamp())), "in the future"),
        (_token(iat=int((NOW - timedelta(minutes=30)).timestamp())), "too long ago"),
        (_token(nbf=int((NOW + timedelta(minutes=5)).timestamp())), "not valid yet"),
        (_token(nonce="someone-else's"), "nonce"),
        (_token(drop=("nonce",)), "nonce"),
        (_token(drop=("exp",)), "exp"),
        (_token(drop=("iat",)), "iat"),
        (_token(drop=("sub",)), "sub"),
        (_token(sub=""), "subject"),
        (_token(kid="unknown"), "does not publish"),
        (_token(key=EC_KEY, alg="ES256", kid="rsa-1"), "does not publish"),
    ],
)
def test_a_token_that_breaks_a_rule_is_refused(token: str, words: str):
    with pytest.raises(OidcError, match=words):
        _validate(token)


def test_algorithms_other_than_rs256_and_es256_are_refused():
    # "none", and HS256 keyed with the provider's public key (the classic confusion attack).
    unsigned = jwt.encode({"iss": ISSUER, "sub": "x", "aud": CLIENT}, None, algorithm="none")
    with pytest.raises(OidcError, match="'none'"):
        _validate(unsigned)
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","kid":"rsa-1"}').rstrip(b"=").decode()
    with pytest.raises(OidcError, match="HS256"):
        _validate(header + "." + _token().split(".", 1)[1])


def test_a_token_that_names_no_key_uses_the_only_key_of_its_type():
    assert _validate(_token(kid=None))["sub"] == "248289761001"
    two_rsa = [*JWKS, _public_jwk(OTHER_KEY, "rsa-2", "RS256")]
    with pytest.raises(OidcError, match="several"):
        _validate(_token(kid=None), keys=two_rsa)


def test_an_unknown_key_id_is_its_own_error_so_the_keys_are_fetched_again():
    with pytest.raises(UnknownKey):
        _validate(_token(kid="rsa-2", key=OTHER_KEY))
    rotated = [*JWKS, _public_jwk(OTHER_KEY, "rsa-2", "RS256")]
    assert _validate(_token(kid="rsa-2", key=OTHER_KEY), keys=rotated)["sub"]


def test_at_hash_binds_the_id_token_to_its_access_token():
    token = _token(at_hash=at_hash("the-access-token"))
    assert _validate(token, access_token="the-access-token")
    with pytest.raises(OidcError, match="at_hash"):
        _validate(token, access_token="another-access-token")
    # Core §3.3.2.11's example: the left half of SHA-256, base64url.
    digest = hashlib.sha256(b"jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y").digest()
    assert at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y") == (
        base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    )


def test_clock_skew_of_a_minute_is_allowed():
    token = _token(iat=int((NOW + timedelta(seconds=30)).timestamp()))
    assert _validate(token)
    expired_just = _token(exp=int((NOW - timedelta(seconds=30)).timestamp()))
    assert _validate(expired_just)


def test_pkce_challenge_is_the_s256_of_the_verifier():
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert challenge == expected.decode()
    assert pkce_pair()[0] != verifier


METADATA = ProviderMetadata(
    issuer=ISSUER,
    authorization_endpoint=f"{ISSUER}/auth",
    token_endpoint=f"{ISSUER}/token",
    jwks_uri=f"{ISSUER}/jwks",
    iss_parameter_supported=True,
)


def test_the_callback_must_carry_this_sign_ins_state_and_the_issuer():
    check_callback(METADATA, expected_state="abc", state="abc", iss=ISSUER)
    with pytest.raises(OidcError, match="did not match"):
        check_callback(METADATA, expected_state="abc", state="abd", iss=ISSUER)
    with pytest.raises(OidcError, match="did not match"):
        check_callback(METADATA, expected_state="abc", state=None, iss=ISSUER)
    with pytest.raises(OidcError, match="different identity provider"):
        check_callback(METADATA, expected_state="abc", state="abc", iss="https://evil.example")
    with pytest.raises(OidcError, match="did not say who sent it"):
        check_callback(METADATA, expected_state="abc", state="abc", iss=None)
    quiet = ProviderMetadata(**{**METADATA.__dict__, "iss_parameter_supported": False})
    check_callback(quiet, expected_state="abc", state="abc", iss=None)


def test_the_role_map_keeps_its_order_and_knows_the_roles():
    pairs = parse_role_map("compliance=compliance, dm-team=officer\nanalysts=analyst")
    assert pairs == (("compliance", "compliance"), ("dm-team", "officer"), ("analysts", "analyst"))
    assert role_for(["dm-team", "compliance"], pairs) == "compliance"
    assert role_for(["dm-team"], pairs) == "officer"
    assert role_for(["catering"], pairs) is None
    assert role_for([], pairs) is None
    with pytest.raises(ValueError, match="compliance_officer"):
        parse_role_map("compliance=compliance_officer")
    with pytest.raises(ValueError, match="not group=role"):
        parse_role_map("dm-team")
    assert parse_role_map("") == ()


def test_a_json_role_map_takes_group_names_with_commas_and_equals():
    dn = "cn=damp team,ou=groups,dc=landlord,dc=example"
    assert parse_role_map(json.dumps({dn: "officer"})) == ((dn, "officer"),)
    with pytest.raises(ValueError, match="JSON"):
        parse_role_map("{not json")


def test_groups_and_names_from_claims():
    assert groups_of({"groups": ["a", "b"]}, "groups") == ("a", "b")
    assert groups_of({"roles": "a"}, "roles") == ("a",)
    assert groups_of({}, "groups") is None
    with pytest.raises(OidcError, match="not a list"):
        groups_of({"groups": [1, 2]}, "groups")
    assert name_hint({"sub": "1", "preferred_username": " jo ", "email": "j@x"}) == "jo"
    assert name_hint({"sub": "1", "email": "j@x"}) == "j@x"
    assert name_hint({"sub": "1", "preferred_username": "\x00\x07"}) == "sso-1"
    assert len(name_hint({"sub": "1", "name": "x" * 300})) == 64
