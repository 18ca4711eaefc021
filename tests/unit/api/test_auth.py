"""Roles and permissions as the brief sets them; argon2 passwords; time shown to people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.auth import PERMISSIONS, PUBLIC, ROLES, hash_password, may
from api.pages.render import duration, time_left, words
from api.pages.signin import safe_next

pytestmark = pytest.mark.unit


def test_only_analysts_and_admins_read_household_attributes():
    assert PERMISSIONS["households:read"] == {"analyst", "admin"}
    assert PERMISSIONS["equity:read"] == {"analyst", "admin"}


def test_viewers_read_cases_without_personal_data_and_change_nothing():
    assert may("viewer", "cases:read")
    assert not may("viewer", "cases:personal")
    writes = [
        p for p in PERMISSIONS if p.endswith((":write", ":assign", ":excuse", ":admin", ":export"))
    ]
    assert writes
    assert not any(may("viewer", p) for p in writes)


def test_compliance_reads_clocks_and_audit_accepts_excuses_and_exports():
    for permission in ("compliance:read", "audit:read", "compliance:excuse", "compliance:export"):
        assert may("compliance", permission)
    assert not may("compliance", "cases:write")


def test_officers_work_cases_and_repairs_only():
    assert may("officer", "cases:write")
    assert may("officer", "repairs:write")
    assert not may("officer", "audit:read")
    assert not may("officer", "users:admin")


def test_admin_may_do_everything_and_nobody_else_runs_users():
    # ...but speak as the residents' scrutiny panel: its requests, proposals and comments are
    # the panel's own (docs/residents.md).
    assert all(may("admin", p) for p in PERMISSIONS if p != "panel:ask")
    assert PERMISSIONS["panel:ask"] == {"panel"}
    assert PERMISSIONS["users:admin"] == {"admin"}
    assert all(roles <= set(ROLES) for roles in PERMISSIONS.values())


def test_the_panel_sees_scrutiny_and_the_public_page_never_a_case_or_personal_data():
    allowed = {p for p in PERMISSIONS if may("panel", p)}
    assert allowed == {"transparency:read", "account:self", "panel:read", "panel:ask"}


def test_no_credentials_get_only_public():
    assert may(None, PUBLIC)
    assert not any(may(None, p) for p in PERMISSIONS)
    assert not may("admin", "no:such-permission")


def test_passwords_are_argon2id_salted_and_long_enough():
    first, second = hash_password("a long enough password"), hash_password("a long enough password")
    assert first.startswith("$argon2id$")
    assert first != second
    with pytest.raises(ValueError, match="at least 12"):
        hash_password("short")


def test_time_left_reads_plainly():
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    assert time_left(now + timedelta(days=2, hours=3, minutes=5), now) == "2 days 3 h left"
    assert time_left(now + timedelta(minutes=45), now) == "45 min left"
    assert time_left(now - timedelta(hours=1, minutes=30), now) == "overdue by 1 h 30 min"
    assert duration(timedelta(days=1)) == "1 day 0 h"
    assert words("damp_and_mould") == "Damp and mould"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\\\evil", "", None]
)
def test_sign_in_never_redirects_off_site(target):
    assert safe_next(target) == "/"


def test_sign_in_returns_to_a_local_page():
    assert safe_next("/cases/3?x=1") == "/cases/3?x=1"
