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

from api.models import ApiToken, SignInAttempt, User, WebSession
from registry.clock import utc_now

log = logging.getLogger(__name__)

# Staff roles, and the scrutiny panel: residents (not staff) who scrutinise the service. A panel
# member sees what is published, at the most detail the suppression rules allow, and anonymised
# deep dives (docs/residents.md); never a case, a name, a contact, an address, a report's words
# or special-category data.
STAFF_ROLES = ("officer", "compliance", "analyst", "admin", "viewer")
PANEL = "panel"
ROLES = (*STAFF_ROLES, PANEL)

# Anyone, signed in or not, may do what needs `public` (health, the transparency page, sign-in).
PUBLIC = "public"

# The one table of who may do what. Every route declares one of these keys (see api.deps.require
# and api.deps.page_require); tests/integration/api/test_authorisation.py walks every route with
# every role, and with no credentials, against this table.
PERMISSIONS: dict[str, frozenset[str]] = {
    "cases:read": frozenset(STAFF_ROLES),
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
    "api:docs": frozenset(STAFF_ROLES),
    "account:self": frozenset(ROLES),
    # The damp and mould data model exports and TSM (personal data in them only with cases:personal).
    "interop:export": frozenset({"compliance", "admin"}),
    # Other systems' references to cases, homes, tenancies and work orders: found by staff who work them.
    "interop:references": frozenset({"officer", "compliance", "admin"}),
    # Writing from other systems: references, work-order updates, the data-model import.
    "interop:import": frozenset({"admin"}),
    # Scrutiny (docs/residents.md): the panel's pages, read by the panel and by the staff who
    # answer it; asking for a deep dive, proposing a KPI and commenting are the panel's own;
    # answering, publishing KPIs and their periods (with the explanation of a miss) the landlord's.
    "panel:read": frozenset({PANEL, "compliance", "admin"}),
    "panel:ask": frozenset({PANEL}),
    "panel:answer": frozenset({"compliance", "admin"}),
    # Residents' feedback with its free text and operatives' names, for staff who act on it.
    "feedback:read": frozenset({"officer", "compliance", "admin"}),
}

# Routes the framework adds itself (they take no dependencies), with the permission they need.
FRAMEWORK_ROUTES: dict[str, str] = {
    "/api/v1/openapi.json": PUBLIC,
    "/static": PUBLIC,
    "/static/swagger-ui": PUBLIC,
}

TOKEN_PREFIX = "hs_"
TOKEN_LIFETIME = timedelta(days=90)  # `homesafe tokens create NAME --days N` for another
MAX_TOKEN_DAYS = 730
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024

# Sign-in throttling (docs/security.md): within a window, a name (known or not, so a lock tells
# nothing) with this many failures since its last success is refused, and so is a client address
# with this many failures across all names; nothing is recorded while refused, so the lock lifts
# one window after the last counted failure.
THROTTLE_WINDOW = timedelta(minutes=15)
PASSWORD = "password"  # SignInAttempt.method of a password sign-in (the throttle counts only these)
OIDC = "oidc"  # ... and of one through the identity provider
ACCOUNT_FAILURES = 5
CLIENT_FAILURES = 20

# The 20,000 most common passwords (Royce Williams' list as shipped by Django, BSD licence:
# api/common-passwords.NOTICE.txt), read once from the package; nothing is fetched at run time.
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "common-passwords.txt.gz"

SIGN_IN_FAILURES = Counter(
    "homesafe_sign_in_failures_total",
    "Sign-ins refused (password and identity provider), by reason",
    ["reason"],
)

_hasher = PasswordHasher()  # argon2id, the library's RFC 9106 low-memory defaults
_DUMMY_HASH = _hasher.hash("no such user: spend the same time as a real check")


class UnknownUser(LookupError):
    """No such user."""


class UnknownToken(LookupError):
    """No single token answers to the given prefix or id."""


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


def end_sessions(
    session: Session, *, user_id: int, now: datetime, keep_token_hash: str | None = None
) -> int:
    """End every live browser session of the person (but the one kept); how many ended."""
    rows = session.scalars(
        select(WebSession).where(
            WebSession.user_id == user_id,
            WebSession.ended_at.is_(None),
            WebSession.expires_at > now,
        )
    ).all()
    ended = 0
    for row in rows:
        if row.token_hash != keep_token_hash:
            row.ended_at = now
            ended += 1
    session.flush()
    return ended


def set_password(
    session: Session,
    *,
    name: str,
    password: str,
    now: datetime | None = None,
    keep_token_hash: str | None = None,
) -> User:
    """Give the person a new password (hashed with argon2id); every browser session of theirs
    ends (but the one kept, when the person changes their own password while signed in)."""
    user = _user_named(session, name)
    if user is None:
        raise UnknownUser(f"no user {name!r}; add one with `homesafe users add`")
    if user.external:
        raise ValueError(f"{name} signs in through the identity provider and has no password here")
    check_password(password, name=name)
    user.password_hash = hash_password(password)
    end_sessions(session, user_id=user.id, now=now or utc_now(), keep_token_hash=keep_token_hash)
    session.flush()
    return user


def set_disabled(session: Session, *, name: str, disabled: bool, now: datetime) -> User:
    """Disable the person (sessions end; tokens and sign-in refused) or enable them again."""
    user = _user_named(session, name)
    if user is None:
        raise UnknownUser(f"no user {name!r}")
    if disabled:
        if user.disabled_at is None:
            user.disabled_at = now
        end_sessions(session, user_id=user.id, now=now)
    else:
        user.disabled_at = None
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


def external_user(session: Session, *, issuer: str, subject: str) -> User | None:
    """The person linked to the identity provider's (issuer, subject), if any (never by name)."""
    return session.scalars(
        select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject)
    ).first()


def add_external_user(
    session: Session, *, issuer: str, subject: str, name_hint: str, role: str, now: datetime
) -> User:
    """A new person who signs in through the identity provider (no password). Their name is the
    provider's user name, or, when a local account or someone else already has it, that name with
    a short tag of their identity, so no one ever signs in as another."""
    if role not in ROLES:
        raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
    name = name_hint.strip()[:64] or "sso"
    if _user_named(session, name) is not None:
        tag = hashlib.sha256(f"{issuer} {subject}".encode()).hexdigest()[:8]
        name = f"{name[:55]}-{tag}"
        if _user_named(session, name) is not None:
            raise ValueError(f"user {name!r} exists already")
    user = User(
        name=name,
        role=role,
        created_at=now,
        password_hash=None,
        oidc_issuer=issuer,
        oidc_subject=subject,
    )
    session.add(user)
    session.flush()
    return user


class ExternalRefused(Exception):
    """The identity provider signed the person in, but Homesafe does not let them in: ``reason``
    is `oidc_no_role` or `oidc_disabled`; ``name`` is who, for the sign-in record."""

    def __init__(self, reason: str, name: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.name = name


def admit_external_user(
    session: Session, *, issuer: str, subject: str, name_hint: str, role: str | None, now: datetime
) -> User:
    """The person the identity provider signed in, with the role their groups give (``role``;
    None when no group maps to one): found by (issuer, subject), made on first sign-in, their
    role set to follow their groups. ExternalRefused without a role (nothing is made, and a known
    person's sessions end) or when disabled here."""
    user = external_user(session, issuer=issuer, subject=subject)
    if role is None:
        if user is not None:
            end_sessions(session, user_id=user.id, now=now)
        raise ExternalRefused("oidc_no_role", user.name if user is not None else name_hint)
    if user is None:
        user = add_external_user(
            session, issuer=issuer, subject=subject, name_hint=name_hint, role=role, now=now
        )
        log.info("new person %r from the identity provider, role %s", user.name, role)
    elif user.disabled_at is not None:
        raise ExternalRefused("oidc_disabled", user.name)
    elif user.role != role:
        log.info("%r's role follows their groups: %s → %s", user.name, user.role, role)
        user.role = role
        session.flush()
    return user


def create_token(
    session: Session, *, name: str, now: datetime, lifetime: timedelta = TOKEN_LIFETIME
) -> str:
    """A new bearer token for the user, valid for ``lifetime``; the token itself is returned once
    and never stored."""
    user = _user_named(session, name)
    if user is None:
        raise UnknownUser(f"no user {name!r}; add one with `homesafe users add`")
    if not timedelta(0) < lifetime <= timedelta(days=MAX_TOKEN_DAYS):
        raise ValueError(f"a token lasts 1 to {MAX_TOKEN_DAYS} days")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=hash_token(token),
            prefix=token[:10],
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return token


def token_expiry(row: ApiToken) -> datetime:
    """When the token stops working (tokens made before expiry existed: a lifetime from creation)."""
    return row.expires_at or row.created_at + TOKEN_LIFETIME


def user_for_token(session: Session, token: str, *, now: datetime | None = None) -> User | None:
    """The enabled person whose live (unrevoked, unexpired) token this is, or None."""
    found = session.execute(
        select(User, ApiToken)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
    ).first()
    if found is None:
        return None
    user, row = found
    if user.disabled_at is not None or token_expiry(row) <= (now or utc_now()):
        return None
    return user


def tokens(session: Session, *, name: str | None = None) -> list[tuple[ApiToken, str]]:
    """Tokens (all, or the person's) with their owners' names, newest first."""
    query = select(ApiToken, User.name).join(User, ApiToken.user_id == User.id)
    if name is not None:
        query = query.where(User.name == name)
    return [
        (row, owner)
        for row, owner in session.execute(query.order_by(ApiToken.created_at.desc())).all()
    ]


def revoke_token(
    session: Session, *, prefix: str | None = None, token_id: int | None = None, now: datetime
) -> ApiToken:
    """Revoke one token, named by its printed prefix or its id; UnknownToken if none or several."""
    query = select(ApiToken)
    if token_id is not None:
        query = query.where(ApiToken.id == token_id)
    elif prefix:
        query = query.where(ApiToken.prefix == prefix[:10])
    else:
        raise UnknownToken("name a token by its prefix (shown by `homesafe tokens list`)")
    rows = session.scalars(query).all()
    if len(rows) != 1:
        raise UnknownToken(
            f"no token {prefix or token_id!r}"
            if not rows
            else f"{len(rows)} tokens start {prefix!r}"
        )
    if rows[0].revoked_at is None:
        rows[0].revoked_at = now
    session.flush()
    return rows[0]


def sign_in_throttled(session: Session, *, name: str, client: str, now: datetime) -> bool:
    """Whether a password sign-in for the name, or from the client, is refused for now."""
    since = now - THROTTLE_WINDOW
    last_success = session.scalar(
        select(func.max(SignInAttempt.at)).where(
            SignInAttempt.name == name,
            SignInAttempt.succeeded.is_(True),
            SignInAttempt.method == PASSWORD,
        )
    )
    account_since = max(since, last_success) if last_success is not None else since
    account = session.scalar(
        select(func.count())
        .select_from(SignInAttempt)
        .where(
            SignInAttempt.name == name,
            SignInAttempt.succeeded.is_(False),
            SignInAttempt.method == PASSWORD,
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
            SignInAttempt.method == PASSWORD,
            SignInAttempt.at > since,
        )
    )
    return (from_client or 0) >= CLIENT_FAILURES


def record_sign_in(
    session: Session,
    *,
    name: str,
    client: str,
    now: datetime,
    succeeded: bool,
    method: str = PASSWORD,
    reason: str = "wrong_password",
) -> None:
    """Keep the attempt (password attempts feed the throttle); a failure is also logged (never the
    password) and counted by reason."""
    session.add(
        SignInAttempt(
            at=now, name=name[:64], client=client[:64], succeeded=succeeded, method=method
        )
    )
    session.flush()
    if not succeeded:
        SIGN_IN_FAILURES.labels(reason).inc()
        log.warning("%s sign-in failed for %r from %s: %s", method, name, client, reason)


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
    "api:docs": "read the API documentation",
    "account:self": "change your own password",
    "panel:read": "see the scrutiny panel's pages",
    "panel:ask": "ask for a deep dive, propose a KPI or comment as the scrutiny panel",
    "panel:answer": "answer the scrutiny panel and publish KPIs",
    "feedback:read": "read residents' feedback in full",
}
