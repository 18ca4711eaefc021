"""Who may do what: roles, permissions, and bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import ApiToken, User

ROLES = ("officer", "compliance", "analyst", "admin", "viewer")

# The one table of who may do what; `admin` may do everything.
PERMISSIONS: dict[str, frozenset[str]] = {
    "cases:read": frozenset(ROLES),
    "cases:write": frozenset({"officer", "admin"}),
    "telemetry:read": frozenset({"officer", "compliance", "analyst", "admin", "viewer"}),
    "fleet:read": frozenset({"officer", "compliance", "admin"}),
    "audit:read": frozenset({"compliance", "admin"}),
    "compliance:export": frozenset({"compliance", "admin"}),
    "households:read": frozenset({"analyst", "admin"}),
}

TOKEN_PREFIX = "hs_"


class UnknownUser(LookupError):
    """No such user."""


def may(role: str, permission: str) -> bool:
    return role in PERMISSIONS.get(permission, frozenset())


def hash_token(token: str) -> str:
    """Tokens carry 256 random bits, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(session: Session, *, name: str, role: str, now: datetime) -> User:
    if role not in ROLES:
        raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if session.scalars(select(User).where(User.name == name)).first() is not None:
        raise ValueError(f"user {name!r} exists already")
    user = User(name=name, role=role, created_at=now)
    session.add(user)
    session.flush()
    return user


def create_token(session: Session, *, name: str, now: datetime) -> str:
    """A new bearer token for the user; the token itself is returned once and never stored."""
    user = session.scalars(select(User).where(User.name == name)).first()
    if user is None:
        raise UnknownUser(f"no user {name!r}; add one with `homesafe users add`")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(user_id=user.id, token_hash=hash_token(token), prefix=token[:10], created_at=now)
    )
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    found = session.execute(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
    ).scalar_one_or_none()
    if found is None or found.disabled_at is not None:
        return None
    return found
