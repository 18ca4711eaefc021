"""FastAPI dependencies: the app's context, a transaction per request, the caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from api.auth import may, user_for_token
from api.models import User
from compliance.service import Engine
from ingest.store import TelemetryStore


@dataclass
class AppContext:
    """What the composition root hands the API."""

    sessions: sessionmaker[Session]
    telemetry: TelemetryStore
    engine: Engine
    fleet: Any = None  # ingest's live view of gateways, when ingest runs in this process


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


Context = Annotated[AppContext, Depends(get_context)]


def get_db(context: Context) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back if it raises."""
    with context.sessions.begin() as session:
        yield session


DbSession = Annotated[Session, Depends(get_db)]

_bearer = HTTPBearer(auto_error=False)


def get_user(
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a bearer token is needed",
            headers={"WWW-Authenticate": "Bearer"},
        )
    user = user_for_token(session, credentials.credentials)
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "the token is not valid",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[User, Depends(get_user)]


def require(permission: str) -> Callable[[User], User]:
    """A dependency that lets the caller through only if their role has the permission."""

    def check(user: CurrentUser) -> User:
        if not may(user.role, permission):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"role {user.role} may not {permission.replace(':', ' ')}",
            )
        return user

    return check
