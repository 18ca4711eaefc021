"""Staff sign-in through the landlord's identity provider (OpenID Connect, code flow with PKCE).

`GET /login/oidc` keeps a fresh state, nonce and PKCE verifier on the server (the browser holds
only a random id in a cookie) and sends the browser to the provider; `GET /login/oidc/callback`
takes the code back, and only when every check of api.oidc passes and one of the person's groups
maps to a role does a session start. Local accounts keep working beside it (break-glass).
"""

from __future__ import annotations

import logging
import re
import secrets

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import RedirectResponse, Response

from api.auth import OIDC, ExternalRefused, admit_external_user, record_sign_in
from api.deps import Context, SignedInOrNot, public_page
from api.oidc import (
    LOGIN_LIFETIME,
    OidcClient,
    OidcError,
    ProviderUnavailable,
    authorization_url,
    check_callback,
    pkce_pair,
    role_for,
)
from api.pages.render import render
from api.pages.signin import safe_next
from api.session import (
    COOKIE_NAME,
    OIDC_COOKIE_NAME,
    SESSION_LIFETIME,
    begin_oidc_login,
    start_session,
    take_oidc_login,
)
from registry.clock import utc_now

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

CALLBACK_PATH = "/login/oidc/callback"
# What a person reads when the provider signed them in but Homesafe does not let them in.
REFUSALS = {
    "oidc_no_role": (
        "Your account at {provider} is not in any group that has a role in Homesafe, so you were "
        "not signed in. Ask your Homesafe administrator to add you to the right group."
    ),
    "oidc_disabled": "Your Homesafe account is disabled. Ask your Homesafe administrator.",
}
COOKIE_PATH = "/login/oidc"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _refused(
    request: Request,
    signed: SignedInOrNot,
    oidc: OidcClient | None,
    reason: str,
    *,
    status_code: int = status.HTTP_403_FORBIDDEN,
) -> Response:
    response = render(
        request,
        "oidc_refused.html",
        signed,
        status_code=status_code,
        reason=reason,
        provider_name=oidc.config.provider_name if oidc else None,
    )
    response.delete_cookie(OIDC_COOKIE_NAME, path=COOKIE_PATH)
    return response


@router.get("/login/oidc", dependencies=[Depends(public_page)])
def begin(
    request: Request, context: Context, signed: SignedInOrNot, next: str | None = None
) -> Response:
    """Send the browser to the identity provider, with a fresh state, nonce and PKCE challenge."""
    oidc = context.oidc
    if oidc is None:
        return _refused(
            request,
            signed,
            None,
            "Sign-in through an identity provider is not set up here: use your Homesafe account.",
            status_code=status.HTTP_404_NOT_FOUND,
        )
    try:
        metadata = oidc.metadata()
    except ProviderUnavailable as exc:
        log.warning("OpenID Connect sign-in could not start: %s", exc)
        return _refused(
            request,
            signed,
            oidc,
            f"{oidc.config.provider_name} did not answer, so you cannot sign in with it now. "
            "Try again shortly; in an emergency use a local account.",
            status_code=status.HTTP_502_BAD_GATEWAY,
        )
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier, challenge = pkce_pair()
    with context.sessions.begin() as own:  # committed before the browser can come back
        cookie_value = begin_oidc_login(
            own,
            state=state,
            nonce=nonce,
            code_verifier=verifier,
            next_url=safe_next(next),
            now=utc_now(),
            lifetime=LOGIN_LIFETIME,
        )
    response = RedirectResponse(
        authorization_url(
            metadata, oidc.config, state=state, nonce=nonce, code_challenge=challenge
        ),
        status.HTTP_303_SEE_OTHER,
    )
    # SameSite=Lax: the provider's redirect back is a top-level GET, which carries it.
    response.set_cookie(
        OIDC_COOKIE_NAME,
        cookie_value,
        max_age=int(LOGIN_LIFETIME.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    return response


@router.get(CALLBACK_PATH, dependencies=[Depends(public_page)])
def callback(
    request: Request,
    context: Context,
    signed: SignedInOrNot,
    code: str | None = None,
    state: str | None = None,
    iss: str | None = None,
    error: str | None = None,
) -> Response:
    """The provider's answer: every check, then the person's role from their groups, then a
    session; anything wrong is refused with a page that says why, and nothing is created."""
    oidc = context.oidc
    client = _client(request)
    if oidc is None:
        return _refused(
            request,
            signed,
            None,
            "Sign-in through an identity provider is not set up here: use your Homesafe account.",
            status_code=status.HTTP_404_NOT_FOUND,
        )
    now = utc_now()
    with context.sessions.begin() as own:  # used up even when what follows fails
        pending = take_oidc_login(own, cookie_value=request.cookies.get(OIDC_COOKIE_NAME), now=now)
    if pending is None:
        return _failed(
            request,
            context,
            signed,
            client,
            "Your sign-in took too long, was already used, or was started in another browser. "
            "Please start again.",
            reason="oidc_no_login",
        )
    try:
        metadata = oidc.metadata()
        check_callback(metadata, expected_state=pending.state, state=state, iss=iss)
        if error is not None:
            # Only an OAuth error code (RFC 6749 §4.1.2.1) is shown, never free text from the URL.
            code_words = error if re.fullmatch(r"[a-z_]{1,40}", error) else "an error"
            raise OidcError(f"{oidc.config.provider_name} did not sign you in ({code_words})")
        if not code:
            raise OidcError("the answer from the identity provider carried no sign-in code")
        identity = oidc.sign_in(
            code=code, code_verifier=pending.code_verifier, nonce=pending.nonce, now=now
        )
    except ProviderUnavailable as exc:
        log.warning("OpenID Connect sign-in failed: %s", exc)
        return _failed(
            request,
            context,
            signed,
            client,
            f"{oidc.config.provider_name} did not answer, so you were not signed in. Try again "
            "shortly; in an emergency use a local account.",
            reason="oidc_unavailable",
            status_code=status.HTTP_502_BAD_GATEWAY,
        )
    except OidcError as exc:
        return _failed(
            request,
            context,
            signed,
            client,
            f"You were not signed in: {exc}. Please start again.",
            reason="oidc_invalid",
        )
    role = role_for(identity.groups, oidc.config.role_map)
    refusal: str | None = None
    with context.sessions.begin() as own:
        try:
            user = admit_external_user(
                own,
                issuer=identity.issuer,
                subject=identity.subject,
                name_hint=identity.name_hint,
                role=role,
                now=now,
            )
        except ExternalRefused as exc:
            refusal = REFUSALS[exc.reason].format(provider=oidc.config.provider_name)
            record_sign_in(
                own,
                name=exc.name,
                client=client,
                now=now,
                succeeded=False,
                method=OIDC,
                reason=exc.reason,
            )
        else:
            record_sign_in(own, name=user.name, client=client, now=now, succeeded=True, method=OIDC)
            cookie_value, _ = start_session(own, user=user, now=now)
    if refusal is not None:
        return _refused(request, signed, oidc, refusal)
    redirect = RedirectResponse(pending.next_url, status.HTTP_303_SEE_OTHER)
    redirect.set_cookie(
        COOKIE_NAME,
        cookie_value,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    redirect.delete_cookie(OIDC_COOKIE_NAME, path=COOKIE_PATH)
    return redirect


def _failed(
    request: Request,
    context: Context,
    signed: SignedInOrNot,
    client: str,
    words: str,
    *,
    reason: str,
    status_code: int = status.HTTP_403_FORBIDDEN,
) -> Response:
    """Record the refused sign-in (no name is known yet) and show why."""
    with context.sessions.begin() as own:
        record_sign_in(
            own,
            name="(identity provider)",
            client=client,
            now=utc_now(),
            succeeded=False,
            method=OIDC,
            reason=reason,
        )
    return _refused(request, signed, context.oidc, words, status_code=status_code)
