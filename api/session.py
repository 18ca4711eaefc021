"""Browser sessions: a random id in an HttpOnly cookie, stored hashed, with a CSRF token each."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from api.auth import hash_token
from api.models import OidcLogin, User, WebSession

COOKIE_NAME = "homesafe_session"
SESSION_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class Person:
    """Who is signed in, as plain values (safe to use after the request's transaction ends)."""

    id: int
    name: str
    role: str
    external: bool = False  # signs in through the identity provider: no password here

    @classmethod
    def of(cls, user: User) -> Person:
        return cls(id=user.id, name=user.name, role=user.role, external=user.external)


@dataclass(frozen=True)
class SignedIn:
    """A live session: who it is and the CSRF token their forms must carry."""

    user: Person
    csrf_token: str
    expires_at: datetime


def start_session(session: Session, *, user: User, now: datetime) -> tuple[str, SignedIn]:
    """A new session for the user: the cookie value (returned once, stored hashed) and its state."""
    cookie_value = secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=hash_token(cookie_value),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(row)
    session.flush()
    return cookie_value, SignedIn(
        user=Person.of(user), csrf_token=row.csrf_token, expires_at=row.expires_at
    )


def _live_row(session: Session, cookie_value: str, now: datetime) -> WebSession | None:
    row = session.scalars(
        select(WebSession).where(WebSession.token_hash == hash_token(cookie_value))
    ).first()
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    return row


def signed_in(session: Session, *, cookie_value: str | None, now: datetime) -> SignedIn | None:
    """The live session the cookie names, or None (missing, unknown, ended, expired, disabled)."""
    if not cookie_value:
        return None
    row = _live_row(session, cookie_value, now)
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled_at is not None:
        return None
    return SignedIn(user=Person.of(user), csrf_token=row.csrf_token, expires_at=row.expires_at)


def end_session(session: Session, *, cookie_value: str | None, now: datetime) -> None:
    """Sign out: the cookie's session ends now and is never accepted again."""
    if not cookie_value:
        return
    row = _live_row(session, cookie_value, now)
    if row is not None:
        row.ended_at = now
        session.flush()


def csrf_ok(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a form's CSRF token with the session's."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


OIDC_COOKIE_NAME = "homesafe_oidc"


@dataclass(frozen=True)
class PendingLogin:
    """A sign-in through the identity provider under way (api.models.OidcLogin), as values."""

    state: str
    nonce: str
    code_verifier: str
    next_url: str


def begin_oidc_login(
    session: Session,
    *,
    state: str,
    nonce: str,
    code_verifier: str,
    next_url: str,
    now: datetime,
    lifetime: timedelta,
) -> str:
    """Keep a new sign-in's state, nonce and PKCE verifier; the cookie value naming it is
    returned once and stored hashed. Sign-ins past their time are cleared on the way."""
    session.execute(delete(OidcLogin).where(OidcLogin.expires_at <= now))
    cookie_value = secrets.token_urlsafe(32)
    session.add(
        OidcLogin(
            token_hash=hash_token(cookie_value),
            state=state,
            nonce=nonce,
            code_verifier=code_verifier,
            next_url=next_url[:2000],
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return cookie_value


def take_oidc_login(
    session: Session, *, cookie_value: str | None, now: datetime
) -> PendingLogin | None:
    """The sign-in the cookie names, used up now (each is good for one callback only); None when
    missing, unknown, used or past its time."""
    if not cookie_value:
        return None
    row = session.scalars(
        select(OidcLogin).where(OidcLogin.token_hash == hash_token(cookie_value))
    ).first()
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    # A conditional update: of two callbacks racing with the same cookie, one wins.
    claimed = session.execute(
        update(OidcLogin)
        .where(OidcLogin.id == row.id, OidcLogin.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return PendingLogin(
        state=row.state, nonce=row.nonce, code_verifier=row.code_verifier, next_url=row.next_url
    )
