"""Signing in and out of the pages (people; programs use bearer tokens)."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import RedirectResponse, Response

from api.auth import (
    PANEL,
    authenticate,
    hash_token,
    record_sign_in,
    refuse_throttled,
    set_password,
    sign_in_throttled,
)
from api.deps import Context, DbSession, SignedInOrNot, page_action, page_require, public_page
from api.models import User
from api.pages.render import render
from api.session import COOKIE_NAME, SESSION_LIFETIME, SignedIn, csrf_ok, end_session, start_session
from registry.clock import utc_now

router = APIRouter(include_in_schema=False)

LOGIN_CSRF_COOKIE = "homesafe_login_csrf"


def safe_next(value: str | None) -> str:
    """Only a path on this site may follow sign-in (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _oidc_name(request: Request) -> str | None:
    """The identity provider's name for the sign-in button; None when OpenID Connect is off."""
    oidc = request.app.state.context.oidc
    return oidc.config.provider_name if oidc is not None else None


@router.get("/login", dependencies=[Depends(public_page)])
def login_form(request: Request, signed: SignedInOrNot, next: str | None = None) -> Response:
    """The sign-in form, with a double-submit CSRF token in a cookie and the form."""
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        signed,
        login_csrf=token,
        next_url=safe_next(next),
        oidc_name=_oidc_name(request),
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request)
    )
    return response


@router.post("/login", dependencies=[Depends(public_page)])
def login(
    request: Request,
    session: DbSession,
    context: Context,
    name: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    login_csrf: Annotated[str | None, Form()] = None,
    next: Annotated[str | None, Form()] = None,
) -> Response:
    """Check the password; on success start a session and go where the person was heading.

    Throttled per account and per client (api.auth.sign_in_throttled): 429 while refused."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    client = request.client.host if request.client else "unknown"
    user = None
    status_code = 200
    if not (expected and csrf_ok(expected, login_csrf)):
        error = "The sign-in form had expired. Please try again."
    elif sign_in_throttled(session, name=name, client=client, now=utc_now()):
        refuse_throttled(name, client)
        error = "Too many failed sign-ins for this account or from this network. Try again in 15 minutes."
        status_code = 429
    else:
        user = authenticate(session, name=name, password=password)
        error = "That user name and password do not match."
        # Kept in its own transaction: the attempt counts even though this request then fails.
        with context.sessions.begin() as own:
            record_sign_in(own, name=name, client=client, now=utc_now(), succeeded=user is not None)
    if user is None:
        token = secrets.token_urlsafe(24)
        response = render(
            request,
            "login.html",
            None,
            status_code=status_code,
            error=error,
            login_csrf=token,
            next_url=safe_next(next),
            name=name,
            oidc_name=_oidc_name(request),
        )
        response.set_cookie(
            LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request)
        )
        return response
    # The web session is committed before the redirect goes out: the request's own transaction
    # commits only after the response is sent, and the browser's next request could beat it.
    with context.sessions.begin() as own:
        cookie_value, _ = start_session(own, user=own.get(User, user.id), now=utc_now())  # type: ignore[arg-type]
    redirect = RedirectResponse(safe_next(next), status.HTTP_303_SEE_OTHER)
    redirect.set_cookie(
        COOKIE_NAME,
        cookie_value,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    redirect.delete_cookie(LOGIN_CSRF_COOKIE)
    return redirect


@router.post("/logout", dependencies=[Depends(public_page)])
def logout(
    request: Request,
    session: DbSession,
    signed: SignedInOrNot,
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    """End the session (the form must carry the session's CSRF token)."""
    if signed is not None and csrf_ok(signed.csrf_token, csrf_token):
        end_session(session, cookie_value=request.cookies.get(COOKIE_NAME), now=utc_now())
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE_NAME)
    return response


@router.get("/", dependencies=[Depends(public_page)])
def home(signed: SignedInOrNot, _context: Context) -> Response:
    """The queue for people signed in; the public transparency page for everyone else."""
    start = "/transparency"
    if signed:
        start = "/panel" if signed.user.role == PANEL else "/queue"
    return RedirectResponse(start, status.HTTP_303_SEE_OTHER)


@router.get("/docs")
def api_docs(
    request: Request, signed: Annotated[SignedIn, Depends(page_require("api:docs"))]
) -> Response:
    """The API's OpenAPI document in Swagger UI, for people signed in (files served locally)."""
    return render(request, "docs.html", signed)


@router.get("/account")
def account_page(
    request: Request, signed: Annotated[SignedIn, Depends(page_require("account:self"))]
) -> Response:
    """The signed-in person's own account: change the password."""
    return render(request, "account.html", signed)


@router.post("/account/password")
def change_password(
    request: Request,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_action("account:self"))],
    current: Annotated[str, Form(max_length=1024)] = "",
    new: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Change one's own password (the current one is asked again); the person's other sessions
    end, this one stays."""
    with context.sessions.begin() as session:
        if authenticate(session, name=signed.user.name, password=current) is None:
            error = "The current password was not right; nothing changed."
            return RedirectResponse(
                "/account?" + urlencode({"error": error}), status.HTTP_303_SEE_OTHER
            )
    try:
        with context.sessions.begin() as session:
            set_password(
                session,
                name=signed.user.name,
                password=new,
                now=utc_now(),
                keep_token_hash=hash_token(request.cookies.get(COOKIE_NAME, "")),
            )
    except ValueError as exc:
        return RedirectResponse(
            "/account?" + urlencode({"error": str(exc)}), status.HTTP_303_SEE_OTHER
        )
    done = "Password changed; your other sessions have ended."
    return RedirectResponse("/account?" + urlencode({"message": done}), status.HTTP_303_SEE_OTHER)
