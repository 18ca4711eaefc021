"""FastAPI dependencies: the app's context, a transaction per request, the caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Form, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from api.auth import PERMISSION_WORDS, PUBLIC, may, user_for_token
from api.models import User
from api.oidc import OidcClient
from api.session import COOKIE_NAME, SignedIn, csrf_ok, signed_in
from compliance.service import Engine
from ingest.retention import TelemetryRetention
from ingest.store import TelemetryStore
from notify.channels import ChannelSettings
from registry.clock import utc_now
from registry.files import LocalFileStore


@dataclass
class AppContext:
    """What the composition root hands the API."""

    sessions: sessionmaker[Session]
    telemetry: TelemetryStore
    engine: Engine
    fleet: Any = None  # ingest's live view of gateways, when ingest runs in this process
    audit_key: str | None = None  # HOMESAFE_AUDIT_KEY: checkpoint signatures are checked with it
    # Hourly rollups, served for periods older than the raw retention (docs/operations.md).
    retention: TelemetryRetention | None = None
    raw_days: int = 0  # HOMESAFE_RETENTION_RAW_DAYS; 0: raw readings are kept forever
    clock: Callable[[], datetime] = utc_now  # the one wall clock; tests pass a fixed one
    channels: ChannelSettings = field(default_factory=ChannelSettings)  # people-facing channels
    files: LocalFileStore | None = None  # photos and documents (HOMESAFE_FILES_DIR)
    limiter: Any = None  # the resident form's rate limiter (api.pages.resident makes one)
    notify_hooks: Any = None  # what a message's outcome does (audit, summary_sent): bootstrap's
    letters: Any = None  # compliance.service.LetterChannel for the pages' summary form (notify)
    oidc: OidcClient | None = None  # staff sign-in through the identity provider; None: off

    def now(self) -> datetime:
        """The time a request is handled at."""
        return self.clock()


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


Context = Annotated[AppContext, Depends(get_context)]


def get_db(context: Context) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back if it raises."""
    with context.sessions.begin() as session:
        yield session


# scope="function": the commit happens before the response is sent, so a client never reads ahead of
# its own write, and a failed commit is an error answer, never a success followed by a rollback.
DbSession = Annotated[Session, Depends(get_db, scope="function")]

# A row id in a path: an integer both SQLite and PostgreSQL can hold (larger ones are a 422, not a 500).
RowId = Annotated[int, Path(ge=1, le=2_147_483_647)]

_bearer = HTTPBearer(auto_error=False)


def get_user(
    session: DbSession,
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a bearer token is needed",
            headers={"WWW-Authenticate": "Bearer"},
        )
    user = user_for_token(session, credentials.credentials, now=context.now())  # the app's clock
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "the token is not valid",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[User, Depends(get_user)]


def declares(permission: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a dependency with the permission it enforces, so tests can read every route's."""

    def mark(dependency: Callable[..., Any]) -> Callable[..., Any]:
        dependency.permission = permission  # type: ignore[attr-defined]
        return dependency

    return mark


def route_permission(dependant: Any) -> str | None:
    """The permission a route declares through its dependencies (None when it declares none)."""
    for sub in dependant.dependencies:
        found = getattr(sub.call, "permission", None) or route_permission(sub)
        if found:
            return str(found)
    return None


def require(permission: str) -> Callable[[User], User]:
    """A dependency that lets the caller through only if their role has the permission."""

    @declares(permission)
    def check(user: CurrentUser) -> User:
        if not may(user.role, permission):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"role {user.role} may not {permission.replace(':', ' ')}",
            )
        return user

    return check


@declares(PUBLIC)
def public() -> None:
    """Anyone may call this route, with or without credentials."""


# Pages: people sign in with a password and carry a session cookie; programs use bearer tokens.


class LoginRequired(Exception):
    """Nobody is signed in; the page answers with a redirect to the sign-in form."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class PageForbidden(Exception):
    """The signed-in person's role may not do this (or the form's CSRF token is wrong)."""

    def __init__(self, reason: str, signed: SignedIn | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.signed = signed


def _signed_in(request: Request, session: Session) -> SignedIn | None:
    return signed_in(session, cookie_value=request.cookies.get(COOKIE_NAME), now=utc_now())


def _next_url(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _words(permission: str) -> str:
    return PERMISSION_WORDS.get(permission, permission.replace(":", " ").replace("_", " "))


def page_require(permission: str) -> Callable[..., SignedIn]:
    """A page dependency: the signed-in person, if their role has the permission."""

    @declares(permission)
    def check(request: Request, session: DbSession) -> SignedIn:
        signed = _signed_in(request, session)
        if signed is None:
            raise LoginRequired(_next_url(request))
        if not may(signed.user.role, permission):
            raise PageForbidden(
                f"People with the {signed.user.role} role cannot {_words(permission)}.", signed
            )
        return signed

    return check


def page_action(permission: str) -> Callable[..., SignedIn]:
    """A form POST: signed in, role allowed, and the form's CSRF token matches the session's."""

    @declares(permission)
    def check(
        request: Request,
        session: DbSession,
        csrf_token: Annotated[str | None, Form()] = None,
    ) -> SignedIn:
        signed = _signed_in(request, session)
        if signed is None:
            raise LoginRequired(request.headers.get("referer") or "/")
        if not may(signed.user.role, permission):
            raise PageForbidden(
                f"People with the {signed.user.role} role cannot {_words(permission)}.", signed
            )
        if not csrf_ok(signed.csrf_token, csrf_token):
            raise PageForbidden(
                "The form had expired or was not sent by this site. Try again.", signed
            )
        return signed

    return check


@declares(PUBLIC)
def public_page(request: Request, session: DbSession) -> SignedIn | None:
    """A page anyone may see; the signed-in person (or None) for the header."""
    return _signed_in(request, session)


SignedInOrNot = Annotated[SignedIn | None, Depends(public_page)]
