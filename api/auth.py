"""Who may do what: roles, permissions, passwords and bearer tokens."""

from __future__ import annotations

import functools
import gzip
import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from prometheus_client import Counter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.models import ApiToken, SignInAttempt, User

log = logging.getLogger(__name__)

ROLES = ("officer", "compliance", "analyst", "admin", "viewer")

# Anyone, signed in or not, may do what needs `public` (health, the transparency page, sign-in).
PUBLIC = "public"

# The one table of who may do what. Every route declares one of these keys (see api.deps.require
# and api.deps.page_require); tests/integration/api/test_authorisation.py walks every route with
# every role, and with no credentials, against this table.
PERMISSIONS: dict[str, frozenset[str]] = {
    "cases:read": frozenset(ROLES),
    "cases:personal": frozenset({"officer", "compliance", "admin"}),
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
    "api:docs": frozenset(ROLES),
}

# Routes the framework adds itself (they take no dependencies), with the permission they need.
FRAMEWORK_ROUTES: dict[str, str] = {
    "/api/v1/openapi.json": PUBLIC,
    "/static": PUBLIC,
    "/static/swagger-ui": PUBLIC,
}

TOKEN_PREFIX = "hs_"
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024

# Sign-in throttling (docs/security.md): within a window, a name (known or not, so a lock tells
# nothing) with this many failures since its last success is refused, and so is a client address
# with this many failures across all names; nothing is recorded while refused, so the lock lifts
# one window after the last counted failure.
THROTTLE_WINDOW = timedelta(minutes=15)
ACCOUNT_FAILURES = 5
CLIENT_FAILURES = 20

# The 20,000 most common passwords (Royce Williams' list as shipped by Django, BSD licence:
# api/common-passwords.NOTICE.txt), read once from the package; nothing is fetched at run time.
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "common-passwords.txt.gz"

SIGN_IN_FAILURES = Counter(
    "homesafe_sign_in_failures_total",
    "Password sign-ins refused, by reason",
    ["reason"],
)

_hasher = PasswordHasher()  # argon2id, the library's RFC 9106 low-memory defaults
_DUMMY_HASH = _hasher.hash("no such user: spend the same time as a real check")


class UnknownUser(LookupError):
    """No such user."""


class PasswordRejected(ValueError):
    """The password is too short, too long or too easy to guess; the message says which."""


@functools.cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords, lower case."""
    text = gzip.decompress(COMMON_PASSWORDS_FILE.read_bytes()).decode()
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def _repeats(text: str) -> str:
    """The shortest unit the text repeats ('abcabc' → 'abc'; 'abcd' → 'abcd')."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return text


def check_password(password: str, *, name: str | None = None) -> None:
    """Raise PasswordRejected unless the password is long enough and not easy to guess: not on the
    common-password list (also with trailing digits and symbols removed, or repeated), not one
    character or word repeated, and not built on the person's user name."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise PasswordRejected(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise PasswordRejected(f"a password has at most {MAX_PASSWORD_CHARS} characters")
    lowered = password.lower()
    stem = lowered.rstrip("0123456789!@#$%^&*()-_=+.,;:?~ ")
    unit = _repeats(lowered)
    common = common_passwords()
    if lowered in common or stem in common or _repeats(stem) in common or unit in common:
        raise PasswordRejected("that password is on the list of common passwords: choose another")
    if len(set(lowered)) < 4 or len(unit) < 4:
        raise PasswordRejected("that password repeats too few characters: choose another")
    if name and len(name) >= 3 and name.lower() in lowered:
        raise PasswordRejected("a password must not contain the user name")


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
        raise PasswordRejected(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise PasswordRejected(f"a password has at most {MAX_PASSWORD_CHARS} characters")
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
    if password is not None:
        check_password(password, name=name)
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
    check_password(password, name=name)
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


def sign_in_throttled(session: Session, *, name: str, client: str, now: datetime) -> bool:
    """Whether a password sign-in for the name, or from the client, is refused for now."""
    since = now - THROTTLE_WINDOW
    last_success = session.scalar(
        select(func.max(SignInAttempt.at)).where(
            SignInAttempt.name == name, SignInAttempt.succeeded.is_(True)
        )
    )
    account_since = max(since, last_success) if last_success is not None else since
    account = session.scalar(
        select(func.count())
        .select_from(SignInAttempt)
        .where(
            SignInAttempt.name == name,
            SignInAttempt.succeeded.is_(False),
            SignInAttempt.at > account_since,
        )
    )
    if (account or 0) >= ACCOUNT_FAILURES:
        return True
    from_client = session.scalar(
        select(func.count())
        .select_from(SignInAttempt)
        .where(
            SignInAttempt.client == client,
            SignInAttempt.succeeded.is_(False),
            SignInAttempt.at > since,
        )
    )
    return (from_client or 0) >= CLIENT_FAILURES


def record_sign_in(
    session: Session, *, name: str, client: str, now: datetime, succeeded: bool
) -> None:
    """Keep the attempt for the throttle; a failure is also logged (never the password) and counted."""
    session.add(SignInAttempt(at=now, name=name[:64], client=client[:64], succeeded=succeeded))
    session.flush()
    if not succeeded:
        SIGN_IN_FAILURES.labels("wrong_password").inc()
        log.warning("sign-in failed for %r from %s", name, client)


def refuse_throttled(name: str, client: str) -> None:
    """Log and count a sign-in refused by the throttle."""
    SIGN_IN_FAILURES.labels("throttled").inc()
    log.warning("sign-in refused for %r from %s: too many failures", name, client)


def failed_sign_ins(session: Session, *, since: datetime) -> int:
    """How many password sign-ins failed since the time."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(SignInAttempt)
            .where(SignInAttempt.succeeded.is_(False), SignInAttempt.at >= since)
        )
        or 0
    )
