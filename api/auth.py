"""Who may do what: roles, permissions, passwords and bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import ApiToken, User

ROLES = ("officer", "compliance", "analyst", "admin", "viewer")

# Anyone, signed in or not, may do what needs `public` (health, the transparency page, sign-in).
PUBLIC = "public"

# The one table of who may do what. Every route declares one of these keys (see api.deps.require
# and api.deps.page_require); tests/integration/api/test_authorisation.py walks every route with
# every role, and with no credentials, against this table.
PERMISSIONS: dict[str, frozenset[str]] = {
    "cases:read": frozenset(ROLES),
    "cases:personal": frozenset({"officer", "compliance", "admin"}),
    # The household's needs that raise the risk (child under 5, over 65, health or disability,
    # language), never ethnicity or the detail: for staff who triage and work cases.
    "households:needs": frozenset({"officer", "compliance", "admin"}),
    "cases:write": frozenset({"officer", "admin"}),
    "cases:assign": frozenset({"officer", "admin"}),
    "telemetry:read": frozenset({"officer", "compliance", "analyst", "admin", "viewer"}),
    "fleet:read": frozenset({"officer", "compliance", "admin"}),
    "audit:read": frozenset({"compliance", "admin"}),
    "compliance:read": frozenset({"compliance", "admin"}),
    "compliance:export": frozenset({"compliance", "admin"}),
    "compliance:excuse": frozenset({"compliance", "admin"}),
    "repairs:read": frozenset({"officer", "compliance", "admin"}),
    "repairs:write": frozenset({"officer", "admin"}),
    "equity:read": frozenset({"analyst", "admin"}),
    "transparency:read": frozenset(ROLES),
    "transparency:write": frozenset({"compliance", "admin"}),
    "households:read": frozenset({"analyst", "admin"}),
    "registry:admin": frozenset({"admin"}),
    "users:admin": frozenset({"admin"}),
    # Webhook subscriptions for the landlord's other systems (their secrets, their deliveries).
    "webhooks:admin": frozenset({"admin"}),
    # The damp and mould data model exports and TSM (personal data in them only with cases:personal).
    "interop:export": frozenset({"compliance", "admin"}),
    # Other systems' references to cases, homes, tenancies and work orders: found by staff who work them.
    "interop:references": frozenset({"officer", "compliance", "admin"}),
    # Writing from other systems: references, work-order updates, the data-model import.
    "interop:import": frozenset({"admin"}),
}

# Routes the framework adds itself (they take no dependencies), with the permission they need.
FRAMEWORK_ROUTES: dict[str, str] = {
    "/api/v1/openapi.json": PUBLIC,
    "/docs": PUBLIC,
    "/docs/oauth2-redirect": PUBLIC,
    "/redoc": PUBLIC,
    "/static": PUBLIC,
}

TOKEN_PREFIX = "hs_"
MIN_PASSWORD_CHARS = 12

_hasher = PasswordHasher()  # argon2id, the library's RFC 9106 low-memory defaults
_DUMMY_HASH = _hasher.hash("no such user: spend the same time as a real check")


class UnknownUser(LookupError):
    """No such user."""


def may(role: str | None, permission: str) -> bool:
    """True when the role (None: nobody signed in) has the permission."""
    if permission == PUBLIC:
        return True
    return role is not None and role in PERMISSIONS.get(permission, frozenset())


def hash_token(token: str) -> str:
    """Tokens carry 256 random bits, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    """An argon2id hash of the password (salted; parameters carried in the hash)."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    return _hasher.hash(password)


def _user_named(session: Session, name: str) -> User | None:
    return session.scalars(select(User).where(User.name == name)).first()


def add_user(
    session: Session, *, name: str, role: str, now: datetime, password: str | None = None
) -> User:
    """A new person with a role, and a password when they will sign in to the pages."""
    if role not in ROLES:
        raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if not name or len(name) > 64 or not name.isprintable() or name != name.strip():
        raise ValueError("a user name needs 1 to 64 printable characters, no spaces at the ends")
    if _user_named(session, name) is not None:
        raise ValueError(f"user {name!r} exists already")
    user = User(
        name=name,
        role=role,
        created_at=now,
        password_hash=hash_password(password) if password is not None else None,
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, *, name: str, password: str) -> User:
    """Give the person a new password (hashed with argon2id)."""
    user = _user_named(session, name)
    if user is None:
        raise UnknownUser(f"no user {name!r}; add one with `homesafe users add`")
    user.password_hash = hash_password(password)
    session.flush()
    return user


def authenticate(session: Session, *, name: str, password: str) -> User | None:
    """The enabled user with that name and password, or None (same work either way)."""
    user = _user_named(session, name)
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.password_hash or user.disabled_at is not None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def create_token(session: Session, *, name: str, now: datetime) -> str:
    """A new bearer token for the user; the token itself is returned once and never stored."""
    user = _user_named(session, name)
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


def officer_names(session: Session) -> list[str]:
    """People a case may be assigned to: enabled officers, by name."""
    return list(
        session.scalars(
            select(User.name)
            .where(User.role == "officer", User.disabled_at.is_(None))
            .order_by(User.name)
        )
    )


def users(session: Session) -> list[User]:
    """Everyone, by name."""
    return list(session.scalars(select(User).order_by(User.name)))


# What each permission lets a person do, in words (for the page that refuses one).
PERMISSION_WORDS: dict[str, str] = {
    "cases:read": "see hazard cases",
    "cases:personal": "see tenants' names, contacts and reports",
    "households:needs": "see a household's needs",
    "cases:write": "record steps on cases",
    "cases:assign": "assign cases",
    "telemetry:read": "see sensor readings",
    "fleet:read": "see the sensor fleet",
    "audit:read": "check the audit log",
    "compliance:read": "see the compliance pages",
    "compliance:export": "download the compliance report",
    "compliance:excuse": "accept all reasonable endeavours for a breach",
    "repairs:read": "see repairs",
    "repairs:write": "raise and update repairs",
    "equity:read": "see the equity analysis",
    "transparency:read": "see the transparency page",
    "transparency:write": "publish on the transparency page",
    "households:read": "see household details",
    "registry:admin": "change the registry",
    "users:admin": "manage people and roles",
}
