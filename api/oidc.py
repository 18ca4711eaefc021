"""Staff sign-in through the landlord's identity provider: OpenID Connect, authorisation code
flow with PKCE (docs/security.md, "OpenID Connect").

What is checked, following OpenID Connect Core 1.0 §3.1.3.7 (ID Token Validation), OpenID
Connect Discovery 1.0 §4.3, RFC 7636 (PKCE) and RFC 9207 (the `iss` authorisation response
parameter):
- the provider's metadata is fetched from `{issuer}/.well-known/openid-configuration` at first
  use (with a timeout) and kept for an hour; its `issuer` must equal the configured one exactly;
- every sign-in carries a fresh `state`, `nonce` and S256 code challenge; the callback must come
  back with the same `state` (and the issuer's `iss`, when it sends one);
- the ID token's signature is checked against the provider's JWKS (RS256 or ES256 only; a key
  id not seen before fetches the JWKS once more, for key rotation); then `iss`, `aud` (this
  client and nothing else), `azp`, `exp`, `iat` (not in the future, not older than ten
  minutes), `nonce` and `at_hash` (when present);
- the groups come from the ID token, or from the UserInfo endpoint when the token does not
  carry them (Core §5.4: in the code flow, claims asked for by scope are answered there), whose
  `sub` must equal the token's (Core §5.3.4).

Pure checks take the time as an argument; the HTTP calls live in :class:`OidcClient`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote_plus, urlencode, urlsplit

import httpx
import jwt

from api.auth import ROLES

ALGORITHMS = ("RS256", "ES256")
LEEWAY = timedelta(seconds=60)  # clock skew allowed between the provider and us
ISSUED_WITHIN = timedelta(minutes=10)  # an ID token older than this (by iat) is refused
METADATA_TTL_S = 3600.0
JWKS_REFETCH_AFTER_S = 30.0  # an unknown key id fetches the JWKS again at most this often
HTTP_TIMEOUT_S = 5.0
LOGIN_LIFETIME = timedelta(minutes=10)  # from the sign-in button to the callback


class OidcError(Exception):
    """A sign-in through the identity provider was refused; the message says why, in words a
    member of staff or the service desk can act on (never a secret)."""


class ProviderUnavailable(OidcError):
    """The identity provider did not answer, or answered with something unusable."""


@dataclass(frozen=True)
class OidcConfig:
    """The relying party's settings (HOMESAFE_OIDC_*)."""

    issuer: str
    client_id: str
    redirect_url: str
    role_map: tuple[tuple[str, str], ...]
    client_secret: str | None = None
    groups_claim: str = "groups"
    scopes: str = "openid profile email"
    provider_name: str = "your organisation's account"
    timeout_s: float = HTTP_TIMEOUT_S


@dataclass(frozen=True)
class ProviderMetadata:
    """The parts of the discovery document that sign-in uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None = None
    iss_parameter_supported: bool = False
    end_session_endpoint: str | None = None


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in, after every check."""

    issuer: str
    subject: str
    name_hint: str
    groups: tuple[str, ...]
    claims: dict[str, Any] = field(default_factory=dict, compare=False)


def parse_role_map(text: str) -> tuple[tuple[str, str], ...]:
    """``group=role`` pairs separated by commas or new lines, or a JSON object ``{"group":
    "role"}`` (for group names holding ``=`` or ``,``, such as LDAP DNs); order is kept, and the
    first pair whose group a person is in gives their role."""
    text = text.strip()
    if not text:
        return ()
    pairs: list[tuple[str, str]]
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"the role map is not valid JSON: {exc}") from exc
        if not isinstance(loaded, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in loaded.items()
        ):
            raise ValueError('a JSON role map is an object of strings: {"group": "role"}')
        pairs = [(k.strip(), v.strip()) for k, v in loaded.items()]
    else:
        pairs = []
        for item in text.replace("\n", ",").split(","):
            if not item.strip():
                continue
            group, sep, role = item.rpartition("=")
            if not sep or not group.strip():
                raise ValueError(f"{item.strip()!r} is not group=role")
            pairs.append((group.strip(), role.strip()))
    for group, role in pairs:
        if role not in ROLES:
            raise ValueError(f"group {group!r}: role {role!r} is not one of {', '.join(ROLES)}")
    return tuple(pairs)


def role_for(groups: Sequence[str], role_map: Sequence[tuple[str, str]]) -> str | None:
    """The role of the first pair of the map whose group the person is in; None when none is."""
    member = set(groups)
    for group, role in role_map:
        if group in member:
            return role
    return None


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def pkce_pair() -> tuple[str, str]:
    """A fresh code verifier (43 characters, 256 random bits) and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(32)
    return verifier, _b64url(hashlib.sha256(verifier.encode()).digest())


def authorization_url(
    metadata: ProviderMetadata, config: OidcConfig, *, state: str, nonce: str, code_challenge: str
) -> str:
    """Where the browser is sent to sign in."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": config.client_id,
            "redirect_uri": config.redirect_url,
            "scope": config.scopes,
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
    )
    separator = "&" if urlsplit(metadata.authorization_endpoint).query else "?"
    return f"{metadata.authorization_endpoint}{separator}{query}"


def check_callback(
    metadata: ProviderMetadata, *, expected_state: str, state: str | None, iss: str | None
) -> None:
    """The authorisation response belongs to this sign-in and this provider (state; RFC 9207)."""
    if not state or not hmac.compare_digest(expected_state.encode(), state.encode()):
        raise OidcError("the answer from the identity provider did not match this sign-in")
    if iss is None:
        if metadata.iss_parameter_supported:
            raise OidcError("the identity provider's answer did not say who sent it")
        return
    if iss != metadata.issuer:
        raise OidcError("the answer came from a different identity provider")


def at_hash(access_token: str) -> str:
    """Core §3.1.3.6: the left half of the access token's hash; SHA-256 for RS256 and ES256."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return _b64url(digest[: len(digest) // 2])


def _timestamp(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OidcError(f"the ID token has no valid {name}")
    return float(value)


def validate_id_token(
    id_token: str,
    *,
    keys: Sequence[dict[str, Any]],
    issuer: str,
    client_id: str,
    nonce: str,
    now: datetime,
    access_token: str | None = None,
) -> dict[str, Any]:
    """The ID token's claims, once its signature, issuer, audience, times and nonce are right;
    OidcError (with the reason) otherwise. ``keys`` are the provider's JWKS entries."""
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.PyJWTError as exc:
        raise OidcError("the ID token is not a signed JWT") from exc
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise OidcError(f"the ID token is signed with {alg!r}, not one of {', '.join(ALGORITHMS)}")
    key = _signing_key(keys, header)
    try:
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key=key.key,
            algorithms=[alg],
            audience=client_id,
            issuer=issuer,
            options={
                "require": ["iss", "sub", "aud", "exp", "iat"],
                # Times are checked below against the time given (the app's clock).
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.InvalidSignatureError as exc:
        raise OidcError("the ID token's signature is not the identity provider's") from exc
    except jwt.InvalidIssuerError as exc:
        raise OidcError("the ID token was issued by a different identity provider") from exc
    except jwt.InvalidAudienceError as exc:
        raise OidcError("the ID token was issued to a different application") from exc
    except jwt.PyJWTError as exc:
        raise OidcError(f"the ID token is not valid: {exc}") from exc
    audience = claims["aud"]
    if isinstance(audience, list) and audience != [client_id]:
        # Core §3.1.3.7 (3): refused when it lists audiences this client does not trust.
        raise OidcError("the ID token was issued to other applications as well")
    if "azp" in claims and claims["azp"] != client_id:
        raise OidcError("the ID token was issued to a different application")
    at = now.timestamp()
    leeway = LEEWAY.total_seconds()
    if _timestamp(claims, "exp") <= at - leeway:
        raise OidcError("the ID token has expired")
    issued = _timestamp(claims, "iat")
    if issued > at + leeway:
        raise OidcError("the ID token was issued in the future (check the clocks)")
    if issued < at - ISSUED_WITHIN.total_seconds() - leeway:
        raise OidcError("the ID token was issued too long ago")
    if "nbf" in claims and _timestamp(claims, "nbf") > at + leeway:
        raise OidcError("the ID token is not valid yet")
    given = claims.get("nonce")
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), nonce.encode()):
        raise OidcError("the ID token does not belong to this sign-in (nonce)")
    if access_token is not None and "at_hash" in claims:
        if not hmac.compare_digest(str(claims["at_hash"]), at_hash(access_token)):
            raise OidcError("the ID token does not match its access token (at_hash)")
    subject = claims["sub"]
    if not isinstance(subject, str) or not 0 < len(subject) <= 255:
        raise OidcError("the ID token's subject is not valid")
    return claims


def _signing_key(keys: Sequence[dict[str, Any]], header: dict[str, Any]) -> jwt.PyJWK:
    kid = header.get("kid")
    alg = header["alg"]
    kty = "RSA" if alg.startswith("RS") else "EC"
    candidates = [
        k
        for k in keys
        if (kid is None or k.get("kid") == kid)
        and k.get("kty") == kty
        and k.get("use", "sig") == "sig"
        and k.get("alg", alg) == alg
    ]
    if len(candidates) != 1:
        raise UnknownKey(
            "the ID token is signed with a key the identity provider does not publish"
            if not candidates
            else "the ID token names no key and the identity provider publishes several"
        )
    try:
        return jwt.PyJWK(candidates[0], algorithm=alg)
    except jwt.PyJWTError as exc:
        raise OidcError(f"the identity provider's key {kid!r} is not usable: {exc}") from exc


class UnknownKey(OidcError):
    """The token's key is not in the JWKS we hold (it may have rotated: fetch once more)."""


def groups_of(claims: dict[str, Any], claim: str) -> tuple[str, ...] | None:
    """The person's groups from the claim (a list of strings, or one string); None if absent."""
    value = claims.get(claim)
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(g, str) for g in value):
        return tuple(value)
    raise OidcError(f"the identity provider's {claim!r} claim is not a list of group names")


def name_hint(claims: dict[str, Any]) -> str:
    """A readable user name for a new person: preferred_username, else email, else name, else sub."""
    for key in ("preferred_username", "email", "name"):
        value = claims.get(key)
        if isinstance(value, str):
            cleaned = "".join(ch for ch in value if ch.isprintable()).strip()
            if cleaned:
                return cleaned[:64].strip()
    return f"sso-{claims['sub']}"[:64]


class OidcClient:
    """The relying party: discovery, the token exchange, keys and UserInfo, over HTTP."""

    def __init__(self, config: OidcConfig, *, http: httpx.Client | None = None) -> None:
        self.config = config
        self._http = http or httpx.Client(timeout=config.timeout_s, follow_redirects=False)
        self._lock = threading.Lock()
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._jwks: tuple[float, list[dict[str, Any]]] | None = None

    def _get_json(self, url: str, what: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.get(url, **kwargs)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(
                f"the identity provider did not answer ({what}): {type(exc).__name__}"
            ) from exc
        if response.status_code != 200:
            raise ProviderUnavailable(
                f"the identity provider answered {response.status_code} ({what})"
            )
        try:
            body = response.json()
        except ValueError as exc:
            raise ProviderUnavailable(f"the identity provider's {what} is not JSON") from exc
        if not isinstance(body, dict):
            raise ProviderUnavailable(f"the identity provider's {what} is not a JSON object")
        return body

    def metadata(self) -> ProviderMetadata:
        """The provider's discovery document (fetched at first use, kept for an hour)."""
        with self._lock:
            if self._metadata is not None and time.monotonic() - self._metadata[0] < METADATA_TTL_S:
                return self._metadata[1]
        issuer = self.config.issuer
        document = self._get_json(
            issuer.rstrip("/") + "/.well-known/openid-configuration", "discovery document"
        )
        if document.get("issuer") != issuer:
            raise ProviderUnavailable(
                f"the identity provider calls itself {document.get('issuer')!r}, not {issuer!r}"
            )
        try:
            metadata = ProviderMetadata(
                issuer=issuer,
                authorization_endpoint=str(document["authorization_endpoint"]),
                token_endpoint=str(document["token_endpoint"]),
                jwks_uri=str(document["jwks_uri"]),
                userinfo_endpoint=document.get("userinfo_endpoint"),
                iss_parameter_supported=document.get(
                    "authorization_response_iss_parameter_supported"
                )
                is True,
                end_session_endpoint=document.get("end_session_endpoint"),
            )
        except KeyError as exc:
            raise ProviderUnavailable(f"the discovery document has no {exc.args[0]}") from exc
        methods = document.get("code_challenge_methods_supported")
        if methods is not None and "S256" not in methods:
            raise ProviderUnavailable("the identity provider does not support PKCE with S256")
        with self._lock:
            self._metadata = (time.monotonic(), metadata)
        return metadata

    def keys(self, *, refresh: bool = False) -> list[dict[str, Any]]:
        """The provider's signing keys (fetched again when asked to, at most every 30 s)."""
        with self._lock:
            held = self._jwks
            if held is not None and (
                not refresh or time.monotonic() - held[0] < JWKS_REFETCH_AFTER_S
            ):
                return held[1]
        document = self._get_json(self.metadata().jwks_uri, "signing keys")
        keys = document.get("keys")
        if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
            raise ProviderUnavailable("the identity provider's signing keys are not a JWKS")
        with self._lock:
            self._jwks = (time.monotonic(), keys)
        return keys

    def exchange_code(self, *, code: str, code_verifier: str) -> dict[str, Any]:
        """The token endpoint's answer for the code (client_secret_basic when there is a secret,
        else a public client); OidcError with the provider's error code if refused."""
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.config.redirect_url,
            "code_verifier": code_verifier,
        }
        headers = {"Accept": "application/json"}
        if self.config.client_secret:
            # RFC 6749 §2.3.1: both halves form-encoded before Basic's base64.
            pair = f"{quote_plus(self.config.client_id)}:{quote_plus(self.config.client_secret)}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            data["client_id"] = self.config.client_id
        try:
            response = self._http.post(self.metadata().token_endpoint, data=data, headers=headers)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(
                f"the identity provider did not answer (token): {type(exc).__name__}"
            ) from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            raise OidcError(
                f"the identity provider refused the sign-in code ({error or response.status_code})"
            )
        if not isinstance(body.get("id_token"), str):
            raise OidcError("the identity provider sent no ID token")
        if str(body.get("token_type", "")).lower() != "bearer":
            raise OidcError("the identity provider sent a token of an unknown type")
        return body

    def validate(
        self, id_token: str, *, nonce: str, now: datetime, access_token: str | None
    ) -> dict[str, Any]:
        """validate_id_token against the provider's keys (fetched again once for a new key id)."""
        arguments: dict[str, Any] = {
            "issuer": self.config.issuer,
            "client_id": self.config.client_id,
            "nonce": nonce,
            "now": now,
            "access_token": access_token,
        }
        try:
            return validate_id_token(id_token, keys=self.keys(), **arguments)
        except UnknownKey:
            return validate_id_token(id_token, keys=self.keys(refresh=True), **arguments)

    def userinfo(self, *, access_token: str, subject: str) -> dict[str, Any]:
        """The UserInfo endpoint's claims about the person, whose sub must be the token's."""
        endpoint = self.metadata().userinfo_endpoint
        if not endpoint:
            return {}
        claims = self._get_json(
            endpoint, "user info", headers={"Authorization": f"Bearer {access_token}"}
        )
        if claims.get("sub") != subject:
            raise OidcError("the identity provider's user info is about someone else")
        return claims

    def sign_in(self, *, code: str, code_verifier: str, nonce: str, now: datetime) -> Identity:
        """From the authorisation code to who signed in, with their groups."""
        tokens = self.exchange_code(code=code, code_verifier=code_verifier)
        access_token = tokens.get("access_token")
        access_token = access_token if isinstance(access_token, str) else None
        claims = self.validate(tokens["id_token"], nonce=nonce, now=now, access_token=access_token)
        groups = groups_of(claims, self.config.groups_claim)
        if groups is None and access_token is not None:
            extra = self.userinfo(access_token=access_token, subject=claims["sub"])
            groups = groups_of(extra, self.config.groups_claim)
            claims = {**extra, **claims}
        return Identity(
            issuer=self.config.issuer,
            subject=claims["sub"],
            name_hint=name_hint(claims),
            groups=groups or (),
            claims=claims,
        )

    def close(self) -> None:
        self._http.close()
