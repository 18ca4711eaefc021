"""Audit checkpoints with HOMESAFE_AUDIT_KEY (issue 12): verify works with the key as the
settings give it (a string), production settings require the key, and verify says what it
could and could not prove (an emptied log, or a chain rewritten with its checkpoints, is never
called intact without a key)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from compliance import audit
from homesafe.cli import main
from homesafe.database import make_engine, make_sessionmaker
from tests.integration.api.site import Site, build_site

pytestmark = pytest.mark.integration

KEY = "an audit key of at least thirty-two characters"
AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    monkeypatch.setenv("HOMESAFE_DATABASE_URL", url)
    monkeypatch.setenv("HOMESAFE_TELEMETRY_URL", f"sqlite:///{tmp_path}/telemetry.db")
    monkeypatch.delenv("HOMESAFE_AUDIT_KEY", raising=False)
    monkeypatch.delenv("HOMESAFE_PRODUCTION", raising=False)
    assert main(["db", "upgrade"]) == 0
    return url


def _fill(url: str, entries: int, *, key: str | None) -> None:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        for n in range(entries):
            audit.append(
                session,
                at=AT + timedelta(minutes=n),
                actor="officer-1",
                action="case.access_failed",
                entity_type="case",
                entity_id=1,
                after={"attempts": n + 1},
            )
        audit.write_checkpoint(
            session, day=date(2026, 3, 2), now=AT, key=key.encode() if key else None
        )
    engine.dispose()


def test_cli_verify_with_the_key_from_the_environment_checks_signatures(env, monkeypatch, capsys):
    _fill(env, 4, key=KEY)
    monkeypatch.setenv("HOMESAFE_AUDIT_KEY", KEY)
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert "intact" in out
    assert "1 checkpoint(s) with valid signatures" in out
    monkeypatch.setenv("HOMESAFE_AUDIT_KEY", "another key, also thirty-two characters long")
    assert main(["audit", "verify"]) == 1
    assert "signature" in capsys.readouterr().out


def test_api_verify_with_the_key_answers_instead_of_500(tmp_path):
    site: Site = build_site(tmp_path)
    site.context.audit_key = KEY
    with site.context.sessions.begin() as session:
        audit.write_checkpoint(session, day=date(2026, 3, 2), now=AT, key=KEY)
    answer = site.client("compliance", bearer=True).get("/api/v1/audit/verify")
    assert answer.status_code == 200
    body = answer.json()
    assert body["ok"] is True
    assert body["signed"] is True
    assert body["not_proven"]  # it says what a signature cannot prove


@pytest.mark.usefixtures("env")
def test_without_a_key_an_emptied_log_is_not_called_intact(capsys):
    assert main(["audit", "verify"]) == 3
    out = capsys.readouterr().out
    assert "intact" not in out
    assert "no key" in out.lower()
    assert "emptied" in out


def test_without_a_key_a_consistent_rewrite_is_reported_as_unproven(env, capsys):
    _fill(env, 3, key=None)
    # A forger with the database rewrites the whole chain and its checkpoint consistently.
    engine = make_engine(env)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_checkpoint"))
    engine.dispose()
    assert main(["audit", "verify"]) == 3
    out = capsys.readouterr().out
    assert "consistent" in out
    assert "rewritten" in out


@pytest.mark.usefixtures("env")
def test_an_emptied_log_with_the_key_says_it_cannot_be_told_from_a_new_one(monkeypatch, capsys):
    monkeypatch.setenv("HOMESAFE_AUDIT_KEY", KEY)
    assert main(["audit", "verify"]) == 3
    assert "emptied" in capsys.readouterr().out


@pytest.mark.usefixtures("env")
def test_production_settings_require_a_long_audit_key(monkeypatch, capsys):
    monkeypatch.setenv("HOMESAFE_PRODUCTION", "true")
    monkeypatch.setenv("HOMESAFE_GATEWAY_KEY", "g" * 40)
    assert main(["audit", "verify"]) == 2
    assert "HOMESAFE_AUDIT_KEY" in capsys.readouterr().err
    monkeypatch.setenv("HOMESAFE_AUDIT_KEY", "short")
    assert main(["audit", "verify"]) == 2
    assert "HOMESAFE_AUDIT_KEY" in capsys.readouterr().err


def test_the_compliance_page_checks_signatures_too(tmp_path):
    site = build_site(tmp_path)
    site.context.audit_key = KEY
    with site.context.sessions.begin() as session:
        audit.write_checkpoint(session, day=date(2026, 3, 2), now=AT, key=KEY)
    page = site.client("compliance").get("/compliance")
    assert page.status_code == 200
    status = re.search(r'id="chain-status">(.*?)</p>', page.text, re.S).group(1)
    assert "1 signed checkpoint" in status
    site.context.audit_key = None
    status = re.search(
        r'id="chain-status">(.*?)</p>', site.client("compliance").get("/compliance").text, re.S
    ).group(1)
    assert "Intact" not in status
